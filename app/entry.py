"""The ``backprop-studio`` console entry point.

Headless subcommands (``run``, ``gradcheck``, ``templates``, ``train``, ``download``) go
to :func:`graph.cli.main` and never import Qt; everything else (no arguments,
``open FILE``, ``--screenshot PNG``, ``--steps N`` ...) opens the editor.
"""
from __future__ import annotations

import importlib
import sys

HEADLESS = ("run", "gradcheck", "templates", "train", "download")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the headless CLI or the GUI; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in HEADLESS or argv[0] in ("-h", "--help")):
        from graph.cli import main as cli_main  # noqa: PLC0415 - keeps GUI start-up free of CLI imports

        return cli_main(argv)
    try:
        # Qt is imported only when the editor opens
        gui_main = importlib.import_module("app.gui_main")
    except ModuleNotFoundError as exc:
        if exc.name != "app.gui_main":
            raise
        print("backprop-studio: error: the editor is not built yet", file=sys.stderr)
        return 2
    return int(gui_main.run(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
