"""Editor benchmark: open a generated 500-node graph, then pan and render frames.

Prints the time to open the file (read + model + scene items + fit) and the time per
rendered frame while panning at 100 % zoom and at fit-to-view zoom. Targets: open under
1 s, a frame under 16 ms. Runs offscreen; prints figures and asserts nothing.

    QT_QPA_PLATFORM=offscreen python bench/editor_open_pan.py [--nodes 500] [--frames 120]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def generated_graph(n_nodes: int):
    """Rows of Input -> Affine -> ReLU -> Affine -> Tanh -> Add(+ row above) ... (10 per row)."""
    from graph import Graph  # noqa: PLC0415

    g = Graph()
    pattern = ["Affine", "ReLU", "Affine", "Tanh", "Add", "Sigmoid", "Mul", "Affine", "ReLU"]
    rows = max(1, n_nodes // (len(pattern) + 1))
    prev_row: list[str] = []
    for r in range(rows):
        row = [g.add_node("Input", id=f"x{r}", shape=[None, 16], position=(0.0, r * 130.0))]
        for c, kind in enumerate(pattern, start=1):
            params = {"out_features": 16} if kind == "Affine" else {}
            node = g.add_node(kind, id=f"{kind.lower()}_{r}_{c}", position=(c * 260.0, r * 130.0), **params)
            g.connect(row[-1], node)
            if kind in ("Add", "Mul"):
                g.connect(prev_row[c - 1] if prev_row else row[-1], node)
            row.append(node)
        prev_row = row
    while len(g) < n_nodes:
        g.add_node("Constant", position=(len(g) * 10.0, -200.0))
    return g


def frame_times(app, view, frames: int, step: float) -> list[float]:
    from PySide6.QtGui import QImage, QPainter  # noqa: PLC0415

    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for i in range(frames):
        view.pan_by(step if (i // 40) % 2 == 0 else -step, step / 3 if (i // 20) % 2 == 0 else -step / 3)
        t0 = time.perf_counter()
        painter = QPainter(image)
        view.render(painter)
        painter.end()
        times.append((time.perf_counter() - t0) * 1000)
    app.processEvents()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        os.environ["BACKPROP_STUDIO_HOME"] = home
        from PySide6.QtWidgets import QApplication  # noqa: PLC0415

        app = QApplication.instance() or QApplication([])
        from graph.model.fileformat import save_graph  # noqa: PLC0415

        from app.main_window import MainWindow  # noqa: PLC0415

        g = generated_graph(args.nodes)
        path = Path(home) / "big.json"
        save_graph(g, path)
        window = MainWindow(restore_layout=False)
        window.quiet = True
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        from graph.run.perf import tune_process  # noqa: PLC0415

        tune_process()  # as app/gui_main.py does once its window is built

        t0 = time.perf_counter()
        from graph.model.fileformat import read_document  # noqa: PLC0415

        read_document(path)
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert window.load_path(str(path))
        app.processEvents()
        t_open = time.perf_counter() - t0
        n, e = len(window.document.graph), len(window.document.graph.edges())
        assert len(window.scene.nodes) == n and len(window.scene.edges) == e
        print(f"graph: {n} nodes, {e} edges; viewport {window.view.viewport().width()}x"
              f"{window.view.viewport().height()} px")
        print(f"open (read file + model + scene items + fit): {t_open * 1000:7.1f} ms   (target < 1000 ms)")
        print(f"  of which reading the file into the model:   {t_model * 1000:7.1f} ms")

        view = window.view
        for label, setup in (("100 % zoom", lambda: (view.reset_zoom(), view.centerOn(1200, 3000))),
                             ("fit to view (all nodes visible)", view.fit)):
            setup()
            app.processEvents()
            frame_times(app, view, 5, 25.0)           # warm-up: fill item caches
            times = frame_times(app, view, args.frames, 25.0)
            p95 = sorted(times)[int(0.95 * len(times)) - 1]
            print(f"pan at {label:32s} zoom {view.zoom() * 100:5.1f} %: "
                  f"mean {statistics.mean(times):6.2f} ms, median {statistics.median(times):6.2f} ms, "
                  f"p95 {p95:6.2f} ms, max {max(times):6.2f} ms per frame   (target < 16 ms)")
        window.document.undo_stack.setClean()
        window.close()


if __name__ == "__main__":
    main()
