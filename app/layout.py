"""Node geometry and the automatic left-to-right layout (pure Python, no widgets).

The canvas draws nodes with these sizes, and the layout uses the same numbers so laid
out columns never overlap.
"""
from __future__ import annotations

NODE_WIDTH = 168.0
HEADER_H = 26.0
ROW_H = 20.0
FOOTER_H = 22.0
PORT_RADIUS = 6.0
COLUMN_GAP = 90.0
ROW_GAP = 36.0


def node_size(n_inputs: int, n_outputs: int = 1) -> tuple[float, float]:
    """Width and height of a node box with that many input and output ports."""
    rows = max(n_inputs, n_outputs, 1)
    return NODE_WIDTH, HEADER_H + rows * ROW_H + FOOTER_H


def node_size_of(graph, node_id: str) -> tuple[float, float]:
    op = graph.node(node_id).op
    return node_size(len(op.inputs), len(op.outputs))


def auto_layout_positions(graph, origin=(0.0, 0.0)) -> dict[str, tuple[float, float]]:
    """Top-left positions placing each topological generation in its own column.

    Columns are centred vertically on ``origin``'s y; within a column nodes keep the
    order of the mean row of the nodes feeding them, which keeps most edges short.
    """
    positions: dict[str, tuple[float, float]] = {}
    row_of: dict[str, float] = {}
    x = float(origin[0])
    for gen in graph.generations():
        def key(n: str) -> tuple[float, int]:
            preds = [row_of[p] for p in graph.predecessors(n) if p in row_of]
            return (sum(preds) / len(preds) if preds else -1.0, 0)

        column = sorted(gen, key=key)
        heights = [node_size_of(graph, n)[1] for n in column]
        total = sum(heights) + ROW_GAP * (len(column) - 1)
        y = float(origin[1]) - total / 2.0
        for i, (n, h) in enumerate(zip(column, heights)):
            positions[n] = (x, round(y, 1))
            row_of[n] = float(i)
            y += h + ROW_GAP
        x += NODE_WIDTH + COLUMN_GAP
    return positions


def needs_layout(graph) -> bool:
    """True when every node sits at the same spot (e.g. a graph built in code)."""
    points = {tuple(graph.node(n).position) for n in graph.nodes()}
    return len(graph) > 1 and len(points) == 1


def spread_columns(graph, min_gap: float = COLUMN_GAP) -> bool:
    """Stretch x positions so neighbouring columns leave ``min_gap`` between node boxes.

    Built-in examples are laid out on a fixed grid; this keeps their arrangement while
    leaving room for the shape labels on the edges. Returns True when anything moved.
    """
    xs = sorted({round(graph.node(n).position[0], 3) for n in graph.nodes()})
    steps = [b - a for a, b in zip(xs, xs[1:]) if b - a > 1.0]
    if not steps or min(steps) >= NODE_WIDTH + min_gap:
        return False
    factor = (NODE_WIDTH + min_gap) / min(steps)
    x0 = xs[0]
    for n in graph.nodes():
        x, y = graph.node(n).position
        graph.set_position(n, (round(x0 + (x - x0) * factor, 1), y))
    return True
