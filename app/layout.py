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


LANE_H = 30.0   # the height a long edge reserves in each column it passes through
SWEEPS = 6      # barycentre ordering passes (down and up alternately)


def layer_of(graph) -> dict[str, int]:
    """Column of each node: the longest path from a source, except that a node with no
    inputs (a Constant, an Input, a Parameter) sits just left of its first consumer, so
    ``tax`` stands beside ``mul_apple`` instead of sending an edge behind it."""
    order = graph.topo_order()
    layer: dict[str, int] = {}
    for n in order:
        preds = graph.predecessors(n)
        layer[n] = max(layer[p] + 1 for p in preds) if preds else 0
    for n in order:
        succ = graph.successors(n)
        if succ and not graph.predecessors(n):
            layer[n] = max(0, min(layer[s] for s in succ) - 1)
    return layer


def _columns(graph, layer: dict[str, int]) -> tuple[list[list[str]], dict[str, list[str]]]:
    """Columns of node ids and of lane markers ``("~", src, dst, k)`` for edges spanning
    several columns; ``links`` maps each entry to its neighbours in the column before."""
    width = max(layer.values()) + 1
    cols: list[list] = [[] for _ in range(width)]
    links: dict = {}
    for n in graph.topo_order():
        cols[layer[n]].append(n)
    for n in graph.topo_order():
        for s in dict.fromkeys(graph.successors(n)):
            prev = n
            for k in range(layer[n] + 1, layer[s]):
                lane = ("~", n, s, k)
                cols[k].append(lane)
                links.setdefault(lane, []).append(prev)
                prev = lane
            links.setdefault(s, []).append(prev)
    return cols, links


def _order(cols: list[list], links: dict) -> None:
    """Reorder each column by the mean position of its neighbours (barycentres), sweeping
    left to right and back: few crossings, so edges run between nodes, not behind them."""
    back: dict = {}
    for entry, prevs in links.items():
        for p in prevs:
            back.setdefault(p, []).append(entry)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        rng = range(1, len(cols)) if forward else range(len(cols) - 2, -1, -1)
        for i in rng:
            ref = cols[i - 1] if forward else cols[i + 1]
            where = {e: j for j, e in enumerate(ref)}
            near = links if forward else back

            def centre(e, j, near=near, where=where):
                ns = [where[x] for x in near.get(e, ()) if x in where]
                return (sum(ns) / len(ns) if ns else j, j)

            cols[i] = [e for _, e in sorted(((centre(e, j), e) for j, e in enumerate(cols[i])),
                                            key=lambda t: t[0])]


def auto_layout_positions(graph, origin=(0.0, 0.0)) -> dict[str, tuple[float, float]]:
    """Top-left positions of a layered (Sugiyama-style) left-to-right layout.

    Columns from :func:`layer_of`; an edge spanning several columns reserves a lane of
    LANE_H in each column it passes, and columns are ordered by barycentres, so edges run
    through gaps between nodes rather than behind them. Columns are centred vertically on
    ``origin``'s y.
    """
    if not len(graph):
        return {}
    layer = layer_of(graph)
    cols, links = _columns(graph, layer)
    _order(cols, links)
    positions: dict[str, tuple[float, float]] = {}
    x = float(origin[0])
    for column in cols:
        heights = [LANE_H if isinstance(e, tuple) else node_size_of(graph, e)[1] for e in column]
        total = sum(heights) + ROW_GAP * (len(column) - 1)
        y = float(origin[1]) - total / 2.0
        for e, h in zip(column, heights):
            if not isinstance(e, tuple):
                positions[e] = (x, round(y, 1))
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
