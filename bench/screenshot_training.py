"""Screenshots of training in the app: the window mid-run and the learned filters.

Opens ``simple_convnet`` in the editor (offscreen), trains it on ``mnist-10k`` in process
through the Training dock (Adam 1e-3, batch 100, seed 0), grabs the whole window during
the second epoch, lets the run finish, then grabs the filter viewer (before training vs
trained) and the results tab. Prints the paths; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m bench.screenshot_training [--epochs 3] [--out resources/screenshots]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-shot-"))

from PySide6 import QtCore  # noqa: E402

from app.gui_main import _make_app  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402


def settle(app, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--mid-iterations", type=int, default=40,
                        help="iterations into the second epoch at which the window is grabbed")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "resources" / "screenshots"))
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))

    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    panel = window.training
    window.resize(width, height)
    window.show()
    tune_process()  # as app/gui_main.py does once its window is built
    window.open_template("simple_convnet", ask=False)
    settle(app)
    panel.settings.load("mnist-10k")
    panel.settings.epochs.setValue(args.epochs)
    panel.settings.seed.setValue(0)
    settle(app)

    per_epoch = panel.settings.iterations_per_epoch()
    grab_at = per_epoch + args.mid_iterations
    grabbed = {}

    def on_progress(p: dict) -> None:
        # the bar repaints 4 times a second: grab when it shows this report's iteration
        current = panel.dock.progress.value() == p["iteration"]
        if "training" not in grabbed and p["iteration"] >= grab_at and current:
            settle(app, 3)   # rows queued with this report (an epoch's end) reach the views first
            panel.views.curves.redraw()
            window.view.fit_readable()  # a fitted 9-node chain is too small to read
            settle(app, 3)
            path = out / "training.png"
            grabbed["training"] = window.grab().save(str(path), "PNG") and path

    loop = QtCore.QEventLoop()
    panel.run_ended.connect(lambda _outcome: loop.quit())
    panel.progressed.connect(on_progress)
    panel.start(fresh=True)
    loop.exec()
    settle(app)

    # the views dock shares the bottom area with other docks: float it at a readable size
    views = panel.views
    views.setFloating(True)
    views.resize(1100, 560)
    views.tabs.setCurrentWidget(views.filters)
    settle(app, 8)
    path = out / "filters.png"
    grabbed["filters"] = views.grab().save(str(path), "PNG") and path
    views.tabs.setCurrentWidget(views.results)
    views.resize(1100, 640)
    settle(app, 8)
    path = out / "training_results.png"
    grabbed["results"] = views.grab().save(str(path), "PNG") and path
    views.setFloating(False)
    result = panel.last_result or {}
    print(f"outcome: {panel.outcome}; test accuracy {result.get('test_accuracy')}")
    for name, p in grabbed.items():
        print(f"{name}: {p or 'FAILED'}")
    window.document.undo_stack.setClean()
    window.recovery.discard()
    window.close()
    return 0 if all(grabbed.values()) and len(grabbed) == 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
