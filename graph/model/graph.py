"""The graph model: op nodes on a ``networkx.MultiDiGraph`` with ordered ports.

Edges carry ``src_port`` and ``dst_port`` data; each input port is fed by at most one
edge. Validation lives here and raises the typed errors of :mod:`graph.model.errors`.
Nothing in this module knows about Qt: the GUI wraps it in an adapter that emits signals.
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx
import numpy as np

from layers import ShapeError, UnknownOpError, get_op_class
from layers.base import Op, fmt_shape

from graph.model.errors import (
    CycleError, DuplicateNodeError, GraphError, GraphShapeError, MissingInputError,
    PortAlreadyFedError, UnknownNodeError, UnknownOpTypeError, UnknownPortError,
)

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class Edge(NamedTuple):
    """A connection from ``src``'s output to ``dst``'s input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str


@dataclass
class Node:
    """One node: its op type, validated config (``params``), weights and position.

    ``weights`` maps learnable tensor and buffer names to float64 NumPy arrays; it is
    empty until an engine initialises them or a file provides them.
    """

    id: str
    type: str
    params: dict
    op: Op
    position: tuple = (0.0, 0.0)
    weights: dict = field(default_factory=dict)
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.id


class Graph:
    """A computation graph of ops. See ``ARCHITECTURE.md`` for the contract."""

    def __init__(self) -> None:
        self._g = nx.MultiDiGraph()
        self._nodes: dict[str, Node] = {}
        self.version = 0
        self._topo_cache: tuple[int, list[str]] | None = None
        self._shape_cache: tuple[int, dict, dict] | None = None

    # -- nodes -----------------------------------------------------------------
    def add_node(self, type: str, id: str | None = None, position=(0.0, 0.0), label: str = "",
                 weights: dict | None = None, **params: Any) -> str:
        """Add a node of op ``type`` configured by ``params``; return its id."""
        try:
            op_cls = get_op_class(type)
        except UnknownOpError as exc:
            raise UnknownOpTypeError(str(exc)) from None
        if id is None:
            id = self.fresh_id(type.lower())
        self._check_id(id)
        op = op_cls(**params)
        node = Node(id, type, dict(op.config), op, (float(position[0]), float(position[1])),
                    {k: np.array(v, dtype=np.float64) for k, v in (weights or {}).items()}, label)
        self._nodes[id] = node
        self._g.add_node(id)
        self._touch()
        return id

    def fresh_id(self, stem: str) -> str:
        """An unused id made from ``stem`` (``conv2d``, ``conv2d_2``, ...)."""
        stem = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "node"
        if stem[0].isdigit():
            stem = "n" + stem
        if stem not in self._nodes:
            return stem
        i = 2
        while f"{stem}_{i}" in self._nodes:
            i += 1
        return f"{stem}_{i}"

    def check_id(self, new_id: str) -> str | None:
        """Why ``new_id`` cannot name a new node (invalid or taken), or ``None``. A query:
        changes nothing (no version bump, caches kept)."""
        problem = self._id_problem(new_id)
        return None if problem is None else str(problem)

    def _id_problem(self, id: str) -> GraphError | None:
        if not isinstance(id, str) or not _ID_RE.match(id):
            return GraphError(f"invalid node id {id!r}: use letters, digits, '_', '.', '-' and start with a letter")
        if id in self._nodes:
            return DuplicateNodeError(f"a node with id {id!r} already exists")
        return None

    def _check_id(self, id: str) -> None:
        problem = self._id_problem(id)
        if problem is not None:
            raise problem

    def remove_node(self, id: str) -> list[Edge]:
        """Remove a node and its edges; return the removed edges (for undo)."""
        self.node(id)
        removed = [e for e in self.edges() if id in (e.src, e.dst)]
        self._g.remove_node(id)
        del self._nodes[id]
        self._touch()
        return removed

    def node(self, id: str) -> Node:
        try:
            return self._nodes[id]
        except KeyError:
            raise UnknownNodeError(f"no node {id!r} in the graph") from None

    def has_node(self, id: str) -> bool:
        return id in self._nodes

    def nodes(self) -> list[str]:
        """Node ids in insertion order."""
        return list(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def set_params(self, id: str, **params: Any) -> dict:
        """Change a node's configuration (validated); return the old values of the changed keys.

        Weights whose shape no longer fits are dropped so the engine re-initialises them.
        """
        node = self.node(id)
        merged = {**node.params, **params}
        op = type(node.op)(**merged)
        old = {k: node.params.get(k) for k in params}
        node.op, node.params = op, dict(op.config)
        self._touch()
        self._drop_stale_weights(id)
        return old

    def set_position(self, id: str, position) -> None:
        """Positions are model data but do not change the computation (no version bump)."""
        self.node(id).position = (float(position[0]), float(position[1]))

    def set_label(self, id: str, label: str) -> None:
        self.node(id).label = str(label)

    def rename(self, old: str, new: str) -> None:
        """Change a node's id, keeping its edges."""
        if old == new:
            return
        node = self.node(old)
        self._check_id(new)
        edges = [e for e in self.edges() if old in (e.src, e.dst)]
        self._g.remove_node(old)
        self._g.add_node(new)
        node.id = new
        self._nodes = {(new if k == old else k): v for k, v in self._nodes.items()}
        for e in edges:
            src, dst = (new if e.src == old else e.src), (new if e.dst == old else e.dst)
            self._g.add_edge(src, dst, src_port=e.src_port, dst_port=e.dst_port)
        self._touch()

    # -- edges -----------------------------------------------------------------
    def connect(self, src: str, dst: str, dst_port: str | None = None, src_port: str = "out",
                check_shapes: bool = True, check_cycle: bool = True) -> Edge:
        """Connect ``src``'s output to ``dst``'s input ``dst_port`` (first free port by default).

        ``check_cycle=False`` skips the per-edge reachability search (linear in the graph,
        so quadratic over a whole file); a bulk load then calls :meth:`check_acyclic` once.
        """
        problem, dst_port = self._connect_problem(src, dst, dst_port, src_port, replace=False,
                                                  check_shapes=check_shapes, check_cycle=check_cycle)
        if problem is not None:
            raise problem
        self._g.add_edge(src, dst, src_port=src_port, dst_port=dst_port)
        self._touch()
        return Edge(src, src_port, dst, dst_port)

    def can_connect(self, src: str, dst: str, dst_port: str | None = None, src_port: str = "out",
                    replace: bool = False) -> str | None:
        """Why :meth:`connect` would refuse this edge (the message it would raise), or ``None``.

        With ``replace`` an input that is already fed counts as free: the edge feeding it
        would be replaced (the editor's drop on a fed port). A query: changes nothing (no
        version bump, the topology and shape caches are kept).
        """
        problem, _port = self._connect_problem(src, dst, dst_port, src_port, replace, check_shapes=True)
        return None if problem is None else str(problem)

    def target_port(self, dst: str) -> str | None:
        """The input a drop on ``dst`` feeds: its first free input, else its first input (whose
        edge would be replaced); ``None`` when it has no inputs. Raises ``UnknownNodeError``."""
        inputs = self.node(dst).op.inputs
        fed = self.fed_ports(dst)
        free = [p for p in inputs if p not in fed]
        return free[0] if free else (inputs[0] if inputs else None)

    def edge_into(self, dst: str, dst_port: str) -> Edge | None:
        """The edge feeding ``dst.dst_port``, or ``None`` when it is not connected."""
        return next((e for e in self.edges() if e.dst == dst and e.dst_port == dst_port), None)

    def connect_many(self, edges) -> None:
        """Add ``(src, src_port, dst, dst_port)`` edges at once, as a file load does.

        Each edge is checked like :meth:`connect` without shapes; acyclicity is checked once
        for all of them, so this is linear in the number of edges. On an error the graph is
        unchanged and the exception (that of ``connect``) carries ``index``, the position of
        the offending edge (``None`` for a cycle).
        """
        fed_all: dict[str, dict[str, str]] = {}
        new = []
        for i, (src, src_port, dst, dst_port) in enumerate(edges):
            fed = fed_all.get(dst)
            if fed is None:
                fed = fed_all[dst] = self.fed_ports(dst) if dst in self._nodes else {}
            problem, port = self._connect_problem(src, dst, dst_port, src_port, replace=False,
                                                  check_shapes=False, check_cycle=False, fed=fed)
            if problem is not None:
                problem.index = i
                raise problem
            fed[port] = src
            new.append((src, dst, {"src_port": src_port, "dst_port": port}))
        keys = self._g.add_edges_from(new)
        self._touch()
        try:
            self.check_acyclic()
        except CycleError as exc:
            self._g.remove_edges_from([(u, v, k) for (u, v, _d), k in zip(new, keys)])
            self._touch()
            exc.index = None
            raise

    def _connect_problem(self, src: str, dst: str, dst_port: str | None, src_port: str, replace: bool,
                         check_shapes: bool, check_cycle: bool = True,
                         fed: dict | None = None) -> tuple[GraphError | None, str | None]:
        """``(error connect would raise or None, the input port it would use)``; mutates nothing.
        ``fed`` is ``dst``'s fed ports when the caller keeps them (:meth:`connect_many`)."""
        try:
            s, d = self.node(src), self.node(dst)
        except UnknownNodeError as exc:
            return exc, dst_port
        if src_port not in s.op.outputs:
            return UnknownPortError(f"{src} ({s.type}) has no output port {src_port!r} "
                                    f"(it has {', '.join(s.op.outputs)})"), dst_port
        if not d.op.inputs:
            return UnknownPortError(f"{dst} ({d.type}) has no input ports"), dst_port
        fed = self.fed_ports(dst) if fed is None else fed
        if dst_port is None:
            free = [p for p in d.op.inputs if p not in fed]
            if not free:
                return PortAlreadyFedError(f"every input of {dst} ({', '.join(d.op.inputs)}) is already "
                                           "connected"), dst_port
            dst_port = free[0]
        if dst_port not in d.op.inputs:
            return UnknownPortError(f"{dst} ({d.type}) has no input port {dst_port!r} "
                                    f"(it has {', '.join(d.op.inputs)})"), dst_port
        if dst_port in fed and not replace:
            return PortAlreadyFedError(f"input {dst}.{dst_port} is already fed by {fed[dst_port]}"), dst_port
        # an edge into dst cannot lie on a path from dst, so a replaced edge does not matter here
        if src == dst or check_cycle and nx.has_path(self._g, dst, src):
            return CycleError(f"connecting {src} -> {dst} would make a cycle ({dst} already feeds {src})"), dst_port
        if check_shapes:
            return self._shape_problem(src, dst, dst_port), dst_port
        return None, dst_port

    def check_acyclic(self) -> None:
        """Raise ``CycleError`` naming one cycle, if the graph has any (linear time)."""
        try:
            self.topo_order()   # cached: the shape inference that follows reuses it
            return
        except nx.NetworkXUnfeasible:
            pass
        cycle = [u for u, _v, *_ in nx.find_cycle(self._g)]
        shown = " -> ".join(cycle[:8] + ["..."] if len(cycle) > 8 else cycle + cycle[:1])
        raise CycleError(f"the connections make a cycle: {shown}")

    def _shape_problem(self, src: str, dst: str, dst_port: str) -> GraphShapeError | None:
        """The shape error ``dst`` would have with ``src`` on ``dst_port``, from the cached
        shapes: ``dst``'s inputs are its ancestors, so the new edge cannot change theirs."""
        shapes, _ = self.infer_shapes()
        node = self.node(dst)
        ins = [src if p == dst_port else s for p, s in zip(node.op.inputs, self.inputs_of(dst))]
        if any(s is None or s not in shapes for s in ins):
            return None  # an unfed or shapeless input: nothing to check yet
        try:
            node.op.infer_shape(*[shapes[s] for s in ins])
        except ShapeError as exc:
            desc = ", ".join(f"{s} {fmt_shape(shapes.get(s))}" for s in ins)
            return GraphShapeError(f"{dst} ({node.type}) cannot take {desc}: {exc}")
        return None

    def disconnect(self, dst: str, dst_port: str) -> Edge:
        """Remove the edge feeding ``dst.dst_port``; return it."""
        fed = self.fed_ports(dst)
        if dst_port not in fed:
            raise UnknownPortError(f"input {dst}.{dst_port} is not connected")
        src = fed[dst_port]
        src_port = self._remove_edge_raw(src, dst, dst_port)
        self._touch()
        return Edge(src, src_port, dst, dst_port)

    def _remove_edge_raw(self, src: str, dst: str, dst_port: str) -> str:
        for key, data in list(self._g.get_edge_data(src, dst, default={}).items()):
            if data["dst_port"] == dst_port:
                self._g.remove_edge(src, dst, key)
                return data["src_port"]
        raise UnknownPortError(f"no edge {src} -> {dst}.{dst_port}")

    def edges(self) -> list[Edge]:
        return [Edge(u, d["src_port"], v, d["dst_port"]) for u, v, d in self._g.edges(data=True)]

    def fed_ports(self, id: str) -> dict[str, str]:
        """``{dst_port: src id}`` for the connected inputs of ``id``."""
        # the adjacency view directly: in_edges(data=True) builds a report view per call,
        # which dominated loading and shape inference of large graphs
        return {d["dst_port"]: u for u, keyed in self._g._pred[id].items() for d in keyed.values()}

    def inputs_of(self, id: str) -> list[str | None]:
        """Source ids feeding ``id``'s input ports, in port order (``None`` where unfed)."""
        fed = self.fed_ports(id)
        return [fed.get(p) for p in self.node(id).op.inputs]

    def successors(self, id: str) -> list[str]:
        return list(dict.fromkeys(self._g.successors(id)))

    def predecessors(self, id: str) -> list[str]:
        return list(dict.fromkeys(self._g.predecessors(id)))

    def sinks(self) -> list[str]:
        """Nodes whose output feeds nothing, in insertion order."""
        return [n for n in self._nodes if self._g.out_degree(n) == 0]

    # -- whole-graph queries -----------------------------------------------------
    def _touch(self) -> None:
        self.version += 1

    def topo_order(self) -> list[str]:
        """Node ids in a topological order (ties broken by insertion order), cached."""
        if self._topo_cache and self._topo_cache[0] == self.version:
            return self._topo_cache[1]
        order = _lexicographic_topo(self._nodes, self._g._succ, self._g._pred)
        self._topo_cache = (self.version, order)
        return order

    def generations(self) -> list[list[str]]:
        """Nodes grouped by topological generation (for left-to-right layout)."""
        rank = {n: i for i, n in enumerate(self._nodes)}
        return [sorted(gen, key=rank.__getitem__) for gen in nx.topological_generations(self._g)]

    def infer_shapes(self) -> tuple[dict[str, tuple], dict[str, Exception]]:
        """``(shapes, errors)``: the output shape of every node that has one, and an
        exception (``MissingInputError`` or ``ShapeError``) for every node that does not."""
        if self._shape_cache and self._shape_cache[0] == self.version:
            return self._shape_cache[1], self._shape_cache[2]
        shapes: dict[str, tuple] = {}
        errors: dict[str, Exception] = {}
        fed_map: dict[str, dict[str, str]] = {}   # one pass over the edges, not a view per node
        for u, v, d in self._g.edges(data=True):
            fed_map.setdefault(v, {})[d["dst_port"]] = u
        for id in self.topo_order():
            node = self._nodes[id]
            fed = fed_map.get(id, {})
            ins = [fed.get(p) for p in node.op.inputs]
            missing = [p for p, s in zip(node.op.inputs, ins) if s is None]
            if missing:
                noun = "input" if len(missing) == 1 else "inputs"
                verb = "is" if len(missing) == 1 else "are"
                errors[id] = MissingInputError(f"{id}: {noun} {', '.join(missing)} {verb} not connected")
                continue
            if any(s not in shapes for s in ins):
                bad = next(s for s in ins if s not in shapes)
                errors[id] = MissingInputError(f"{id}: input {bad} has no shape (it has an error)")
                continue
            try:
                shapes[id] = tuple(node.op.infer_shape(*[shapes[s] for s in ins]))
            except ShapeError as exc:
                errors[id] = exc
        self._shape_cache = (self.version, shapes, errors)
        return shapes, errors

    def input_shapes(self, id: str) -> list[tuple] | None:
        shapes, _ = self.infer_shapes()
        ins = self.inputs_of(id)
        if any(s is None or s not in shapes for s in ins):
            return None
        return [shapes[s] for s in ins]

    def param_count(self, id: str) -> int:
        """Learnable scalars of one node (0 when its input shapes are unknown)."""
        node = self.node(id)
        if not node.op.learnable:
            return 0
        ins = self.input_shapes(id)
        if ins is None:
            return 0
        try:
            return node.op.param_count(*ins)
        except ShapeError:
            return 0

    def total_params(self) -> int:
        return sum(self.param_count(n) for n in self._nodes)

    def validate(self) -> None:
        """Raise the first problem that stops the graph from running."""
        _, errors = self.infer_shapes()
        for id in self.topo_order():
            if id in errors:
                exc = errors[id]
                if isinstance(exc, GraphError):
                    raise exc
                raise GraphShapeError(f"{id} ({self.node(id).type}): {exc}")

    def _drop_stale_weights(self, id: str) -> None:
        node = self.node(id)
        ins = self.input_shapes(id)
        expected = None
        if ins is not None:
            try:
                expected = node.op.param_shapes(*ins)
            except ShapeError:
                expected = None
        for name in list(node.weights):
            if expected is None or name not in expected or tuple(expected[name]) != node.weights[name].shape:
                del node.weights[name]

    def copy(self) -> Graph:
        """A deep copy (weights copied too)."""
        g = Graph()
        for id, n in self._nodes.items():
            g.add_node(n.type, id=id, position=n.position, label=n.label,
                       weights={k: v.copy() for k, v in n.weights.items()}, **n.params)
        for e in self.edges():
            g._g.add_edge(e.src, e.dst, src_port=e.src_port, dst_port=e.dst_port)
        g._touch()
        return g


def _lexicographic_topo(nodes, succ: dict, pred: dict) -> list[str]:
    """Kahn's algorithm over networkx's adjacency dicts, ready nodes taken in insertion order.

    The same order as ``nx.lexicographical_topological_sort(g, key=rank)`` at a fraction of
    its cost (no views per node), which matters for files of tens of thousands of nodes.
    Raises ``nx.NetworkXUnfeasible`` when the graph has a cycle.
    """
    rank = {n: i for i, n in enumerate(nodes)}
    waiting = {n: len(pred[n]) for n in nodes}
    ready = [(rank[n], n) for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                heapq.heappush(ready, (rank[m], m))
    if len(order) != len(rank):
        raise nx.NetworkXUnfeasible("the graph contains a cycle")
    return order
