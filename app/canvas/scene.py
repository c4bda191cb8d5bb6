"""The scene: node and edge items kept in step with a :class:`GraphDocument`.

Items are created, moved and removed only in the slots for the document's signals.
Mouse gestures (dragging nodes, dragging connections) end in document calls, which
push undo commands; the model then tells the scene what changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from graph import Edge
from layers.base import fmt_shape

from ..style import SELECT_COLOR
from .edge_item import EdgeItem, bezier, compact_shape
from .node_item import NodeItem
from .port_item import HIT_RADIUS, PortItem

SCENE_EXTENT = 50000.0


@dataclass
class _ConnectionDrag:
    origin: PortItem
    reverse: bool
    picked: EdgeItem | None
    line: QGraphicsPathItem
    marked: list = field(default_factory=list)
    hover: PortItem | None = None
    hover_state: str | None = None


class GraphScene(QGraphicsScene):
    """Mirrors the document's graph; ``nodes`` and ``edges`` index the items."""

    title_edit_requested = Signal(str)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self._node_edges: dict[str, set] = {}
        self._drag: _ConnectionDrag | None = None
        self._move: tuple | None = None
        self._move_serial = 0
        self.setSceneRect(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT)
        d = document
        d.node_added.connect(self._on_node_added)
        d.node_removed.connect(self._on_node_removed)
        d.node_changed.connect(self._on_node_changed)
        d.node_renamed.connect(self._on_node_renamed)
        d.node_moved.connect(self._on_node_moved)
        d.edge_added.connect(self._on_edge_added)
        d.edge_removed.connect(self._on_edge_removed)
        d.graph_reset.connect(self.rebuild)
        d.shapes_changed.connect(self.refresh_shapes)
        self.rebuild()

    # -- lookup -------------------------------------------------------------------------
    def node_item(self, node_id: str) -> NodeItem:
        return self.nodes[node_id]

    def edge_item(self, dst: str, dst_port: str) -> EdgeItem:
        return self.edges[(dst, dst_port)]

    def node_items(self) -> list[NodeItem]:
        return list(self.nodes.values())

    def edge_items(self) -> list[EdgeItem]:
        return list(self.edges.values())

    def selected_node_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.document.graph.nodes() if n in chosen]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, ids) -> None:
        self.clearSelection()
        for node_id in ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def clear_overlays(self) -> None:
        """Remove every value/gradient overlay and pulse (the step view's reset)."""
        for item in self.nodes.values():
            item.set_overlay(None, None, "normal")
        for edge in self.edges.values():
            edge.set_labels(None, None)
            edge.pulse(None)

    # -- following the model ---------------------------------------------------------------
    def rebuild(self) -> None:
        self._cancel_drag()
        self._move = None
        for item in [*self.edges.values(), *self.nodes.values()]:
            self.removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        self._node_edges.clear()
        g = self.document.graph
        for node_id in g.nodes():
            self._on_node_added(node_id)
        for edge in g.edges():
            self._on_edge_added(edge)
        self.refresh_shapes()
        self.grow_to(self.nodes_rect())

    def grow_to(self, rect: QRectF) -> None:
        """Grow the scene rectangle to hold ``rect`` with room to spare: the view can only
        scroll (and Fit to View centre) within it, and a 300-node chain is longer than the
        default extent."""
        if rect.isNull() or self.sceneRect().contains(rect):
            return
        self.setSceneRect(self.sceneRect().united(rect.adjusted(-SCENE_EXTENT / 10, -SCENE_EXTENT / 10,
                                                                SCENE_EXTENT / 10, SCENE_EXTENT / 10)))

    def _on_node_added(self, node_id: str) -> None:
        item = NodeItem(self.document.graph.node(node_id))
        self.nodes[node_id] = item
        self._node_edges[node_id] = set()
        self.addItem(item)
        self.grow_to(item.sceneBoundingRect())

    def _on_node_removed(self, node_id: str) -> None:
        item = self.nodes.pop(node_id, None)
        self._node_edges.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_changed(self, node_id: str) -> None:
        self.nodes[node_id].sync(self.document.graph.node(node_id))

    def _on_node_moved(self, node_id: str) -> None:
        item = self.nodes[node_id]
        item.setPos(QPointF(*self.document.graph.node(node_id).position))
        self.grow_to(item.sceneBoundingRect())
        for key in self._node_edges.get(node_id, ()):
            self.edges[key].update_path()

    def _on_node_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old)
        self.nodes[new] = item
        item.sync(self.document.graph.node(new))
        self._node_edges[new] = set()
        for key in self._node_edges.pop(old, set()):
            edge_item = self.edges.pop(key)
            e = edge_item.edge
            edge_item.edge = Edge(new if e.src == old else e.src, e.src_port,
                                  new if e.dst == old else e.dst, e.dst_port)
            new_key = (edge_item.edge.dst, edge_item.edge.dst_port)
            self.edges[new_key] = edge_item
            for end in (edge_item.edge.src, edge_item.edge.dst):
                self._node_edges[end].discard(key)
                self._node_edges[end].add(new_key)

    def _on_edge_added(self, edge: Edge) -> None:
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        item = EdgeItem(edge, src.out_ports[edge.src_port], dst.in_ports[edge.dst_port])
        key = (edge.dst, edge.dst_port)
        self.edges[key] = item
        self._node_edges[edge.src].add(key)
        self._node_edges[edge.dst].add(key)
        dst.in_ports[edge.dst_port].set_connected(True)
        src.out_ports[edge.src_port].set_connected(True)
        self.addItem(item)

    def _on_edge_removed(self, edge: Edge) -> None:
        key = (edge.dst, edge.dst_port)
        item = self.edges.pop(key, None)
        if item is None:
            return
        for end in (edge.src, edge.dst):
            self._node_edges.get(end, set()).discard(key)
        self.removeItem(item)
        if edge.dst in self.nodes:
            self.nodes[edge.dst].in_ports[edge.dst_port].set_connected(False)
        if edge.src in self.nodes:
            still = any(self.edges[k].edge.src_port == edge.src_port and self.edges[k].edge.src == edge.src
                        for k in self._node_edges[edge.src])
            self.nodes[edge.src].out_ports[edge.src_port].set_connected(still)

    def refresh_shapes(self) -> None:
        """Output shapes, error outlines and edge shape labels from the model."""
        shapes, errors = self.document.graph.infer_shapes()
        for node_id, item in self.nodes.items():
            err = errors.get(node_id)
            item.set_shape_state(fmt_shape(shapes[node_id]) if node_id in shapes else "",
                                 str(err) if err is not None else None)
        for item in self.edges.values():
            src = item.edge.src
            item.set_shape_text(compact_shape(shapes[src]) if src in shapes else "")

    # -- moving nodes (called by NodeItem) ------------------------------------------------
    def begin_move(self, scene_pos: QPointF) -> None:
        ids = self.selected_node_ids()
        under = [i for i in self.items(scene_pos) if isinstance(i, NodeItem)]
        if under and under[0].node_id not in ids:
            ids.append(under[0].node_id)
        g = self.document.graph
        self._move = (QPointF(scene_pos), {i: g.node(i).position for i in ids}, False)

    def drag_move(self, scene_pos: QPointF) -> None:
        if self._move is None:
            return
        start, positions, moved = self._move
        delta = scene_pos - start
        if not moved and delta.manhattanLength() < 3:
            return
        self._move = (start, positions, True)
        self.document.move_nodes({i: (p[0] + delta.x(), p[1] + delta.y()) for i, p in positions.items()},
                                 merge_key=self._move_serial)

    def end_move(self) -> None:
        self._move = None
        self._move_serial += 1

    # -- dragging connections (called by PortItem) ------------------------------------------
    def port_at(self, scene_pos: QPointF, outputs: bool) -> PortItem | None:
        """The port of the wanted kind nearest to ``scene_pos`` (within its hit radius)."""
        r = HIT_RADIUS + 2
        found = [i for i in self.items(QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r))
                 if isinstance(i, PortItem) and i.is_output == outputs]
        if not found:
            return None
        return min(found, key=lambda p: (p.anchor() - scene_pos).manhattanLength())

    def begin_connection(self, port: PortItem) -> None:
        self._cancel_drag()
        picked = None
        if not port.is_output and (port.node_id, port.name) in self.edges:
            picked = self.edges[(port.node_id, port.name)]
            picked.set_detached(True)
            port = picked.src_port
        line = QGraphicsPathItem()
        pen = QPen(QColor(SELECT_COLOR), 2.0, Qt.PenStyle.DashLine)
        line.setPen(pen)
        line.setZValue(10)
        self.addItem(line)
        self._drag = _ConnectionDrag(port, not port.is_output, picked, line)
        self._mark_targets()
        self.update_connection(port.anchor())

    def _mark_targets(self) -> None:
        drag = self._drag
        g = self.document.graph
        if not drag.reverse:
            ok = self.document.compatible_inputs(drag.origin.node_id, drag.origin.name)
            for node_id, item in self.nodes.items():
                for name, p in item.in_ports.items():
                    p.set_highlight("ok" if (node_id, name) in ok else "off")
                    drag.marked.append(p)
        else:
            below, stack = {drag.origin.node_id}, [drag.origin.node_id]
            while stack:
                for s in g.successors(stack.pop()):
                    if s not in below:
                        below.add(s)
                        stack.append(s)
            for node_id, item in self.nodes.items():
                for p in item.out_ports.values():
                    p.set_highlight("off" if node_id in below else "ok")
                    drag.marked.append(p)

    def update_connection(self, scene_pos: QPointF) -> None:
        drag = self._drag
        if drag is None:
            return
        target = self.port_at(scene_pos, outputs=drag.reverse)
        if drag.hover is not None and drag.hover is not target:
            drag.hover.set_highlight(drag.hover_state)
        if target is not None and target is not drag.hover:
            drag.hover_state = target.highlight
            target.set_highlight("hover")
        drag.hover = target
        end = target.anchor() if target is not None else scene_pos
        start = drag.origin.anchor()
        drag.line.setPath(bezier(end, start) if drag.reverse else bezier(start, end))

    def end_connection(self, scene_pos: QPointF) -> None:
        drag = self._drag
        if drag is None:
            return
        target = self.port_at(scene_pos, outputs=drag.reverse)
        self._cancel_drag()
        doc = self.document
        origin = drag.origin
        if drag.reverse:
            if target is not None:
                doc.connect(target.node_id, origin.node_id, origin.name, target.name)
            return
        if drag.picked is None:
            if target is not None:
                doc.connect(origin.node_id, target.node_id, target.name, origin.name)
            return
        old = drag.picked.edge
        if target is None:
            doc.disconnect(old.dst, old.dst_port)
        elif (target.node_id, target.name) != (old.dst, old.dst_port):
            reason, _, _ = doc.connection_problem(origin.node_id, target.node_id, target.name, origin.name)
            if reason is not None:
                doc.log(f"connection refused: {reason}", "error")
                return
            doc.undo_stack.beginMacro(f"Move connection to {target.node_id}.{target.name}")
            doc.disconnect(old.dst, old.dst_port)
            doc.connect(origin.node_id, target.node_id, target.name, origin.name)
            doc.undo_stack.endMacro()

    def _cancel_drag(self) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            return
        for p in drag.marked:
            p.set_highlight(None)
        if drag.hover is not None:
            drag.hover.set_highlight(None)
        if drag.picked is not None and drag.picked.scene() is self:
            drag.picked.set_detached(False)
        if drag.line.scene() is self:
            self.removeItem(drag.line)

    @property
    def dragging_connection(self) -> bool:
        return self._drag is not None
