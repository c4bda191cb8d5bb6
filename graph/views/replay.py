"""What the canvas shows after the first ``k + 1`` recorded steps, Qt-free.

The engine records one :class:`~graph.run.engine.StepEvent` per node and phase
(:meth:`Engine.steps`). :class:`Replay` turns that list into a display state for any
moment ``k`` (``k = -1``: nothing run yet; ``k = len(events) - 1``: backward done):

- nodes: ``active`` (the node of event ``k``), ``done`` (its forward value exists) or
  ``dimmed`` (not computed yet); a value text once computed, a gradient text once its
  backward step ran, and the active node's rule text;
- edges ``src -> dst.port``: the value label (the output of ``src``) appears at ``src``'s
  forward step, the gradient label (``dst``'s ``input_grads[port]``: the gradient flowing
  back along this edge) at ``dst``'s backward step; the edges the active node sends along
  carry a ``flow`` (``"forward"`` or ``"backward"``) for the pulse animation.

The state is a pure function of ``k``: every string is formatted once up front, and
:meth:`Replay.state` only compares ``k`` with each item's step indices, so stepping back
restores exactly the previous display and stepping a 100-node graph costs well under a
millisecond. :meth:`Replay.changed` names the items whose display differs between two
moments, so a view can update only those.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layers.base import fmt_num, fmt_shape

from graph.model.graph import Edge, Graph

EdgeKey = tuple  # (src, dst, dst_port)


def fmt_value(x: Any) -> str:
    """A canvas label for a value: scalars like the book (220, 2.2, 110); arrays by their
    norm (``norm 5.03``: the node's footer and the edge's tag already give the shape)."""
    if x is None:
        return ""
    arr = np.asarray(x)
    if arr.size == 1:
        return fmt_num(arr)
    if arr.dtype.kind not in "fiub" or arr.size == 0:
        return fmt_shape(arr.shape)
    return f"norm {float(np.linalg.norm(arr.astype(np.float64).reshape(-1))):.3g}"


RULE_ENTRIES = 4   # tensors up to this size are written out in full on the rule card


def fmt_summary(x: Any) -> str:
    """A value for the rule card: a number, a few entries, or shape, norm and a pointer.

    ``220``; ``[0.1, -0.2, 0.3]``; ``⟨(1, 30, 24, 24) tensor, norm 5.03⟩`` (its entries are
    in the step inspector's tensor views, see :data:`SEE_TENSORS`).
    """
    if x is None:
        return ""
    arr = np.asarray(x)
    if arr.size == 1:
        return fmt_num(arr)
    if arr.size <= RULE_ENTRIES:
        return "[" + ", ".join(fmt_num(v) for v in arr.reshape(-1)) + "]"
    if arr.dtype.kind not in "fiub":
        return f"⟨{fmt_shape(arr.shape)} tensor⟩"
    norm = float(np.linalg.norm(arr.astype(np.float64).reshape(-1)))
    return f"⟨{fmt_shape(arr.shape)} tensor, norm {norm:.3g}⟩"


SEE_TENSORS = "(⟨…⟩: shape and norm of a tensor; its entries are in the tensor views below)"


def _with_pointer(text: str) -> str:
    return f"{text}\n{SEE_TENSORS}" if "⟨" in text else text


def edge_key(edge: Edge) -> EdgeKey:
    """The key of an edge in :attr:`DisplayState.edges`: ``(src, dst, dst_port)``."""
    return (edge.src, edge.dst, edge.dst_port)


@dataclass(frozen=True)
class NodeDisplay:
    """How one node looks at one moment."""

    state: str
    value: str = ""
    grad: str = ""
    rule: str = ""


@dataclass(frozen=True)
class EdgeDisplay:
    """How one edge looks at one moment.

    ``value_array`` (the value itself, for a thumbnail) takes no part in comparisons:
    two displays are equal when they read the same.
    """

    value: str = ""
    grad: str = ""
    flow: str = ""
    value_array: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DisplayState:
    """The whole canvas at moment ``index`` (``-1``: nothing run)."""

    index: int
    phase: str
    active: str | None
    nodes: dict
    edges: dict
    rule: str = ""


_IDLE = NodeDisplay("normal")


@dataclass
class _NodeTrack:
    fwd: int = -1
    bwd: int = -1
    value: str = ""
    grad: str = ""
    grad_summary: str = ""
    fwd_rule: str = ""
    bwd_rule: str = ""


@dataclass
class _EdgeTrack:
    key: EdgeKey
    show_value: int
    show_grad: int
    value: str
    grad: str
    value_array: Any


_NEVER = 1 << 60


class Replay:
    """Display states of a recorded run.

    Parameters
    ----------
    graph : Graph
        The graph the events came from (for edges and ports).
    events : list of StepEvent
        ``list(engine.steps(feeds))``, in order.
    """

    def __init__(self, graph: Graph, events: list) -> None:
        self.events = list(events)
        self.graph = graph
        self._nodes: dict[str, _NodeTrack] = {n: _NodeTrack() for n in graph.nodes()}
        self._edges: list[_EdgeTrack] = []
        self._edges_by_node: dict[str, list[int]] = {n: [] for n in graph.nodes()}
        self._build()

    def __len__(self) -> int:
        return len(self.events)

    @property
    def last_forward(self) -> int:
        """Index of the last forward event (``-1`` if none)."""
        idx = [e.index for e in self.events if e.phase == "forward"]
        return max(idx) if idx else -1

    # -- precomputation -------------------------------------------------------------
    def _build(self) -> None:
        port_grads: dict[EdgeKey, Any] = {}
        for k, ev in enumerate(self.events):
            track = self._nodes.setdefault(ev.node, _NodeTrack())
            if ev.phase == "forward":
                track.fwd = k
                track.value = fmt_value(ev.output)
                track.fwd_rule = self._forward_text(ev)
            else:
                track.bwd = k
                track.grad = fmt_value(ev.upstream)
                track.grad_summary = fmt_summary(ev.upstream)
                track.bwd_rule = self.named_rule(ev.node, ev.rule)
                ports = self.graph.node(ev.node).op.inputs if self.graph.has_node(ev.node) else ()
                for port, g in zip(ports, ev.input_grads):
                    port_grads[(ev.node, port)] = g
        self._source_rules()
        outputs = {ev.node: ev.output for ev in self.events if ev.phase == "forward"}
        for e in self.graph.edges():
            src, dst = self._nodes.get(e.src, _NodeTrack()), self._nodes.get(e.dst, _NodeTrack())
            grad = port_grads.get((e.dst, e.dst_port))
            value = outputs.get(e.src)
            # an array's value is drawn as a preview image under the shape tag, and its norms
            # are on the nodes: an edge that short has no room for more text
            scalar = np.size(value) <= 1
            track = _EdgeTrack(edge_key(e), src.fwd if src.fwd >= 0 else _NEVER,
                               dst.bwd if dst.bwd >= 0 and grad is not None else _NEVER,
                               fmt_value(value) if scalar else "", fmt_value(grad) if scalar else "", value)
            i = len(self._edges)
            self._edges.append(track)
            self._edges_by_node.setdefault(e.src, []).append(i)
            if e.dst != e.src:
                self._edges_by_node.setdefault(e.dst, []).append(i)

    def _source_rules(self) -> None:
        """A source's backward text: its gradient and the consumer rule lines that sent it."""
        for ev in self.events:
            track = self._nodes[ev.node]
            if ev.phase != "backward" or ev.inputs or not track.grad:
                continue
            head = f"∂L/∂{ev.node} ="
            sent = [f"from {dst}: {line}" for dst in self._consumers(ev.node)
                    for line in self._nodes.get(dst, _NodeTrack()).bwd_rule.splitlines()
                    if line.startswith(head)]
            # the op's rule names its port (∂L/∂x, ∂L/∂c): name the node instead
            rule = re.sub(r"∂L/∂\w+", f"∂L/∂{ev.node}", ev.rule)
            track.bwd_rule = _with_pointer("\n".join([f"∂L/∂{ev.node} = {track.grad_summary}", *sent,
                                                       f"({rule})"]))

    def _consumers(self, node: str) -> list[str]:
        return self.graph.successors(node) if self.graph.has_node(node) else []

    def _forward_text(self, ev) -> str:
        """``mul_apple = Mul(apple = 100, apple_num = 2) = 200`` (node ids, not labels); tensors
        as :func:`fmt_summary` writes them."""
        out = fmt_summary(ev.output)
        if not self.graph.has_node(ev.node):
            return _with_pointer(f"{ev.node} = {out}")
        srcs = self.graph.inputs_of(ev.node)
        ports = self.graph.node(ev.node).op.inputs
        if not ports:
            return _with_pointer(f"{ev.node} = {out}")
        args = ", ".join(f"{s or p} = {fmt_summary(v)}"
                         for p, s, v in zip(ports, srcs, ev.inputs))
        return _with_pointer(f"{ev.node} = {ev.type}({args}) = {out}")

    def named_rule(self, node: str, rule: str) -> str:
        """The rule with port names replaced by the nodes that feed them.

        ``∂L/∂a = ∂L/∂out × b = 1 × 1.1 = 1.1`` for ``mul_tax`` (``a`` fed by
        ``mul_apple``, ``b`` by ``tax``) becomes
        ``∂L/∂mul_apple = ∂L/∂out × tax = 1 × 1.1 = 1.1``.
        """
        if not rule or not self.graph.has_node(node):
            return rule
        names = {p: s for p, s in zip(self.graph.node(node).op.inputs,
                                                   self.graph.inputs_of(node)) if s}
        if not names:
            return rule
        alt = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(∂L/∂|× )({alt})(?![\w])")
        return pattern.sub(lambda m: m.group(1) + names[m.group(2)], rule)

    def event_index(self, node: str, phase: str) -> int:
        """Index of ``node``'s event in ``phase`` (``-1`` when it has none)."""
        t = self._nodes.get(node)
        if t is None:
            return -1
        return t.fwd if phase == "forward" else t.bwd

    # -- moments --------------------------------------------------------------------
    def clamp(self, k: int) -> int:
        """``k`` limited to ``-1 .. len(events) - 1``."""
        return max(-1, min(int(k), len(self.events) - 1))

    def node_display(self, node: str, k: int) -> NodeDisplay:
        """The display of one node at moment ``k``."""
        if k < 0:
            return _IDLE
        t = self._nodes.get(node)
        if t is None or t.fwd < 0 or t.fwd > k:
            return NodeDisplay("dimmed")
        grad = t.grad if 0 <= t.bwd <= k else ""
        if k == t.fwd:
            return NodeDisplay("active", t.value, grad, t.fwd_rule)
        if k == t.bwd:
            return NodeDisplay("active", t.value, grad, t.bwd_rule)
        return NodeDisplay("done", t.value, grad)

    def _edge_display(self, t: _EdgeTrack, k: int) -> EdgeDisplay:
        show_v, show_g = k >= t.show_value, k >= t.show_grad
        flow = "backward" if k == t.show_grad else "forward" if k == t.show_value else ""
        return EdgeDisplay(t.value if show_v else "", t.grad if show_g else "", flow,
                           t.value_array if show_v else None)

    def state(self, k: int) -> DisplayState:
        """The display after events ``0 .. k`` (``k = -1``: nothing run yet)."""
        k = self.clamp(k)
        nodes = {n: self.node_display(n, k) for n in self._nodes}
        edges = {t.key: self._edge_display(t, k) for t in self._edges}
        ev = self.events[k] if k >= 0 else None
        phase = ev.phase if ev else ""
        active = ev.node if ev else None
        rule = nodes[active].rule if active in nodes else ""
        return DisplayState(k, phase, active, nodes, edges, rule)

    def changed(self, a: int, b: int) -> tuple[set, set]:
        """``(node ids, edge keys)`` whose display may differ between moments ``a`` and ``b``.

        Only items whose step indices fall between the two moments, or that are active at
        either, can change; from or to ``-1`` everything can.
        """
        a, b = self.clamp(a), self.clamp(b)
        if a == b:
            return set(), set()
        if a < 0 or b < 0:
            return set(self._nodes), {t.key for t in self._edges}
        lo, hi = min(a, b), max(a, b)
        nodes: set = set()
        for k in (a, b):
            nodes.add(self.events[k].node)
        for k in range(lo + 1, hi + 1):
            nodes.add(self.events[k].node)
        edges: set = set()
        for n in nodes:
            for i in self._edges_by_node.get(n, ()):
                edges.add(self._edges[i].key)
        return nodes, edges

    def event_labels(self) -> list[str]:
        """Timeline text of every event: ``"forward · mul_apple"``."""
        return [f"{ev.phase} · {ev.node}" for ev in self.events]
