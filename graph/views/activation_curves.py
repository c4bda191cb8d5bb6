"""Activation functions and their derivatives as curves, with a node's own values marked.

The curves come from the op's own ``forward`` and ``backward`` (``backward`` with an
upstream gradient of 1 gives the local derivative), so the plot shows exactly what the
engine computes, kinks and all. For ``Softmax`` the plot is of one row: output k as a
function of input k while the other inputs of the row keep their values, whose
derivative is ∂y_k/∂x_k = y_k (1 − y_k).

::

    c = curves("Sigmoid")                       # c.x, c.y, c.dy over -6..6
    m = marks("ReLU", {}, x_values, upstream)   # the inputs on the curve after a forward pass
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layers import make_op

SUPPORTED = ("Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity")
MAX_MARKS = 200


class ActivationPlotError(ValueError):
    """The node is not an activation the plot knows (the message lists the ones it does)."""


@dataclass
class Curves:
    """f and f' sampled on ``x`` (all (M,) float64); ``title`` names them, e.g. ``"σ(x)"``."""

    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    title: str
    derivative_title: str


@dataclass
class Marks:
    """Current inputs marked on both curves (each (K,) float64, K <= MAX_MARKS).

    ``x`` the node's input values, ``y`` = f(x), ``local`` = f'(x) (the local gradient);
    ``upstream`` ∂L/∂out and ``grad`` = ∂L/∂x = upstream · f'(x) after a backward pass,
    else ``None``. ``shown`` of ``total`` entries are marked.
    """

    x: np.ndarray
    y: np.ndarray
    local: np.ndarray
    upstream: np.ndarray | None
    grad: np.ndarray | None
    shown: int
    total: int


TITLES = {"Step": ("h(x) = 1 if x > 0 else 0", "h′(x) = 0"),
          "Sigmoid": ("σ(x) = 1 / (1 + e^−x)", "σ′(x) = σ(x)(1 − σ(x))"),
          "Tanh": ("tanh(x)", "tanh′(x) = 1 − tanh²(x)"),
          "ReLU": ("ReLU(x) = max(0, x)", "ReLU′(x) = 1 if x > 0 else 0"),
          "LeakyReLU": ("LeakyReLU(x) = x if x > 0 else αx", "LeakyReLU′(x) = 1 if x > 0 else α"),
          "Softmax": ("y_k = e^x_k / Σ_j e^x_j (one row, x_k varies)", "∂y_k/∂x_k = y_k (1 − y_k)"),
          "Identity": ("f(x) = x", "f′(x) = 1")}


def _check(op_type: str) -> None:
    if op_type not in SUPPORTED:
        raise ActivationPlotError(f"{op_type} is not an activation function; the plot shows "
                                  f"{', '.join(SUPPORTED)}")


def _elementwise(op, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out, cache = op.forward([x], {}, False)
    (dx,), _ = op.backward(np.ones_like(x), cache)
    return np.asarray(out, dtype=np.float64), np.asarray(dx, dtype=np.float64)


def _softmax_component(op, row: np.ndarray, k: int, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output k of a softmax row and ∂y_k/∂x_k as x_k runs over ``xs`` (others fixed)."""
    rows = np.repeat(np.asarray(row, dtype=np.float64)[None, :], len(xs), axis=0)
    rows[:, k] = xs
    out, cache = op.forward([rows], {}, False)
    seed = np.zeros_like(rows)
    seed[:, k] = 1.0
    (dx,), _ = op.backward(seed, cache)
    return out[:, k], dx[:, k]


def curves(op_type: str, params: dict | None = None, lo: float = -6.0, hi: float = 6.0, n: int = 601,
           row=None, k: int = 0) -> Curves:
    """f and f' of an activation over [lo, hi] (``row``/``k``: the softmax row and component)."""
    _check(op_type)
    op = make_op(op_type, **(params or {}))
    xs = np.linspace(lo, hi, n)
    if op_type == "Softmax":
        row = np.zeros(2) if row is None else np.asarray(row, dtype=np.float64).reshape(-1)
        y, dy = _softmax_component(op, row, k, xs)
    else:
        y, dy = _elementwise(op, xs)
    title, dtitle = TITLES[op_type]
    if op_type == "LeakyReLU":
        alpha = op.config["alpha"]
        title, dtitle = title.replace("α", f"{alpha:g}"), dtitle.replace("α", f"{alpha:g}")
    return Curves(xs, y, dy, title, dtitle)


def marks(op_type: str, params: dict | None, x_values, upstream=None, k: int = 0) -> Marks:
    """The node's inputs on the curve: f(x) and f'(x) at each (first ``MAX_MARKS``) entry.

    ``x_values``: the node's input after a forward pass (any shape; for Softmax the row
    is the first row of the last axis and only entry ``k`` is marked). ``upstream``:
    ∂L/∂out of the node after backward (same shape), or ``None``.
    """
    _check(op_type)
    op = make_op(op_type, **(params or {}))
    x = np.asarray(x_values, dtype=np.float64)
    up = None if upstream is None else np.asarray(upstream, dtype=np.float64)
    if op_type == "Softmax":
        row = x.reshape(-1, x.shape[-1])[0] if x.ndim else x.reshape(1)
        y, dy = _softmax_component(op, row, k, row[k:k + 1])
        upk = None
        if up is not None:
            out_row = op.forward([row[None, :]], {}, False)
            (dx,), _ = op.backward(up.reshape(-1, x.shape[-1])[:1], out_row[1])
            upk = dx[0, k:k + 1]
        return Marks(row[k:k + 1], y, dy, None if up is None else up.reshape(-1, x.shape[-1])[0, k:k + 1],
                     upk, 1, 1)
    flat = x.reshape(-1)
    total = flat.size
    shown = flat[:MAX_MARKS]
    y, dy = _elementwise(op, shown)
    grad = upstream_part = None
    if up is not None:
        upstream_part = up.reshape(-1)[:MAX_MARKS]
        grad = upstream_part * dy
    return Marks(shown, y, dy, upstream_part, grad, len(shown), total)


def summary(m: Marks) -> str:
    """One line for the plot's caption: how many inputs are marked and the gradient range."""
    text = f"{m.shown} of {m.total} inputs marked" if m.total > m.shown else f"{m.total} input(s) marked"
    if m.grad is not None and m.grad.size:
        text += (f"; local gradients f′(x) from {m.local.min():.3g} to {m.local.max():.3g}, "
                 f"∂L/∂x = ∂L/∂out · f′(x) from {m.grad.min():.3g} to {m.grad.max():.3g}")
    return text


def moment(events, index: int, node: str):
    """The node's input and upstream gradient at moment ``index`` of a recorded run.

    ``events``: :class:`graph.run.engine.StepEvent` list. Returns ``(x, upstream)``:
    ``x`` after the node's forward event (else ``None``), ``upstream`` ∂L/∂out after its
    backward event (else ``None``).
    """
    x = upstream = None
    for ev in events[:index + 1]:
        if ev.node != node:
            continue
        if ev.phase == "forward" and ev.inputs:
            x = ev.inputs[0]
        elif ev.phase == "backward":
            upstream = ev.upstream
    return x, upstream
