"""Where a node's value and gradient labels go, so they never overlap another node or its labels.

The step view puts a node's forward value above its box and its gradient below. When the
gradient would land on another node, or on the value label of the node underneath (two
rows of nodes close together), it moves up beside the value instead
(:meth:`NodeItem.set_grad_beside`). Rectangles go into a coarse grid of buckets, so
placing the labels of a 300-node graph is one pass, with no scene index queries (those
rebuild the index after every label change).
"""
from __future__ import annotations

import math

from PySide6.QtCore import QRectF

from .node_item import NodeItem

CELL = 256.0   # scene units per grid bucket


class _Buckets:
    """Rectangles (with their owner) in a grid of CELL-sized buckets."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[QRectF, NodeItem]]] = {}

    @staticmethod
    def _span(rect: QRectF):
        for cx in range(math.floor(rect.left() / CELL), math.floor(rect.right() / CELL) + 1):
            for cy in range(math.floor(rect.top() / CELL), math.floor(rect.bottom() / CELL) + 1):
                yield cx, cy

    def add(self, rect: QRectF, owner: NodeItem) -> None:
        if not rect.isEmpty():
            for key in self._span(rect):
                self.cells.setdefault(key, []).append((rect, owner))

    def hits(self, rect: QRectF, owner: NodeItem) -> bool:
        return any(other is not owner and rect.intersects(r)
                   for key in self._span(rect) for r, other in self.cells.get(key, ()))


def _scene_rect(item: NodeItem, rect: QRectF) -> QRectF:
    return rect.translated(item.pos())   # node items are never rotated or scaled


def place_node_labels(scene, items=None) -> None:
    """Re-place the gradient labels of every node of ``scene`` (``items`` is accepted for
    callers that know what changed; the pass is cheap enough to cover all nodes)."""
    nodes = list(getattr(scene, "nodes", {}).values())
    buckets = _Buckets()
    for item in nodes:
        buckets.add(_scene_rect(item, item.box()), item)
    # bottom to top: a gradient below a node can only meet the nodes and value lines under
    # it, which are final by then
    for item in sorted(nodes, key=lambda i: i.y(), reverse=True):
        beside = False
        if item.overlay_below:
            flag, item.grad_beside = item.grad_beside, False
            _, below = item.overlay_rects()
            item.grad_beside = flag
            beside = buckets.hits(_scene_rect(item, below), item)
        item.set_grad_beside(beside)
        above, _ = item.overlay_rects()
        buckets.add(_scene_rect(item, above), item)
