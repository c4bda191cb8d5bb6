"""Kinks: where a piecewise op switches branch, and whether a small step crossed one.

ReLU is ``max(x, 0)``: its slope jumps from 0 to 1 at ``x = 0``. Max-pooling switches
which entry of a window wins when two entries tie. Backprop uses the slope of the branch
the point is on; a central difference ``(f(v + ε) − f(v − ε)) / 2ε`` whose two points lie
on different branches averages two slopes and measures the corner instead. Such an entry
tells nothing about whether backprop is right, so the gradient check compares the
*pattern* of branches (:func:`branch_pattern`) before and after each step and leaves out
the entries whose step changed it.
"""
from __future__ import annotations

import numpy as np

KINKED_TYPES = ("ReLU", "LeakyReLU", "Step", "MaxPool2D")

KINK_EXPLANATION = ("skipped at kinks: a tiny nudge there switches a ReLU between off and on (or "
                    "changes which value wins a max-pool window), so the numerical slope measures "
                    "a corner, not the gradient backprop computes; these entries say nothing "
                    "about whether backprop is right")


def op_pattern(op, x: np.ndarray) -> np.ndarray | None:
    """Which branch each entry of a kinked op's input ``x`` is on (a bool array), else ``None``.

    ReLU, LeakyReLU and Step: ``x > 0`` (same shape as x). MaxPool2D: the window winners,
    i.e. the entries of x (N, C, H, W) that receive gradient, as ``backward(ones) != 0``.
    """
    if op.type_name in ("ReLU", "LeakyReLU", "Step"):
        return np.asarray(x) > 0
    if op.type_name == "MaxPool2D":
        out, cache = op.forward([x], {}, False)
        (dx,), _ = op.backward(np.ones_like(out), cache)
        return np.asarray(dx) != 0
    return None


def branch_pattern(engine) -> list[np.ndarray]:
    """The :func:`op_pattern` of every kinked node of ``engine``'s graph at its last forward.

    Reads each kinked node's input value (``engine.value``), so it also works when the
    engine fused Conv2D → ReLU → MaxPool2D into one kernel.
    """
    g = engine.graph
    out = []
    for id in g.topo_order():
        node = g.node(id)
        if node.type not in KINKED_TYPES:
            continue
        (src,) = g.inputs_of(id)
        out.append(op_pattern(node.op, engine.value(src)))
    return out


def same_pattern(a: list | None, b: list | None) -> bool:
    """True when two branch patterns agree entry by entry (``None`` means no kinked op)."""
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
