"""The headless command line: ``run``, ``gradcheck``, ``templates``, ``train``, ``download``, ``lab``,
``export``, ``import``, ``import-weights``.

``main(argv)`` returns the exit status: 0 on success, 1 when ``gradcheck`` finds a
gradient off by more than its tolerance or a NaN/Inf stopped ``train``, 2 for a user error, which is printed as one line
on stderr (``backprop-studio: error: ...``) without a traceback. Set
``BACKPROP_STUDIO_DEBUG=1`` to get the traceback anyway.
"""
from __future__ import annotations

import os
import re
import sys

from graph.model import limits
from graph.model.errors import GraphError
from graph.run.backend import BackendError

from graph.cli import exchange, inspect_commands, lab, train
from graph.cli.common import PROG, Parser, UsageError

GUI_HELP = ("Without a subcommand the editor opens: backprop-studio [open TEMPLATE_OR_FILE] "
            "[--screenshot PNG] [--steps N].")

COMMANDS = {
    "run": inspect_commands.cmd_run,
    "gradcheck": inspect_commands.cmd_gradcheck,
    "templates": inspect_commands.cmd_templates,
    "train": train.run_train,
    "download": train.run_download,
    "lab": lab.run_lab,
    "export": exchange.cmd_export,
    "import": exchange.cmd_import,
    "import-weights": exchange.cmd_import_weights,
}


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="See backpropagation: run, check and train computation graphs.",
                    epilog=GUI_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    inspect_commands.add_parsers(sub)
    train.add_train_parser(sub)
    train.add_download_parser(sub)
    lab.add_lab_parser(sub)
    exchange.add_parsers(sub)
    return parser


def _dispatch(args) -> int:
    limits.override(max_elements=getattr(args, "max_elements", None),
                    max_file_bytes=getattr(args, "max_file_bytes", None))
    command = COMMANDS.get(args.command)
    if command is None:
        *first, last = COMMANDS
        raise UsageError(f"choose a command: {', '.join(first)} or {last}")
    return int(command(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help, or a usage error already printed in one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``run ... | head``): not an error worth a message; point
        # stdout at devnull so the interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError as exc:
        if os.environ.get("BACKPROP_STUDIO_DEBUG"):
            raise
        print(f"{PROG}: error: {_memory_message(exc)}", file=sys.stderr)
        return 2
    except (GraphError, BackendError, OSError, ValueError) as exc:
        if os.environ.get("BACKPROP_STUDIO_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _memory_message(exc: MemoryError) -> str:
    """One line for an allocation that failed, naming the array when NumPy says which."""
    m = re.search(r"allocate (\S+ \S+) for an array with shape (\([^)]*\))", str(exc))
    what = f"an array of {m.group(1)} with shape {m.group(2)}" if m else "the arrays of this graph"
    return f"not enough memory for {what} (reduce the layer sizes or batch)"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    from graph.run.perf import tune_process

    tune_process()  # run directly: the process-wide speed settings app/entry.py would apply
    sys.exit(main())
