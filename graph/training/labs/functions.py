"""The 2-D test functions of the optimizer race, each built as a graph of arithmetic nodes.

``function_graph(name, start)`` returns a :class:`~graph.model.graph.Graph` whose two
``Parameter`` nodes ``x`` and ``y`` hold the point and whose sink ``f`` is f(x, y); the
Engine runs it forward (the value) and backward (∂f/∂x, ∂f/∂y as the parameters'
gradients), so the race needs no hand-written derivative and the same graph opens in the
editor to be stepped node by node. With ``shape=(ny, nx)`` the parameters hold a whole
grid and one forward/backward pass gives the contour values and the gradient field.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graph.model.graph import Graph
from graph.model.templates import layout
from graph.run.engine import Engine


@dataclass(frozen=True)
class Function2D:
    """A race course: formula, default start, plot window and per-optimizer default lr."""

    name: str
    formula: str
    start: tuple
    xrange: tuple
    yrange: tuple
    minimum: tuple
    lrs: dict = field(default_factory=dict)
    log_levels: bool = True


FUNCTIONS = {
    "book": Function2D("book", "f(x, y) = x²/20 + y²", (-7.0, 2.0), (-10.0, 10.0), (-5.0, 5.0), (0.0, 0.0),
                       {"sgd": 0.95, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.15,
                        "adadelta": 1.0, "adam": 0.3}),
    "rosenbrock": Function2D("rosenbrock", "f(x, y) = (1 − x)² + 100 (y − x²)²", (-1.5, 2.0), (-2.0, 2.0),
                             (-1.0, 3.0), (1.0, 1.0),
                             {"sgd": 0.0008, "momentum": 0.0003, "nesterov": 0.0003, "adagrad": 0.5,
                              "rmsprop": 0.05, "adadelta": 1.0, "adam": 0.3}),
    "saddle": Function2D("saddle", "f(x, y) = x² − y²", (-1.5, 0.01), (-2.0, 2.0), (-2.0, 2.0), (0.0, 0.0),
                         {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.5, "rmsprop": 0.05,
                          "adadelta": 1.0, "adam": 0.1}, log_levels=False),
    "beale": Function2D("beale", "f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
                        (1.0, 1.4), (-4.5, 4.5), (-4.5, 4.5), (3.0, 0.5),
                        {"sgd": 0.0005, "momentum": 0.0002, "nesterov": 0.0002, "adagrad": 0.5,
                         "rmsprop": 0.05, "adadelta": 1.0, "adam": 0.1}),
}


class _Builder:
    """Adds nodes with readable ids; ``sq(a)`` is Mul(a, a) (the multiply node's two inputs)."""

    def __init__(self, g: Graph) -> None:
        self.g = g
        self.n = 0

    def node(self, type: str, a: str, b: str, label: str, id: str | None = None) -> str:
        self.n += 1
        nid = id or f"{type.lower()}{self.n}"
        self.g.add_node(type, id=nid, label=label)
        self.g.connect(a, nid, "a")
        self.g.connect(b, nid, "b")
        return nid

    def const(self, value: float, label: str | None = None) -> str:
        self.n += 1
        nid = f"c{self.n}"
        self.g.add_node("Constant", id=nid, value=float(value), label=label or f"{value:g}")
        return nid

    def sq(self, a: str, label: str) -> str:
        return self.node("Mul", a, a, label)


def function_graph(name: str, start=None, shape=(1,)) -> Graph:
    """f(x, y) of race course ``name`` as a graph; ``x`` and ``y`` start at ``start``.

    Parameters
    ----------
    name : str
        A key of :data:`FUNCTIONS`.
    start : (float, float), optional
        Initial values of the parameters (default: the course's start).
    shape : tuple
        Shape of each parameter: ``(1,)`` for the race, ``(ny, nx)`` for a grid.
    """
    spec = FUNCTIONS[name]
    sx, sy = spec.start if start is None else start
    g = Graph()
    g.add_node("Parameter", id="x", shape=list(shape), init="constant", fill=float(sx), label="x")
    g.add_node("Parameter", id="y", shape=list(shape), init="constant", fill=float(sy), label="y")
    b = _Builder(g)
    if name == "book":
        xx = b.sq("x", "x²")
        x20 = b.node("Div", xx, b.const(20.0), "x²/20")
        b.node("Add", x20, b.sq("y", "y²"), spec.formula, id="f")
    elif name == "rosenbrock":
        a = b.node("Sub", b.const(1.0), "x", "1 − x")
        inner = b.node("Sub", "y", b.sq("x", "x²"), "y − x²")
        far = b.node("Mul", b.const(100.0), b.sq(inner, "(y − x²)²"), "100 (y − x²)²")
        b.node("Add", b.sq(a, "(1 − x)²"), far, spec.formula, id="f")
    elif name == "saddle":
        b.node("Sub", b.sq("x", "x²"), b.sq("y", "y²"), spec.formula, id="f")
    elif name == "beale":
        y2 = b.sq("y", "y²")
        y3 = b.node("Mul", y2, "y", "y³")
        terms = []
        for c, power, ylab in ((1.5, "y", "y"), (2.25, y2, "y²"), (2.625, y3, "y³")):
            xy = b.node("Mul", "x", power, f"x{ylab}")
            t = b.node("Add", b.node("Sub", b.const(c), "x", f"{c:g} − x"), xy, f"{c:g} − x + x{ylab}")
            terms.append(b.sq(t, f"({c:g} − x + x{ylab})²"))
        b.node("Add", b.node("Add", terms[0], terms[1], "first two terms"), terms[2], spec.formula, id="f")
    else:
        raise KeyError(name)
    layout(g)
    return g


def grid(name: str, n: int = 121):
    """Contour data from the function's graph on an ``n × n`` grid over its plot window.

    Returns
    -------
    xs (n,), ys (n,), f (n, n), gx (n, n), gy (n, n)
        ``f[i, j]`` is f(xs[j], ys[i]); ``gx``/``gy`` its gradient, both from the Engine.
    """
    spec = FUNCTIONS[name]
    xs = np.linspace(*spec.xrange, n)
    ys = np.linspace(*spec.yrange, n)
    gx_, gy_ = np.meshgrid(xs, ys)
    g = function_graph(name, shape=(n, n))
    eng = Engine(g, dtype="float64")
    eng.set_param("x", "value", gx_)
    eng.set_param("y", "value", gy_)
    eng.forward()
    eng.backward()  # an elementwise f seeded with ones: each entry gets its own gradient
    return xs, ys, eng.value("f"), eng.param_grad("x", "value"), eng.param_grad("y", "value")
