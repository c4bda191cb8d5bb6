"""How long the GUI thread goes without handling its events while a run trains.

Opens ``simple_convnet`` in the editor (offscreen), starts a short run on mnist-10k
(``--iterations``, default 40) with the Training views shown, and ticks a 10 ms timer on
the GUI thread from Start until the run has ended. Prints the tick count and the longest
gap between ticks, overall and after the first ``--grace`` seconds (the run's start-up:
the worker builds the trainer and scales the dataset while the GUI builds the filter
rows). The target is a longest steady-state gap under 100 ms; the test suite checks
only that the GUI keeps handling events (tests/test_gui_training.py), not how fast.
Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m bench.gui_heartbeat [--iterations 40] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-bench-"))

from PySide6 import QtCore  # noqa: E402

from app.gui_main import _make_app  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402


class Heartbeat:
    """A 10 ms timer recording the gaps between its ticks (seconds since start, gap)."""

    def __init__(self) -> None:
        self.timer = QtCore.QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[tuple[float, float]] = []
        self._t0 = self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._t0, now - self._last))
        self._last = now

    def start(self) -> None:
        self._t0 = self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def one_run(app, panel, iterations: int) -> Heartbeat:
    beat = Heartbeat()
    loop = QtCore.QEventLoop()
    panel.run_ended.connect(loop.quit)
    panel.run_ended.connect(beat.stop)
    assert panel.start(fresh=True, max_iterations=iterations, compare_float16=False)
    beat.start()
    loop.exec()
    panel.run_ended.disconnect(loop.quit)
    panel.run_ended.disconnect(beat.stop)
    return beat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--grace", type=float, default=0.2, help="seconds of start-up not counted")
    args = parser.parse_args()
    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    panel = window.training
    window.resize(1400, 900)
    window.show()
    tune_process()  # as app/gui_main.py does once its window is built
    window.open_template("simple_convnet", ask=False)
    assert panel.settings.load("mnist-10k")
    panel.views.show()
    app.processEvents()
    print(f"simple_convnet on mnist-10k, {args.iterations} iterations per run, 10 ms GUI timer")
    for i in range(args.runs):
        beat = one_run(app, panel, args.iterations)
        steady = [gap for at, gap in beat.gaps if at > args.grace] or [0.0]
        overall = max((gap for _, gap in beat.gaps), default=0.0)
        print(f"run {i + 1}: {len(beat.gaps)} ticks, longest gap {overall * 1000:.0f} ms, "
              f"after {args.grace:g} s {max(steady) * 1000:.0f} ms (target < 100 ms)", flush=True)
    window.close()


if __name__ == "__main__":
    main()
