"""Screenshots of every lab in the app (offscreen): each panel run through its own Start button.

Opens the editor, shows each lab's tab in the Labs dock, sets the settings below (the
book's, shortened where a full run takes minutes), runs it in the panel's worker thread
and grabs the Labs dock. Also grabs the Compare runs tab with the overfit runs. Prints
the paths; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m bench.screenshot_labs [--out resources/screenshots] [--only race,init]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-shot-"))

from PySide6 import QtCore  # noqa: E402

from app.gui_main import _make_app  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402
from app.main_window import MainWindow  # noqa: E402

# settings per lab: the book's, with fewer iterations/trials where the full run takes minutes
SETTINGS = {
    "race": {},
    "optimizers": {},
    "init": {"activation": "sigmoid"},
    "init-train": {"iterations": "2000"},
    "batchnorm": {},
    "overfit": {},
    "search": {"trials": "40", "epochs": "20"},
}


def run(app, panel, values: dict) -> None:
    for name, value in values.items():
        panel.form.set_value(name, value)
    done = []
    panel.result_ready.connect(done.append)
    panel.start()
    t0 = time.monotonic()
    while not done and time.monotonic() - t0 < 900:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    while panel.running:
        app.processEvents()
    for _ in range(10):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "resources" / "screenshots"))
    parser.add_argument("--size", default="1500x1000")
    parser.add_argument("--only", default="", help="comma-separated labs (default: all)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))
    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    window.resize(width, height)
    window.show()
    tune_process()  # as app/gui_main.py does once its window is built
    dock = window.labs.dock
    names = [n for n in SETTINGS if not args.only or n in args.only.split(",")]
    # floating at a fixed size, so every screenshot has the same readable layout
    dock.setFloating(True)
    dock.resize(1280, 760)
    for name in names:
        panel = dock.show_lab(name)
        dock.resize(1280, 760)
        run(app, panel, SETTINGS[name])
        if name == "search":
            panel.table.selectRow(0)
        if name == "race":
            panel.slider.setValue(panel.slider.maximum())
        app.processEvents()
        path = out / f"lab_{name.replace('-', '_')}.png"
        dock.grab().save(str(path))
        print(path)
        print("\n".join("    " + line for line in panel.result.summary))
    if "overfit" in names and "init-train" in names:
        comparison = window.labs.show_comparison()
        views = window.training.views
        views.setFloating(True)
        views.resize(1280, 620)
        # the three initialisations and the two weight decays, validation accuracy per epoch
        comparison.set_all(False)
        for rec in window.labs.runs.records:
            comparison.set_shown(rec.id, rec.source in ("init-train", "overfit"))
        comparison.accuracy.setCurrentText("val_acc")
        for _ in range(10):
            app.processEvents()
        path = out / "lab_compare_runs.png"
        views.grab().save(str(path))
        print(path)
    for panel in dock.panels.values():
        panel.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
