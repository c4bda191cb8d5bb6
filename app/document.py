"""The Qt adapter around :class:`graph.Graph`: signals, undo stack, clean state.

Public edit methods (``add_node``, ``connect``, ``set_params``...) check the request,
report a refusal through :attr:`GraphDocument.message` and push a command from
:mod:`app.commands`. Commands change the model only through the underscore primitives
below, and every primitive emits the signal the scene follows. Nothing here touches
a widget, so the document is testable without a window.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from graph import Edge, Graph, GraphError
from layers import ParamError, ShapeError
from layers.base import fmt_shape

from . import commands, layout
from .node_spec import NodeSpec

EDIT_ERRORS = (GraphError, ParamError, ShapeError)


class GraphDocument(QObject):
    """One open graph: the model, its undo history, its file and its unsaved mark."""

    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)
    node_renamed = Signal(str, str)
    node_moved = Signal(str)
    edge_added = Signal(object)
    edge_removed = Signal(object)
    graph_reset = Signal()
    shapes_changed = Signal()
    modified_changed = Signal(bool)
    file_path_changed = Signal(str)
    message = Signal(str, str)
    meta_changed = Signal(str)

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph = graph if graph is not None else Graph()
        self.undo_stack = QUndoStack(self)
        self.file_path = ""
        self.display_name = ""
        self.meta: dict = {}
        self._batch_depth = 0
        self._batch_dirty = False
        self._forced_modified = False
        self._was_modified = False
        self.undo_stack.cleanChanged.connect(self._emit_modified)
        self.undo_stack.indexChanged.connect(self._emit_modified)

    # -- state ---------------------------------------------------------------------
    @property
    def is_modified(self) -> bool:
        return self._forced_modified or not self.undo_stack.isClean()

    @property
    def name(self) -> str:
        """What the title bar shows: the file name, the example name or "untitled"."""
        if self.file_path:
            return Path(self.file_path).name
        return self.display_name or "untitled"

    def reset(self, graph: Graph, path: str = "", name: str = "", modified: bool = False,
              meta: dict | None = None) -> None:
        """Replace the whole graph (New, Open, an example); forgets the undo history.

        ``meta`` is the file's free-form ``meta`` object (view and training settings);
        it is written back on save.
        """
        if layout.needs_layout(graph):
            for node_id, pos in layout.auto_layout_positions(graph).items():
                graph.set_position(node_id, pos)
        self.undo_stack.clear()
        self.graph = graph
        self.display_name = name
        self.meta = dict(meta or {})
        self._forced_modified = modified
        self.graph_reset.emit()
        self.shapes_changed.emit()
        self.set_file_path(path)
        self._emit_modified()

    def set_file_path(self, path: str) -> None:
        self.file_path = str(path) if path else ""
        self.file_path_changed.emit(self.file_path)

    def mark_saved(self, path: str) -> None:
        self._forced_modified = False
        self.undo_stack.setClean()
        self.set_file_path(path)
        self._emit_modified()

    def _emit_modified(self, *_args) -> None:
        now = self.is_modified
        if now != self._was_modified:
            self._was_modified = now
            self.modified_changed.emit(now)

    def log(self, text: str, level: str = "info") -> None:
        self.message.emit(text, level)

    @contextmanager
    def batch(self):
        """Group primitives so shapes are recomputed (``shapes_changed``) once at the end."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._batch_dirty:
                self._batch_dirty = False
                self.shapes_changed.emit()

    def _structure_changed(self) -> None:
        if self._batch_depth:
            self._batch_dirty = True
        else:
            self.shapes_changed.emit()

    # -- primitives (called by commands only) ------------------------------------------
    def _add(self, spec: NodeSpec) -> None:
        self.graph.add_node(spec.type, id=spec.id, position=spec.position, label=spec.label,
                            weights=spec.weights, **spec.params)
        self.node_added.emit(spec.id)
        self._structure_changed()

    def _remove(self, node_id: str) -> None:
        for edge in [e for e in self.graph.edges() if node_id in (e.src, e.dst)]:
            self._disconnect(edge)
        self.graph.remove_node(node_id)
        self.node_removed.emit(node_id)
        self._structure_changed()

    def _connect(self, edge: Edge) -> None:
        self.graph.connect(edge.src, edge.dst, dst_port=edge.dst_port, src_port=edge.src_port,
                           check_shapes=False)
        self.edge_added.emit(edge)
        self._structure_changed()

    def _disconnect(self, edge: Edge) -> None:
        self.graph.disconnect(edge.dst, edge.dst_port)
        self.edge_removed.emit(edge)
        self._structure_changed()

    def _set_params(self, node_id: str, params: dict, weights: dict | None = None) -> None:
        self.graph.set_params(node_id, **params)
        if weights is not None:
            self.graph.node(node_id).weights = {k: np.array(v, copy=True) for k, v in weights.items()}
        self.node_changed.emit(node_id)
        self._structure_changed()

    def _set_weights(self, weights: dict) -> None:
        """Replace the weights of the nodes in ``weights`` (``{node id: {name: array}}``) with
        float64 copies; ids no longer in the graph are skipped."""
        for node_id, tensors in weights.items():
            if self.graph.has_node(node_id):
                self.graph.node(node_id).weights = {k: np.array(v, dtype=np.float64, copy=True)
                                                    for k, v in tensors.items()}
                self.node_changed.emit(node_id)

    def _set_positions(self, positions: dict) -> None:
        for node_id, pos in positions.items():
            self.graph.set_position(node_id, pos)
            self.node_moved.emit(node_id)

    def _rename(self, old: str, new: str) -> None:
        self.graph.rename(old, new)
        self.node_renamed.emit(old, new)
        self._structure_changed()

    def _set_label(self, node_id: str, label: str) -> None:
        self.graph.set_label(node_id, label)
        self.node_changed.emit(node_id)

    def _set_meta(self, key: str, value) -> None:
        if value is None:
            self.meta.pop(key, None)
        else:
            self.meta[key] = value
        self.meta_changed.emit(key)

    # -- undoable edits ------------------------------------------------------------------
    def set_meta(self, key: str, value) -> None:
        """Store ``value`` (JSON-safe) under ``key`` in the file's ``meta`` (undoable)."""
        if self.meta.get(key) != value:
            self.undo_stack.push(commands.SetMeta(self, key, value))

    def add_node(self, type_name: str, position=(0.0, 0.0), node_id: str | None = None,
                 **params) -> str | None:
        """Add a node; returns its id, or ``None`` (reason logged) when refused."""
        try:
            probe = Graph()
            probe.add_node(type_name, id="probe", **params)
        except EDIT_ERRORS as exc:
            self.log(f"cannot add {type_name}: {exc}", "error")
            return None
        node_id = node_id or self.graph.fresh_id(type_name.lower())
        spec = NodeSpec(type_name, node_id, dict(probe.node("probe").params), tuple(position))
        self.undo_stack.push(commands.AddNode(self, spec))
        return node_id

    def remove_nodes(self, ids, edges=(), text: str | None = None) -> None:
        """Delete nodes (with their edges) and extra ``edges``, as one undo step."""
        ids = [i for i in dict.fromkeys(ids) if self.graph.has_node(i)]
        edges = [e for e in edges if e.src not in ids and e.dst not in ids and e in self.graph.edges()]
        if ids or edges:
            self.undo_stack.push(commands.RemoveNodes(self, ids, edges, text))

    def move_nodes(self, positions: dict, merge_key: int | None = None) -> None:
        """Move nodes to new top-left positions; consecutive moves with one ``merge_key`` merge."""
        old = {i: tuple(self.graph.node(i).position) for i in positions}
        new = {i: (float(p[0]), float(p[1])) for i, p in positions.items()}
        if old != new:
            self.undo_stack.push(commands.MoveNodes(self, old, new, merge_key))

    def connection_problem(self, src: str, dst: str, dst_port: str | None = None,
                           src_port: str = "out") -> tuple[str | None, Edge | None, Edge | None]:
        """Whether a connection would be made, asked of the model without changing it
        (called on every hover while wiring: no version bump, the shape cache is kept).

        Returns ``(reason, edge, replaced)``: the refusal reason (``None`` when it would
        work), the edge it would make, and the edge it would replace on a fed input.
        """
        g = self.graph
        try:
            if dst_port is None:
                dst_port = g.target_port(dst)
        except EDIT_ERRORS as exc:
            return str(exc), None, None
        replaced = g.edge_into(dst, dst_port) if dst_port is not None else None
        if replaced is not None and replaced.src == src and replaced.src_port == src_port:
            return f"{src} already feeds {dst}.{dst_port}", None, None
        reason = g.can_connect(src, dst, dst_port, src_port, replace=True)
        if reason is not None:
            return reason, None, None
        return None, Edge(src, src_port, dst, dst_port), replaced

    def connect(self, src: str, dst: str, dst_port: str | None = None, src_port: str = "out") -> bool:
        """Connect, replacing the edge on a fed input; a refusal is logged and changes nothing."""
        reason, edge, replaced = self.connection_problem(src, dst, dst_port, src_port)
        if reason is not None:
            self.log(f"connection refused: {reason}", "error")
            return False
        self.undo_stack.push(commands.Connect(self, edge, replaced))
        return True

    def disconnect(self, dst: str, dst_port: str) -> None:
        edge = next((e for e in self.graph.edges() if e.dst == dst and e.dst_port == dst_port), None)
        if edge is not None:
            self.undo_stack.push(commands.Disconnect(self, edge))

    def set_params(self, node_id: str, **params) -> str | None:
        """Change parameters; returns ``None`` or the reason the values were refused."""
        node = self.graph.node(node_id)
        try:
            merged = type(node.op)(**{**node.params, **params}).config
        except EDIT_ERRORS as exc:
            reason = f"{node_id}: {exc}"
            self.log(f"parameter refused: {reason}", "error")
            return reason
        new = {k: merged[k] for k in params}
        old = {k: node.params.get(k) for k in params}
        if new != old:
            self.undo_stack.push(commands.SetParams(self, node_id, new, old, node.weights))
        return None

    def rename(self, old: str, new: str) -> str | None:
        """Change a node's id; returns ``None`` or the refusal reason."""
        new = new.strip()
        if new == old:
            return None
        reason = self.graph.check_id(new)
        if reason:
            self.log(f"rename refused: {reason}", "error")
            return reason
        self.undo_stack.push(commands.Rename(self, old, new))
        return None

    def apply_weights(self, weights: dict, text: str = "Apply trained weights") -> None:
        """Put trained weights (``{node id: {name: array}}``) into the graph as one undo step;
        ids not in the graph are ignored."""
        self.undo_stack.push(commands.ApplyWeights(self, weights, text))

    def set_label(self, node_id: str, label: str) -> None:
        if self.graph.node(node_id).label != label:
            self.undo_stack.push(commands.SetLabel(self, node_id, label))

    def paste(self, fragment: Graph, offset=(40.0, 40.0), text: str = "Paste") -> list[str]:
        """Insert a copy of ``fragment`` with fresh ids, shifted by ``offset``; returns new ids."""
        if not len(fragment):
            return []
        taken = set(self.graph.nodes())
        mapping: dict[str, str] = {}
        for node_id in fragment.nodes():
            stem = node_id if node_id not in taken else node_id.rstrip("0123456789").rstrip("_") or "node"
            new_id = node_id
            if node_id in taken:
                i = 2
                while f"{stem}_{i}" in taken:
                    i += 1
                new_id = f"{stem}_{i}"
            taken.add(new_id)
            mapping[node_id] = new_id
        specs = []
        for node_id in fragment.nodes():
            spec = NodeSpec.of(fragment.node(node_id))
            spec.id = mapping[node_id]
            spec.position = (spec.position[0] + offset[0], spec.position[1] + offset[1])
            specs.append(spec)
        edges = [Edge(mapping[e.src], e.src_port, mapping[e.dst], e.dst_port) for e in fragment.edges()]
        self.undo_stack.push(commands.Paste(self, specs, edges, text))
        return [s.id for s in specs]

    def auto_layout(self) -> None:
        if not len(self.graph):
            return
        xs = [self.graph.node(n).position[0] for n in self.graph.nodes()]
        ys = [self.graph.node(n).position[1] for n in self.graph.nodes()]
        new = layout.auto_layout_positions(self.graph, (min(xs), (min(ys) + max(ys)) / 2))
        old = {n: tuple(self.graph.node(n).position) for n in new}
        if old != new:
            self.undo_stack.push(commands.MoveNodes(self, old, new, text="Auto layout"))

    # -- queries ---------------------------------------------------------------------
    def fragment(self, ids) -> Graph:
        """A new graph holding copies of ``ids`` and the edges among them (for the clipboard)."""
        keep = [i for i in self.graph.nodes() if i in set(ids)]
        out = Graph()
        for node_id in keep:
            s = NodeSpec.of(self.graph.node(node_id))
            out.add_node(s.type, id=s.id, position=s.position, label=s.label, weights=s.weights, **s.params)
        for e in self.graph.edges():
            if e.src in out.nodes() and e.dst in out.nodes():
                out.connect(e.src, e.dst, dst_port=e.dst_port, src_port=e.src_port, check_shapes=False)
        return out

    def compatible_inputs(self, src: str, src_port: str = "out") -> set[tuple[str, str]]:
        """Input ports ``src`` could feed: no cycle, and the local shape rule accepts it.

        A cheap local check for highlighting while dragging; :meth:`connect` makes the
        authoritative one.
        """
        g = self.graph
        ancestors, stack = {src}, [src]
        while stack:
            for p in g.predecessors(stack.pop()):
                if p not in ancestors:
                    ancestors.add(p)
                    stack.append(p)
        shapes, _ = g.infer_shapes()
        out_shape = shapes.get(src)
        result = set()
        for node_id in g.nodes():
            if node_id in ancestors:
                continue
            op = g.node(node_id).op
            ins = g.inputs_of(node_id)
            for i, port in enumerate(op.inputs):
                if ins[i] == src:
                    continue
                args = [shapes.get(s) if s is not None else None for s in ins]
                args[i] = out_shape
                if all(a is not None for a in args):
                    try:
                        op.infer_shape(*args)
                    except (ShapeError, ValueError, TypeError):
                        continue
                result.add((node_id, port))
        return result

    def output_shape_text(self, node_id: str) -> str:
        shapes, _ = self.graph.infer_shapes()
        return fmt_shape(shapes.get(node_id))
