"""How long one Step / Step back takes on a 100-node graph (target: under 50 ms).

Builds a chain of 33 ``Mul(by a Constant) -> Tanh`` blocks after an ``Input`` of shape
(1, 8) (100 nodes), opens it in the editor offscreen, records the run once and then
times every Step and every Step back: from the call until the event loop has handled
everything it caused (canvas overlay, timeline, step inspector). Also times the
Qt-free replay alone. Prints median, p95 and max in milliseconds; asserts nothing.

    PYTHONPATH=. python bench/step_latency.py      (or make bench; Qt runs offscreen)
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402


from bench.stepping_window import open_stepping_window  # noqa: E402
from graph import Graph  # noqa: E402

BLOCKS = 33


def chain_graph(blocks: int = BLOCKS) -> Graph:
    """Input -> (Mul by Constant -> Tanh) x ``blocks``: ``3 * blocks + 1`` nodes."""
    g = Graph()
    prev = g.add_node("Input", id="x", shape=[None, 8], value=[list(np.linspace(-1, 1, 8))])
    for i in range(blocks):
        c = g.add_node("Constant", id=f"c{i}", value=1.5)
        m = g.add_node("Mul", id=f"mul{i}")
        g.connect(prev, m, "a")
        g.connect(c, m, "b")
        prev = g.add_node("Tanh", id=f"tanh{i}")
        g.connect(m, prev)
    return g


def summary(name: str, ms: list[float]) -> str:
    """One line: median, p95 and max of ``ms``."""
    a = np.asarray(ms)
    return (f"{name:<22} median {np.median(a):6.2f} ms   p95 {np.percentile(a, 95):6.2f} ms"
            f"   max {a.max():6.2f} ms   ({a.size} steps)")


def main() -> None:
    """Build the chain, step through it twice and print the figures."""
    g = chain_graph()
    app, window, c = open_stepping_window(g, "chain100")
    t0 = time.perf_counter()
    c.record()
    record_ms = (time.perf_counter() - t0) * 1e3
    forward, back = [], []
    for _ in range(2):
        c.jump(-1)
        app.processEvents()
        for _k in range(c.count):
            t = time.perf_counter()
            c.step()
            app.processEvents()
            forward.append((time.perf_counter() - t) * 1e3)
        for _k in range(c.count):
            t = time.perf_counter()
            c.step_back()
            app.processEvents()
            back.append((time.perf_counter() - t) * 1e3)
    replay = []
    for k in range(-1, c.count):
        t = time.perf_counter()
        c.replay.state(k)
        replay.append((time.perf_counter() - t) * 1e3)
    print(f"{len(g)} nodes, {len(g.edges())} edges, {c.count} events, recorded once in {record_ms:.1f} ms")
    print(summary("Step (F10)", forward))
    print(summary("Step back (Shift+F10)", back))
    print(summary("replay.state(k) alone", replay))
    window.close()


if __name__ == "__main__":
    main()
