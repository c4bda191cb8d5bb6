"""How much the playground's live decision boundary slows training (headless).

Trains ``toy_mlp`` on xor through :class:`graph.views.playground.Playground` for the same
wall time three ways, alternating to share the machine's noise: without snapshots, and
with a snapshot (heat map over the grid, hidden units, test loss) whenever the
:class:`~graph.views.playground.RefreshClock` says so. Prints iterations per second,
snapshots per second and the slowdown; asserts nothing.

    python -m bench.playground_overhead [--seconds 3] [--rounds 3]
"""
from __future__ import annotations

import argparse
import time

from graph import templates
from graph.views.playground import Playground, RefreshClock


def run(seconds: float, live: bool) -> tuple[float, float]:
    pg = Playground(templates.build("toy_mlp"), "xor", n=200, seed=0)
    pg.train_for(0.3)   # warm-up
    clock = RefreshClock()
    start = pg.iteration
    snaps = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        pg.train_for(0.04)
        now = time.perf_counter()
        if live and clock.due(now):
            pg.snapshot()
            done = time.perf_counter()
            clock.took(done, done - now)
            snaps += 1
    wall = time.perf_counter() - t0
    return (pg.iteration - start) / wall, snaps / wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plain, live, rate = [], [], []
    for _ in range(args.rounds):
        plain.append(run(args.seconds, False)[0])
        it, hz = run(args.seconds, True)
        live.append(it)
        rate.append(hz)
    p, q = sorted(plain)[len(plain) // 2], sorted(live)[len(live) // 2]
    print(f"without the heat map: {p:.0f} iterations/s (median of {args.rounds})")
    print(f"with the live heat map: {q:.0f} iterations/s, {sorted(rate)[len(rate) // 2]:.1f} redraws/s")
    print(f"slowdown: {(1 - q / p) * 100:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
