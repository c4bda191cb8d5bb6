"""The ``backprop-studio`` console entry point.

Headless subcommands (``run``, ``gradcheck``, ``templates``, ``train``, ``download``, ``lab``,
``export``, ``import``, ``import-weights``) go
to :func:`graph.cli.main.main` and never import Qt; everything else (no arguments,
``open FILE``, ``--screenshot PNG``, ``--steps N`` ...) opens the editor.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HEADLESS = ("run", "gradcheck", "templates", "train", "download", "lab", "export", "import", "import-weights")
# editor options that take a value (the value is not a file or template name)
_GUI_VALUE_OPTIONS = ("--screenshot", "--size", "--steps", "--select")


def _gui_target(argv: list[str]) -> str | None:
    """The file or template the editor would open (the first word, after an optional ``open``)."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GUI_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    if words and words[0] == "open":
        words = words[1:]
    return words[0] if words else None


def unknown_word(argv: list[str]) -> str | None:
    """A bare word that is neither a subcommand, an existing file, a file name nor a template.

    Mirrors how the editor reads its argument: a path that exists, ends in ``.json`` or has
    a folder in it is a file (a missing one is reported in the window); anything else must be
    a template name.
    """
    target = _gui_target(argv)
    if target is None:
        return None
    path = Path(target)
    if path.exists() or path.suffix.lower() == ".json" or "/" in target or "\\" in target:
        return None
    from graph import templates  # noqa: PLC0415 - Qt-free

    return None if target in templates.names() else target


def no_display_message(env=None, platform: str | None = None) -> str | None:
    """One line explaining how to run without a screen, when the editor could not open one.

    On Linux Qt needs ``DISPLAY`` (X11) or ``WAYLAND_DISPLAY``; without either it aborts
    with a message about the xcb plugin. Other platforms, or an explicit
    ``QT_QPA_PLATFORM`` (offscreen, vnc ...), always get ``None``.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM", "").split(":")[0] not in ("", "xcb", "wayland"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("backprop-studio: error: no display found (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Without a screen, use the command line (backprop-studio run|gradcheck|train ..., see --help) "
            "or render the window to a file: QT_QPA_PLATFORM=offscreen backprop-studio apple "
            "--screenshot apple.png")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the headless CLI or the GUI; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in HEADLESS or argv[0] in ("-h", "--help")):
        from graph.cli.main import main as cli_main  # noqa: PLC0415 - keeps GUI start-up free of CLI imports
        from graph.run.perf import tune_process  # noqa: PLC0415

        tune_process()  # the process-wide speed settings, here and not in the library
        return cli_main(argv)
    word = unknown_word(argv)
    if word is not None:
        from graph import templates  # noqa: PLC0415

        print(f"backprop-studio: error: unknown command or file {word!r} (commands: "
              f"{', '.join((*HEADLESS, 'open'))}; templates: {', '.join(templates.names())})", file=sys.stderr)
        return 2
    problem = no_display_message()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    from app import gui_main  # noqa: PLC0415 - Qt is imported only when the editor opens

    # gui_main.run tunes the process (graph.run.perf.tune_process) once its window is built
    return int(gui_main.run(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
