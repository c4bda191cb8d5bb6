"""Frame time while Play steps backprop through ``simple_convnet`` with one input sample.

Opens the editor offscreen, records one run (17 events), plays it several times and,
with a 60 Hz probe timer running alongside (as a display's frame clock would), measures
for every frame:

- the frame interval: time between consecutive probe ticks, i.e. everything the event
  loop did in between (steps, overlay updates, pulse animation, inspector, timeline);
- the paint time: a synchronous repaint of the canvas viewport.

Prints median and p95 in milliseconds; asserts nothing (see ARCHITECTURE.md).

    PYTHONPATH=. python bench/step_play_frame.py [--loops 5] [--speed 10]   (or make bench)
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from bench.stepping_window import open_stepping_window  # noqa: E402
from graph import templates  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (NaN when empty)."""
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    """Play the run ``--loops`` times and print the frame figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=5, help="times to play the whole run")
    parser.add_argument("--speed", type=float, default=10.0, help="events per second")
    args = parser.parse_args()

    app, window, c = open_stepping_window(templates.build("simple_convnet"), "simple_convnet")
    t0 = time.perf_counter()
    assert c.record(), "simple_convnet did not run"
    record_ms = (time.perf_counter() - t0) * 1e3
    feed = c.events[0].output
    c.set_speed(args.speed)

    intervals: list[float] = []
    paints: list[float] = []
    last = [None]
    viewport = window.view.viewport()

    def on_frame() -> None:
        """One probe tick: record the interval and time a synchronous repaint."""
        now = time.perf_counter()
        if last[0] is not None:
            intervals.append((now - last[0]) * 1e3)
        last[0] = now
        start = time.perf_counter()
        viewport.repaint()
        paints.append((time.perf_counter() - start) * 1e3)

    probe = QtCore.QTimer()
    probe.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    probe.setInterval(16)
    probe.timeout.connect(on_frame)
    steps = 0
    wall = time.perf_counter()
    for _ in range(args.loops):
        c.jump(-1)
        last[0] = None
        probe.start()
        c.play()
        while c.playing:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 5)
        probe.stop()
        steps += c.count
    wall = time.perf_counter() - wall

    print(f"simple_convnet, 1 sample {tuple(feed.shape)}: {c.count} events, recorded in {record_ms:.1f} ms")
    print(f"played {args.loops}x at {args.speed:g} events/s: {steps} steps in {wall:.2f} s, {len(intervals)} frames")
    print(f"frame interval  median {statistics.median(intervals):6.2f} ms   p95 {percentile(intervals, 95):6.2f} ms"
          "   (16.7 ms = 60 fps)")
    print(f"canvas repaint  median {statistics.median(paints):6.2f} ms   p95 {percentile(paints, 95):6.2f} ms")
    window.close()


if __name__ == "__main__":
    main()
