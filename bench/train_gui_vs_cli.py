"""A full run from the GUI against the CLI with the same seed: both must reach the same
test accuracy.

The GUI side opens ``simple_convnet`` in the editor (offscreen), sets the Training dock to
mnist-10k, 10 epochs, batch 100, Adam, lr 0.001, seed 0, and clicks Start; the worker
thread runs the same :class:`graph.training.trainer.Trainer` the CLI runs. With ``--cli`` the
command ::

    backprop-studio train simple_convnet --dataset mnist-10k --epochs 10 --batch-size 100 \\
        --optimizer adam --lr 0.001 --seed 0 --json

runs afterwards in a subprocess (``python -m app``: the same entry point). Prints both
figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m bench.train_gui_vs_cli [--epochs 10] [--cli]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-bench-"))

from PySide6 import QtCore  # noqa: E402

from app.gui_main import _make_app  # noqa: E402
from app.main_window import MainWindow  # noqa: E402


def gui_run(epochs: int, seed: int) -> dict:
    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    panel = window.training
    window.show()
    window.open_template("simple_convnet", ask=False)
    s = panel.settings
    assert s.load("mnist-10k")
    s.epochs.setValue(epochs)
    s.batch_size.setValue(100)
    s.optimizer.setCurrentIndex(s.optimizer.findData("adam"))
    s.lr.setValue(0.001)
    s.seed.setValue(seed)
    s.schedule.setCurrentText("constant")
    app.processEvents()
    loop = QtCore.QEventLoop()
    panel.run_ended.connect(lambda _outcome: loop.quit())
    t0 = time.perf_counter()
    panel.dock.start_button.click()
    loop.exec()
    result = dict(panel.last_result or {})
    result["wall_s"] = time.perf_counter() - t0
    result["outcome"] = panel.outcome
    window.document.undo_stack.setClean()
    window.recovery.discard()
    window.close()
    return result


def cli_run(epochs: int, seed: int) -> dict:
    out = tempfile.mkdtemp(prefix="bps-cli-run-")
    cmd = [sys.executable, "-m", "app", "train", "simple_convnet", "--dataset", "mnist-10k",
           "--epochs", str(epochs), "--batch-size", "100", "--optimizer", "adam", "--lr", "0.001",
           "--seed", str(seed), "--json", "--quiet", "--out", out]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip() or f"exit status {proc.returncode}"}
    result = json.loads(proc.stdout)
    result["wall_s"] = time.perf_counter() - t0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli", action="store_true", help="also run the CLI and compare")
    args = parser.parse_args()
    g = gui_run(args.epochs, args.seed)
    print(f"GUI: outcome {g.get('outcome')}, test accuracy {g.get('test_accuracy')}, "
          f"val {g.get('val_accuracy')}, best epoch {g.get('best_epoch')}, {g['wall_s']:.1f} s", flush=True)
    if args.cli:
        c = cli_run(args.epochs, args.seed)
        if "error" in c:
            print(f"CLI failed: {c['error']}")
            return 1
        print(f"CLI: test accuracy {c.get('test_accuracy')}, val {c.get('val_accuracy')}, "
              f"best epoch {c.get('best_epoch')}, {c['wall_s']:.1f} s")
        same = g.get("test_accuracy") == c.get("test_accuracy")
        print(f"same test accuracy: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
