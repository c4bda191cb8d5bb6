"""Time loading a large graph file whose edges are listed last-to-first (the worst order).

    python bench/load_graph.py [--mb 10]

A chain Input -> ReLU -> ReLU -> ... is written with its edges reversed, sized to about
``--mb`` megabytes, then loaded with ``load_graph``. Loading must be linear in file size
(ARCHITECTURE.md, hardening): one acyclicity check for the whole file, not one per edge.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from graph.model.fileformat import FORMAT, VERSION, load_graph  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402


def chain_document(megabytes: float) -> dict:
    """A reverse-ordered ReLU chain of about ``megabytes`` MB of JSON."""
    per_node = 160   # bytes of one node plus its edge, measured
    n = max(2, int(megabytes * 1e6 / per_node))
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [None, 4]}, "position": [0, 0]}]
    nodes += [{"id": f"r{i}", "type": "ReLU", "params": {}, "position": [float(i), 0.0], "label": ""}
              for i in range(1, n)]
    edges = [{"src": "x" if i == 1 else f"r{i - 1}", "src_port": "out", "dst": f"r{i}", "dst_port": "x"}
             for i in range(n - 1, 0, -1)]
    return {"format": FORMAT, "version": VERSION, "nodes": nodes, "edges": edges}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10.0)
    args = ap.parse_args()
    tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chain.json")
        with open(path, "w") as f:
            json.dump(chain_document(args.mb), f)
        size = os.path.getsize(path)
        t0, c0 = time.perf_counter(), time.process_time()
        g = load_graph(path)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time as well: on a shared machine the wall time also counts waiting for a core
    print(f"{size / 1e6:.1f} MB, {len(g):,} nodes, reverse-ordered edges: loaded in {seconds:.2f} s "
          f"({cpu:.2f} s CPU; load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
