"""Perceptron truth tables and decision lines, Qt-free (the GUI's gate panel draws these).

A graph qualifies when it has two scalar inputs (one data ``Input`` of shape (N, 2), or two
Inputs of one value per sample) and its output is a ``Step`` or ``Sigmoid`` node. The table
comes from running the graph itself through the :class:`~graph.run.engine.Engine` on the four
rows (0, 0), (1, 0), (0, 1), (1, 1), so whatever the graph computes is what is shown.

Decision lines come from the units that read the inputs directly: a ``MatMul`` with a
``Constant`` weight matrix (2, k), plus a ``Constant`` bias, as in the gate templates, or an
``Affine``. Unit j's line is ``w1·x1 + w2·x2 + b = 0``; the unit outputs 1 on the side where
the left-hand side is positive. Lines from Constants are editable: :meth:`TruthTable.edit`
returns the new Constant values, which the GUI applies through its undo commands.

::

    tt = TruthTable(templates.build("and_gate"))
    [r.y for r in tt.rows()]          # [0, 0, 0, 1]
    tt.lines()[0].w1, tt.lines()[0].b # 0.5, -0.7
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.model.templates import TRUTH_TABLE

OUTPUT_TYPES = ("Step", "Sigmoid")
# labels of the table in TRUTH_TABLE order (0,0), (1,0), (0,1), (1,1)
GATES = {(0, 0, 0, 1): "AND", (1, 1, 1, 0): "NAND", (0, 1, 1, 1): "OR", (1, 0, 0, 0): "NOR",
         (0, 1, 1, 0): "XOR", (1, 0, 0, 1): "XNOR", (0, 1, 0, 1): "x1", (0, 0, 1, 1): "x2",
         (1, 0, 1, 0): "NOT x1", (1, 1, 0, 0): "NOT x2", (0, 0, 0, 0): "always 0", (1, 1, 1, 1): "always 1",
         (0, 1, 0, 0): "x1 AND NOT x2", (0, 0, 1, 0): "x2 AND NOT x1", (1, 0, 1, 1): "x2 OR NOT x1",
         (1, 1, 0, 1): "x1 OR NOT x2"}


class TruthTableError(ValueError):
    """The graph is not a two-input perceptron (the message says what is missing)."""


@dataclass
class Row:
    """One row of the table: the inputs, the output value and the class it stands for."""

    x1: float
    x2: float
    value: float
    y: int


@dataclass
class DecisionLine:
    """Unit ``column`` of a first layer: w1·x1 + w2·x2 + b = 0.

    ``weight_node`` / ``bias_node`` are the Constant ids holding the numbers (``None`` when
    the line is read from an Affine's weights, which the table does not edit); ``name`` is
    the gate the unit computes on the four rows (``"NAND"``), when it is one.
    """

    w1: float
    w2: float
    b: float
    column: int
    weight_node: str | None
    bias_node: str | None
    name: str

    @property
    def editable(self) -> bool:
        return self.weight_node is not None and self.bias_node is not None

    def side(self, x1: float, x2: float) -> float:
        """w1·x1 + w2·x2 + b: positive on the side the unit calls 1."""
        return self.w1 * x1 + self.w2 * x2 + self.b

    def segment(self, lo: float = -0.5, hi: float = 1.5) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The line clipped to the square [lo, hi]², as two end points; ``None`` when w1 = w2 = 0."""
        pts = []
        if abs(self.w2) > 1e-12:
            for x1 in (lo, hi):
                x2 = -(self.w1 * x1 + self.b) / self.w2
                if lo - 1e-9 <= x2 <= hi + 1e-9:
                    pts.append((x1, x2))
        if abs(self.w1) > 1e-12:
            for x2 in (lo, hi):
                x1 = -(self.w2 * x2 + self.b) / self.w1
                if lo - 1e-9 <= x1 <= hi + 1e-9:
                    pts.append((x1, x2))
        unique = list(dict.fromkeys((round(a, 12), round(b, 12)) for a, b in pts))
        return (unique[0], unique[1]) if len(unique) >= 2 else None

    def equation(self) -> str:
        """``0.5·x1 + 0.5·x2 − 0.7 = 0``."""
        def term(v: float, text: str, first: bool = False) -> str:
            sign = "−" if v < 0 else ("" if first else "+")
            return f"{sign}{abs(v):g}{text}" if first else f" {sign} {abs(v):g}{text}"
        return term(self.w1, "·x1", True) + term(self.w2, "·x2") + term(self.b, "") + " = 0"


def gate_name(ys) -> str:
    """The name of the boolean function with outputs ``ys`` on the four rows ('' if none)."""
    return GATES.get(tuple(int(v) for v in ys), "")


def separable(ys) -> bool:
    """Whether one line separates the 1s from the 0s of a four-row table (all but XOR/XNOR)."""
    return gate_name(ys) not in ("XOR", "XNOR")


class TruthTable:
    """The truth-table model of a two-input perceptron graph (see the module docs)."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.inputs = self._find_inputs()
        self.output = self._find_output()

    # -- structure --------------------------------------------------------------------
    def _find_inputs(self) -> list[str]:
        g = self.graph
        ids = [i for i in g.nodes() if g.node(i).type == "Input" and g.node(i).params.get("role") != "label"]
        shapes = {i: tuple(g.node(i).params["shape"]) for i in ids}
        pairs = [i for i in ids if shapes[i][-1:] == (2,) and len(shapes[i]) <= 2]
        if len(pairs) == 1:
            return pairs
        scalars = [i for i in ids if all(d in (None, 1) for d in shapes[i])]
        if len(scalars) == 2:
            return scalars
        raise TruthTableError("a truth table needs two scalar inputs: one Input of shape (N, 2) or two Inputs "
                              f"of one value per sample; this graph has {', '.join(ids) or 'no data Inputs'}")

    def _find_output(self) -> str:
        g = self.graph
        sinks = [i for i in g.topo_order() if not g.successors(i)]
        outs = [i for i in sinks if g.node(i).type in OUTPUT_TYPES]
        if len(outs) != 1:
            raise TruthTableError("a truth table needs one Step or Sigmoid output node; this graph ends in "
                                  + ", ".join(f"{i} ({g.node(i).type})" for i in sinks))
        return outs[0]

    def feeds(self, points) -> dict:
        """Feeds for points (M, 2): one (M, 2) batch, or two columns for two scalar Inputs."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(self.inputs) == 1:
            return {self.inputs[0]: pts}
        out = {}
        for j, id in enumerate(self.inputs):
            shape = tuple(self.graph.node(id).params["shape"])
            out[id] = pts[:, j].reshape((-1,) + (1,) * (len(shape) - 1))
        return out

    def evaluate(self, points) -> np.ndarray:
        """The output node's value (M,) at points (M, 2), run by the Engine (float64)."""
        from graph.run.engine import Engine  # noqa: PLC0415 - keeps importing this module cheap

        eng = Engine(self.graph, dtype="float64")
        eng.forward(self.feeds(points), train=False)
        return np.asarray(eng.value(self.output), dtype=np.float64).reshape(len(np.asarray(points).reshape(-1, 2)), -1)[:, 0]

    # -- the table ---------------------------------------------------------------------
    def rows(self) -> list[Row]:
        """x1, x2 and y for the four rows in the book's order."""
        values = self.evaluate(TRUTH_TABLE)
        sigmoid = self.graph.node(self.output).type == "Sigmoid"
        return [Row(x1, x2, float(v), int(v > 0.5) if sigmoid else int(round(v)))
                for (x1, x2), v in zip(TRUTH_TABLE, values)]

    def gate(self) -> str:
        return gate_name(r.y for r in self.rows())

    def region(self, n: int = 41, lo: float = -0.5, hi: float = 1.5) -> np.ndarray:
        """The output over an n×n grid of [lo, hi]²: ``region[i, j]`` at x1 = xs[j], x2 = xs[i]."""
        xs = np.linspace(lo, hi, n)
        x1, x2 = np.meshgrid(xs, xs)
        return self.evaluate(np.stack([x1.ravel(), x2.ravel()], axis=1)).reshape(n, n)

    # -- lines -------------------------------------------------------------------------------
    def _constant(self, id: str | None):
        if id is None or self.graph.node(id).type != "Constant":
            return None
        return np.asarray(self.graph.node(id).params["value"], dtype=np.float64)

    def lines(self) -> list[DecisionLine]:
        """The decision lines of the units that read (x1, x2) directly, one per unit."""
        if len(self.inputs) != 1:
            return []
        g = self.graph
        found = []
        for consumer in g.successors(self.inputs[0]):
            node = g.node(consumer)
            if node.type == "MatMul":
                fed = g.fed_ports(consumer)
                w_id = fed.get("b") if fed.get("a") == self.inputs[0] else None
                w = self._constant(w_id)
                if w is None or w.ndim != 2 or w.shape[0] != 2:
                    continue
                b_id, b = self._bias_after(consumer)
                bias = np.broadcast_to(b if b is not None else 0.0, (w.shape[1],))
                unit_ys = self._unit_tables(w, bias)
                found += [DecisionLine(float(w[0, j]), float(w[1, j]), float(bias[j]), j, w_id, b_id,
                                       gate_name(unit_ys[:, j])) for j in range(w.shape[1])]
            elif node.type == "Affine" and "W" in node.weights:
                w = np.asarray(node.weights["W"], dtype=np.float64)
                bias = np.asarray(node.weights.get("b", np.zeros(w.shape[1])), dtype=np.float64)
                unit_ys = self._unit_tables(w, bias)
                found += [DecisionLine(float(w[0, j]), float(w[1, j]), float(bias[j]), j, None, None,
                                       gate_name(unit_ys[:, j])) for j in range(w.shape[1])]
        return found

    def _bias_after(self, matmul: str) -> tuple[str | None, np.ndarray | None]:
        g = self.graph
        for add in g.successors(matmul):
            if g.node(add).type != "Add":
                continue
            other = [src for src in g.inputs_of(add) if src not in (matmul, None)]
            if other and g.node(other[0]).type == "Constant":
                return other[0], self._constant(other[0]).reshape(-1)
        return None, None

    @staticmethod
    def _unit_tables(w, bias) -> np.ndarray:
        """Step of each unit on the four rows: (4, k) of 0/1."""
        return (np.asarray(TRUTH_TABLE) @ w + bias > 0).astype(int)

    def edit(self, line: DecisionLine, w1: float | None = None, w2: float | None = None,
             b: float | None = None) -> dict[str, list | float]:
        """New ``value`` params ``{constant id: value}`` that move ``line`` to the given numbers."""
        if not line.editable:
            raise TruthTableError("this line comes from an Affine's learned weights; edit a Constant gate instead")
        out: dict[str, list | float] = {}
        if w1 is not None or w2 is not None:
            w = self._constant(line.weight_node).copy()
            if w1 is not None:
                w[0, line.column] = w1
            if w2 is not None:
                w[1, line.column] = w2
            out[line.weight_node] = w.tolist()
        if b is not None:
            old = self._constant(line.bias_node)
            if old.ndim == 0:
                out[line.bias_node] = float(b)
            else:
                new = old.copy()
                new.reshape(-1)[line.column] = b
                out[line.bias_node] = new.tolist()
        return out

    def explanation(self) -> str:
        """Why the lines do (or cannot) separate the table, in words."""
        ys = [r.y for r in self.rows()]
        name = gate_name(ys) or "this table"
        ones = [f"({r.x1:g}, {r.x2:g})" for r in self.rows() if r.y == 1]
        lines = self.lines()
        if separable(ys):
            if len(lines) == 1:
                return (f"{name}: the line {lines[0].equation()} puts {', '.join(ones) or 'no point'} on the 1 side "
                        "and the other points on the 0 side.")
            return f"{name}: one line can separate the 1s ({', '.join(ones) or 'none'}) from the 0s."
        text = (f"{name}: the 1s ({', '.join(ones)}) sit on one diagonal and the 0s on the other, so any straight "
                "line that has both 1s on one side also has a 0 there: no single perceptron computes it.")
        if len(lines) >= 2:
            names = " and ".join(ln.name or f"unit {ln.column + 1}" for ln in lines)
            text += (f" The first layer's two lines ({names}) cut the plane into bands; the second layer "
                     "combines them, and y = 1 only between the lines.")
        return text
