"""Where a node's value and gradient labels go, so they never overlap another node or its labels.

The step view puts a node's forward value above its box and its gradient below. When the
gradient would land on another node, or on the value label of the node underneath (two
rows of nodes close together), it moves up beside the value instead
(:meth:`NodeItem.set_grad_beside`). Only the nodes near a changed one are re-checked,
through the scene's spatial index, so a step of a 300-node graph stays cheap.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsScene

from .node_item import NodeItem

NEAR = 80.0   # scene units around a changed node whose neighbours are re-checked


def _below_rect(item: NodeItem) -> QRectF:
    """Where ``item``'s gradient label would be drawn below it (scene coordinates)."""
    flag = item.grad_beside
    item.grad_beside = False
    _, below = item.overlay_rects()
    item.grad_beside = flag
    return item.mapRectToScene(below)


def _nodes_near(scene: QGraphicsScene, rect: QRectF) -> list[NodeItem]:
    return [i for i in scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            if isinstance(i, NodeItem)]


def gradient_clashes(scene: QGraphicsScene, item: NodeItem) -> bool:
    """True when ``item``'s gradient, drawn below it, would overlap another node's box or
    another node's label above it."""
    if not item.overlay_below:
        return False
    below = _below_rect(item)
    for other in _nodes_near(scene, below):
        if other is item:
            continue
        if below.intersects(other.mapRectToScene(other.box())):
            return True
        above, _ = other.overlay_rects()
        if not above.isEmpty() and below.intersects(other.mapRectToScene(above)):
            return True
    return False


def place_node_labels(scene: QGraphicsScene, items: list[NodeItem] | None = None) -> None:
    """Re-place the gradient labels of ``items`` (default: all) and of the nodes near them."""
    nodes = list(getattr(scene, "nodes", {}).values()) if items is None else list(items)
    todo = {id(i): i for i in nodes}
    if items is not None:
        for item in nodes:
            area = item.mapRectToScene(item.box()).adjusted(-NEAR, -NEAR, NEAR, NEAR)
            for other in _nodes_near(scene, area):
                todo.setdefault(id(other), other)
    # bottom to top: a node's decision depends on the (final) value lines of the nodes below
    for item in sorted(todo.values(), key=lambda i: i.scenePos().y(), reverse=True):
        item.set_grad_beside(gradient_clashes(scene, item))
