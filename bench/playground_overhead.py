"""How much the playground's live decision boundary slows training (headless).

Trains ``toy_mlp`` on xor through :class:`graph.views.playground.Playground` for the same
wall time, alternating runs to share the machine's noise: without snapshots, and with a
snapshot (heat map over the grid, hidden units, test loss) whenever the
:class:`~graph.views.playground.RefreshClock` says so. ``--gui`` does the same through the
app's :class:`~app.concepts.playground_panel.PlaygroundPanel` (offscreen), so drawing and
painting count too. Iterations are counted per second of this process's CPU time
(``time.process_time``), which other programs on a shared machine do not inflate; redraws
per wall-clock second. Prints both and the slowdown; asserts nothing.

    python -m bench.playground_overhead [--seconds 3] [--rounds 3] [--gui]
"""
from __future__ import annotations

import argparse
import time

from graph import templates
from graph.views.playground import Playground, RefreshClock
from graph.run.perf import tune_process


def run(seconds: float, live: bool) -> tuple[float, float]:
    pg = Playground(templates.build("toy_mlp"), "xor", n=200, seed=0)
    pg.train_for(0.3)   # warm-up
    clock = RefreshClock()
    start = pg.iteration
    snaps = 0
    t0, c0 = time.perf_counter(), time.process_time()
    end = t0 + seconds
    while time.perf_counter() < end:
        pg.train_for(0.04)
        now = time.perf_counter()
        if live and clock.due(now):
            pg.snapshot()
            done = time.perf_counter()
            clock.took(done, done - now)
            snaps += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return (pg.iteration - start) / cpu, snaps / wall


def run_gui(seconds: float, live: bool) -> tuple[float, float]:
    """The same through the panel: its own timer slices, redraws and painting."""
    import os  # noqa: PLC0415

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from app.concepts.playground_panel import PlaygroundPanel  # noqa: PLC0415
    from app.document import GraphDocument  # noqa: PLC0415

    app = QApplication.instance() or QApplication([])
    panel = PlaygroundPanel(GraphDocument(templates.build("toy_mlp")))
    panel.resize(1300, 560)
    panel.show()
    panel.ensure_playground()
    if not live:
        panel.clock.due = lambda now: False
    redraws = []
    original = panel.redraw
    panel.redraw = lambda: (redraws.append(1), original())
    panel.set_training(True)
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        app.processEvents()
    start, n0 = panel.playground.iteration, len(redraws)
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() < t0 + seconds:
        app.processEvents()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    panel.set_training(False)
    its = panel.playground.iteration - start
    panel.close()
    panel.deleteLater()
    return its / cpu, (len(redraws) - n0) / wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gui", action="store_true", help="through the app's panel, painting included")
    args = parser.parse_args()
    tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)
    runner = run_gui if args.gui else run
    plain, live, rate = [], [], []
    for _ in range(args.rounds):
        plain.append(runner(args.seconds, False)[0])
        it, hz = runner(args.seconds, True)
        live.append(it)
        rate.append(hz)
    p, q = sorted(plain)[len(plain) // 2], sorted(live)[len(live) // 2]
    print("through the GUI panel (offscreen, painting included)" if args.gui else "headless")
    print(f"without the heat map: {p:.0f} iterations per CPU second (median of {args.rounds})")
    print(f"with the live heat map: {q:.0f} iterations per CPU second, {sorted(rate)[len(rate) // 2]:.1f} redraws/s")
    print(f"slowdown: {(1 - q / p) * 100:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
