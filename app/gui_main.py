"""Start the editor: ``backprop-studio [open] [FILE_OR_TEMPLATE] [--screenshot PNG] [--size WxH]``.

:func:`run` is what :mod:`app.entry` calls for anything that is not a headless
subcommand. Unknown options are ignored with a note in the message log. ``--steps N``
replays N backprop steps once the graph is loaded (:func:`app.stepping.cli_hook.apply_steps`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.run.perf import tune_allocator, tune_process

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-studio",
        description="Backprop Studio: build computation graphs, step backpropagation, train small CNNs.")
    parser.add_argument("target", nargs="*", metavar="[open] FILE_OR_TEMPLATE",
                        help="a graph file to open, or the name of a built-in example (e.g. apple)")
    parser.add_argument("--screenshot", metavar="PNG", help="render the window to PNG after loading, then exit")
    parser.add_argument("--size", metavar="WxH", help="window size, e.g. 1400x860")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="replay N backprop steps after loading (used by the step view)")
    parser.add_argument("--select", metavar="NODE", action="append", default=[],
                        help="select NODE after loading (the inspector shows it); repeatable")
    parser.add_argument("--no-recovery", action="store_true", help="do not offer to restore a crashed session")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the editor's options; unknown ones are kept in ``options.extra``."""
    opts, extra = build_parser().parse_known_args(argv)
    targets = list(opts.target)
    if targets and targets[0] == "open":
        targets = targets[1:]
    opts.file = targets[0] if targets else None
    opts.extra = extra + targets[1:]
    opts.size_wh = None
    if opts.size:
        try:
            w, h = (int(v) for v in opts.size.lower().split("x"))
            opts.size_wh = (max(w, 400), max(h, 300))
        except ValueError:
            opts.extra.append(f"--size {opts.size}")
    return opts


def _make_app():
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - Qt only when the editor opens

    from .style import stylesheet  # noqa: PLC0415

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "backprop-studio"])
        app.setStyle("Fusion")
    app.setApplicationName("Backprop Studio")
    app.setOrganizationName("BackpropStudio")
    app.setApplicationDisplayName("Backprop Studio")
    sheet = stylesheet()
    if app.styleSheet() != sheet:  # re-polishing every widget is slow; only when it changes
        app.setStyleSheet(sheet)
    return app


def load_target(window, target: str) -> bool:
    """Open ``target`` as a file if it exists or looks like one, else as an example name."""
    from graph import templates  # noqa: PLC0415

    path = Path(target)
    if path.exists() or path.suffix.lower() == ".json" or "/" in target or "\\" in target:
        return window.load_path(str(path))
    if target in templates.names():
        return window.open_template(target, ask=False)
    window.show_error("Open failed", f"{target!r} is neither a graph file nor an example "
                                     f"(examples: {', '.join(templates.names())})")
    return False


def select_nodes(window, ids: list[str]) -> None:
    """Select the nodes named on the command line; unknown ids are logged."""
    known = [i for i in ids if i in window.scene.nodes]
    for missing in sorted(set(ids) - set(known)):
        window.log.message(f"--select: no node {missing!r} in this graph", "warning")
    if known:
        window.scene.select_nodes(known)


def save_screenshot(window, path: str) -> bool:
    """Render ``window`` (works on the offscreen platform) into a PNG at ``path``."""
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    for _ in range(3):
        QApplication.processEvents()
    image = window.grab()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return image.save(str(path), "PNG")


def _after_load(window, opts) -> None:
    """What the command line asks for once the graph is open: ``--steps N``."""
    if opts.steps is not None:
        from .stepping import cli_hook  # noqa: PLC0415 - Qt only when the editor opens

        cli_hook.apply_steps(window, opts.steps)


def run(argv: list[str]) -> int:
    """Open the editor window; returns the process exit status."""
    opts = parse_args(list(argv))
    tune_allocator()   # before Qt starts its threads; the rest once the window is built (below)
    app = _make_app()
    from PySide6.QtCore import QCoreApplication, QEvent, QTimer  # noqa: PLC0415

    from .main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=opts.screenshot is None)
    if opts.size_wh:
        window.resize(*opts.size_wh)
    for item in opts.extra:
        window.log.message(f"ignored unknown option or argument: {item}", "warning")
    if opts.screenshot:
        window.quiet = True
        window.show()
        app.processEvents()
        ok = load_target(window, opts.file) if opts.file else True
        app.processEvents()
        window.view.fit_readable()
        select_nodes(window, opts.select)
        _after_load(window, opts)
        if not save_screenshot(window, opts.screenshot):
            print(f"backprop-studio: error: could not write {opts.screenshot}", file=sys.stderr)
            return 1
        if not ok:
            print(f"backprop-studio: error: {window.log.last('error')}", file=sys.stderr)
        window.recovery.discard()
        window.hide()
        window.deleteLater()
        return 0 if ok else 2

    def start() -> None:
        restored = False if opts.no_recovery else window.offer_recovery()
        if opts.file and not restored:
            load_target(window, opts.file)
            select_nodes(window, opts.select)
        _after_load(window, opts)

    window.show()
    QTimer.singleShot(0, start)
    # The process-wide speed settings, once; after the window is built so gc.freeze()
    # moves its widgets out of the collections that run while a training run allocates.
    tune_process()
    status = int(app.exec())
    # Delete the window while Qt and Python are both alive: left to interpreter shutdown,
    # pyqtgraph's scenes were torn down after Python's objects and the process could
    # segfault on its way out (seen after a training run).
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return status
