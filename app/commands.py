"""Undo commands: each changes only the model, through the document's primitives.

A command captures everything its undo needs when it is created (node specs with
weights, the edge a connection replaces, old parameter values), so redo and undo are
exact mirrors and the scene simply follows the signals they cause.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from .node_spec import NodeSpec

MOVE_ID = 4101
META_ID = 4102


class AddNode(QUndoCommand):
    def __init__(self, doc, spec) -> None:
        super().__init__(f"Add {spec.type}")
        self.doc, self.spec = doc, spec

    def redo(self) -> None:
        self.doc._add(self.spec)

    def undo(self) -> None:
        self.doc._remove(self.spec.id)


class RemoveNodes(QUndoCommand):
    """Delete nodes together with every edge touching them, plus extra edges."""

    def __init__(self, doc, ids, extra_edges=(), text: str | None = None) -> None:
        n = len(ids)
        default = f"Delete {n} node{'s' * (n != 1)}" if n else "Delete connection"
        super().__init__(text or default)

        g = doc.graph
        self.doc = doc
        self.specs = [NodeSpec.of(g.node(i)) for i in g.nodes() if i in set(ids)]
        touching = [e for e in g.edges() if e.src in ids or e.dst in ids]
        self.edges = list(dict.fromkeys([*extra_edges, *touching]))

    def redo(self) -> None:
        with self.doc.batch():
            for e in self.edges:
                self.doc._disconnect(e)
            for s in self.specs:
                self.doc._remove(s.id)

    def undo(self) -> None:
        with self.doc.batch():
            for s in self.specs:
                self.doc._add(s)
            for e in self.edges:
                self.doc._connect(e)


class MoveNodes(QUndoCommand):
    """Set node positions (a drag, or Auto Layout with ``text``); moves of one mouse drag
    (same ``merge_key``) merge into one step."""

    def __init__(self, doc, old: dict, new: dict, merge_key: int | None = None, text: str | None = None) -> None:
        n = len(new)
        super().__init__(text or f"Move {n} node{'s' * (n != 1)}")
        self.doc, self.old, self.new, self.merge_key = doc, dict(old), dict(new), merge_key

    def id(self) -> int:
        return MOVE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, MoveNodes) or other.merge_key != self.merge_key or self.merge_key is None:
            return False
        for node_id, pos in other.old.items():
            self.old.setdefault(node_id, pos)
        self.new.update(other.new)
        return True

    def redo(self) -> None:
        self.doc._set_positions(self.new)

    def undo(self) -> None:
        self.doc._set_positions(self.old)


class Connect(QUndoCommand):
    """Make an edge; on a fed input the old edge is replaced in the same step."""

    def __init__(self, doc, edge, replaced=None) -> None:
        verb = "Replace connection" if replaced else "Connect"
        super().__init__(f"{verb} {edge.src} → {edge.dst}.{edge.dst_port}")
        self.doc, self.edge, self.replaced = doc, edge, replaced

    def redo(self) -> None:
        with self.doc.batch():
            if self.replaced is not None:
                self.doc._disconnect(self.replaced)
            self.doc._connect(self.edge)

    def undo(self) -> None:
        with self.doc.batch():
            self.doc._disconnect(self.edge)
            if self.replaced is not None:
                self.doc._connect(self.replaced)


class Disconnect(QUndoCommand):
    def __init__(self, doc, edge) -> None:
        super().__init__(f"Disconnect {edge.src} → {edge.dst}.{edge.dst_port}")
        self.doc, self.edge = doc, edge

    def redo(self) -> None:
        self.doc._disconnect(self.edge)

    def undo(self) -> None:
        self.doc._connect(self.edge)


class SetParams(QUndoCommand):
    """Change parameters; undo also restores weights the change made stale."""

    def __init__(self, doc, node_id: str, new: dict, old: dict, weights: dict) -> None:
        names = ", ".join(new)
        super().__init__(f"Set {node_id}.{names}")
        self.doc, self.node_id, self.new, self.old = doc, node_id, dict(new), dict(old)
        self.weights = {k: v.copy() for k, v in weights.items()}

    def redo(self) -> None:
        self.doc._set_params(self.node_id, self.new)

    def undo(self) -> None:
        self.doc._set_params(self.node_id, self.old, self.weights)


class Rename(QUndoCommand):
    def __init__(self, doc, old: str, new: str) -> None:
        super().__init__(f"Rename {old} → {new}")
        self.doc, self.old, self.new = doc, old, new

    def redo(self) -> None:
        self.doc._rename(self.old, self.new)

    def undo(self) -> None:
        self.doc._rename(self.new, self.old)


class SetLabel(QUndoCommand):
    def __init__(self, doc, node_id: str, label: str) -> None:
        super().__init__(f"Label {node_id}")
        self.doc, self.node_id, self.label = doc, node_id, label
        self.old = doc.graph.node(node_id).label

    def redo(self) -> None:
        self.doc._set_label(self.node_id, self.label)

    def undo(self) -> None:
        self.doc._set_label(self.node_id, self.old)


class Paste(QUndoCommand):
    """Insert prepared node specs and edges (paste, duplicate, drop of a fragment)."""

    def __init__(self, doc, specs, edges, text: str = "Paste") -> None:
        n = len(specs)
        super().__init__(f"{text} {n} node{'s' * (n != 1)}")
        self.doc, self.specs, self.edges = doc, list(specs), list(edges)

    def redo(self) -> None:
        with self.doc.batch():
            for s in self.specs:
                self.doc._add(s)
            for e in self.edges:
                self.doc._connect(e)

    def undo(self) -> None:
        with self.doc.batch():
            for e in self.edges:
                self.doc._disconnect(e)
            for s in self.specs:
                self.doc._remove(s.id)


class ApplyWeights(QUndoCommand):
    """Put trained weights into the graph; undo puts the old ones back."""

    def __init__(self, doc, new: dict, text: str = "Apply trained weights") -> None:
        super().__init__(text)
        g = doc.graph
        self.doc = doc
        self.new = {nid: w for nid, w in new.items() if g.has_node(nid)}
        self.old = {nid: {k: v.copy() for k, v in g.node(nid).weights.items()} for nid in self.new}

    def redo(self) -> None:
        self.doc._set_weights(self.new)

    def undo(self) -> None:
        self.doc._set_weights(self.old)


class SetMeta(QUndoCommand):
    """Set ``meta[key]`` of the document (training settings saved with the graph);
    consecutive changes of the same key merge into one step."""

    def __init__(self, doc, key: str, value, text: str = "Change training settings") -> None:
        super().__init__(text)
        self.doc, self.key = doc, key
        self.old, self.new = doc.meta.get(key), value

    def id(self) -> int:
        return META_ID

    def mergeWith(self, other) -> bool:
        if getattr(other, "key", None) != self.key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc._set_meta(self.key, self.new)

    def undo(self) -> None:
        self.doc._set_meta(self.key, self.old)
