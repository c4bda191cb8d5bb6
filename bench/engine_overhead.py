"""Engine bookkeeping per node: a long chain of cheap elementwise ops on 32×32 arrays.

The chain repeats Add (with its own 32×32 Constant), ReLU, Mul (with its own Constant),
Tanh. One run = ``Engine.forward`` + ``Engine.backward`` (every gradient kept, as the
editor needs). The same ops' ``forward``/``backward`` are then called directly in a tight
loop, with the same inputs, and

    overhead per node = (engine time − direct time) / number of nodes

is what the engine adds beyond the NumPy work itself (target: under 3 µs). Prints the
figure from the median and from the fastest runs (the better estimate on a busy
machine); asserts nothing about time.

    python bench/engine_overhead.py [--nodes 1000] [--repeats 30]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from graph import Engine, Graph
from graph.run.perf import tune_process

PATTERN = ("Add", "ReLU", "Mul", "Tanh")


def build_chain(nodes: int, rng: np.random.Generator) -> Graph:
    """An Input followed by ops from ``PATTERN``; binary ops get their own Constant.

    ``nodes`` counts every node, constants included.
    """
    g = Graph()
    g.add_node("Input", id="x", shape=[32, 32])
    prev, i = "x", 0
    while len(g) < nodes:
        kind = PATTERN[i % len(PATTERN)]
        id = f"n{i}"
        if kind in ("Add", "Mul") and len(g) + 2 <= nodes:
            value = rng.uniform(0.5, 1.0, (32, 32)) if kind == "Mul" else rng.uniform(-0.1, 0.1, (32, 32))
            g.add_node("Constant", id=f"c{i}", value=value.tolist())
            g.add_node(kind, id=id)
            g.connect(prev, id, "a", check_shapes=False)
            g.connect(f"c{i}", id, "b", check_shapes=False)
        else:
            g.add_node("ReLU" if kind in ("Add", "Mul") else kind, id=id)
            g.connect(prev, id, check_shapes=False)
        prev, i = id, i + 1
    return g


def engine_time(eng: Engine, feeds: dict) -> float:
    t0 = time.perf_counter()
    eng.forward(feeds)
    eng.backward()
    return time.perf_counter() - t0


def direct_time(steps: list, x: np.ndarray, consts: dict) -> float:
    """The ops alone: forward in order, backward in reverse, no graph, no dictionaries of ids."""
    t0 = time.perf_counter()
    caches = []
    h = x
    for op, const in steps:
        h, cache = op.forward([h, const] if const is not None else [h], {}, False, None)
        caches.append(cache)
    d = np.ones_like(h)
    for (op, const), cache in zip(reversed(steps), reversed(caches)):
        grads, _ = op.backward(d, cache)
        d = grads[0]
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)
    rng = np.random.default_rng(0)
    g = build_chain(args.nodes, rng)
    eng = Engine(g, dtype="float64")
    x = rng.standard_normal((32, 32))
    feeds = {"x": x}
    consts = {id: np.asarray(g.node(id).params["value"], dtype=np.float64) for id in g.nodes()
              if g.node(id).type == "Constant"}
    steps = []
    for id in g.topo_order():
        node = g.node(id)
        if node.type in ("Input", "Constant"):
            continue
        ins = g.inputs_of(id)
        steps.append((node.op, consts[ins[1]] if len(ins) == 2 else None))
    for _ in range(3):
        engine_time(eng, feeds)
        direct_time(steps, x, consts)
    eng_t, dir_t = [], []
    for _ in range(args.repeats):
        eng_t.append(engine_time(eng, feeds))
        dir_t.append(direct_time(steps, x, consts))
    n = len(g)
    print(f"chain of {n} nodes ({len(steps)} ops, {len(consts)} constants, 1 input) on 32×32 float64, "
          f"forward + backward, {args.repeats} runs each")
    for label, pick in (("median", statistics.median), ("fastest", min)):
        e, d = pick(eng_t), pick(dir_t)
        print(f"{label:>7}: engine {e * 1e3:.2f} ms, ops called directly {d * 1e3:.2f} ms -> "
              f"bookkeeping {(e - d) / n * 1e6:.2f} µs per node ({(e - d) / len(steps) * 1e6:.2f} µs per op node)")


if __name__ == "__main__":
    main()
