"""Shared pieces of the built-in templates: the layout, chaining, classifier inputs and loss."""
from __future__ import annotations

from graph.model.graph import Graph

COLUMN_WIDTH = 220.0
ROW_HEIGHT = 120.0

# The perceptron's inputs (x1, x2) in the book's truth-table order.
TRUTH_TABLE = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def layout(g: Graph) -> None:
    """Place nodes in columns by depth, left to right, each column centred vertically.

    Sources (nodes without inputs) sit in the column just before their first consumer,
    so the tax in ``apple`` is drawn next to the multiply that uses it.
    """
    column: dict[str, int] = {}
    for id in g.topo_order():
        preds = g.predecessors(id)
        column[id] = 1 + max((column[p] for p in preds), default=-1)
    for id in reversed(g.topo_order()):
        succ = g.successors(id)
        if not g.predecessors(id) and succ:
            column[id] = max(0, min(column[s] for s in succ) - 1)
    groups: dict[int, list[str]] = {}
    # within a column, computed nodes go above the sources that join them (tax, labels)
    for id in sorted(g.nodes(), key=lambda n: not g.predecessors(n)):
        groups.setdefault(column[id], []).append(id)
    for col, ids in groups.items():
        top = -(len(ids) - 1) * ROW_HEIGHT / 2
        for row, id in enumerate(ids):
            g.set_position(id, (col * COLUMN_WIDTH, top + row * ROW_HEIGHT))


def chain(g: Graph, first: str, *ids: str) -> str:
    """Connect ``first -> ids[0] -> ids[1] ...`` (each into its first free port); return the last."""
    prev = first
    for id in ids:
        g.connect(prev, id)
        prev = id
    return prev


def classifier_inputs(g: Graph, shape: list) -> None:
    """The data Input ``x`` of ``shape`` and the integer-label Input ``t``."""
    g.add_node("Input", id="x", shape=shape, role="data", label="x (images)")
    g.add_node("Input", id="t", shape=[None], role="label", label="t (labels)")


def softmax_loss(g: Graph, logits: str) -> None:
    """``loss = SoftmaxCrossEntropy(logits, t)``."""
    g.add_node("SoftmaxCrossEntropy", id="loss", label="Softmax-with-Loss")
    g.connect(logits, "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
