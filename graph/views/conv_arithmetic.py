"""The convolution arithmetic O = (I − F + 2P)/S + 1 with a node's numbers, Qt-free.

For a Conv2D or pooling node (or numbers typed into the calculator) this gives, per
spatial axis, the filled-in formula, whether the division is exact, which rows or columns
of the (padded) input no window reaches when it is not, and the paddings that give a
wanted output size. The shape-error and inspector lines come from the layers' own
:func:`layers.conv.explain_output_size`, so the calculator and the graph never disagree.

::

    >>> a = axis_arithmetic(28, 5, 2, 0)
    >>> a.out, a.exact, a.dropped
    (12, False, [27])
    >>> suggest_padding(5, 3, 2, 3)
    [PaddingChoice(pad=1, out=3, exact=True)]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from layers.base import ShapeError
from layers.conv import explain_output_size

POOL_TYPES = ("MaxPool2D", "AvgPool2D")
CONV_TYPES = ("Conv2D",) + POOL_TYPES


class ConvArithmeticError(ValueError):
    """Numbers the calculator cannot use (the message says which and why)."""


@dataclass
class AxisArithmetic:
    """One spatial axis: input size I, window F, stride S, padding P and the output O.

    ``dropped`` lists the indices (in the *unpadded* input, so they can be negative or
    >= I when they fall in the padding) of the rows/columns at the end that no window
    covers; it is empty when the division is exact.
    """

    size: int
    kernel: int
    stride: int
    pad: int
    out: int
    exact: bool
    remainder: int
    dropped: list = field(default_factory=list)
    axis: str = "H"

    @property
    def word(self) -> str:
        return "row" if self.axis == "H" else "column"

    def formula(self) -> str:
        """``O = (I − F + 2P)/S + 1 = (28 − 5 + 0)/2 + 1 = 12.5 → 12``."""
        i, f, s, p = self.size, self.kernel, self.stride, self.pad
        raw = (i - f + 2 * p) / s + 1
        tail = f"{self.out}" if self.exact else f"{raw:g} → {self.out} (rounded down)"
        return f"O{self.axis} = (I − F + 2P)/S + 1 = ({i} − {f} + {2 * p})/{s} + 1 = {tail}"

    def explanation(self) -> str:
        """Why the output has this size, in words (what is dropped when it is not exact)."""
        i, f, s, p = self.size, self.kernel, self.stride, self.pad
        padded = i + 2 * p
        last = (self.out - 1) * s
        text = (f"{self.out} windows of {f} fit along {self.axis} (padded size {padded}); the last starts at "
                f"{last - p} and ends at {last + f - 1 - p}")
        if self.exact:
            return text + ": every " + self.word + " is used."
        n = len(self.dropped)
        where = ", ".join(str(d) for d in self.dropped)
        in_pad = all(d >= i for d in self.dropped)
        note = " (they are padding zeros, so no data is lost)" if in_pad else " (their pixels never reach the output)"
        what = (f"the last {n} {self.word}s ({self.word}s {where}) fit no window and are dropped" if n > 1 else
                f"the last {self.word} ({self.word} {where}) fits no window and is dropped")
        return (f"{text}. ({padded} − {f}) = {padded - f} is not a multiple of S = {s} (remainder {self.remainder}), "
                f"so {what}{note}.")


@dataclass
class PaddingChoice:
    """A padding ``pad`` and the output size ``out`` it gives; ``exact`` when nothing is dropped."""

    pad: int
    out: int
    exact: bool


def _positive(name: str, value, low: int) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise ConvArithmeticError(f"{name} must be a whole number, got {value!r}") from None
    if v != value and not (isinstance(value, float) and value.is_integer()):
        raise ConvArithmeticError(f"{name} must be a whole number, got {value!r}")
    if v < low:
        raise ConvArithmeticError(f"{name} must be at least {low}, got {v}")
    return v


def axis_arithmetic(size, kernel, stride, pad, axis: str = "H") -> AxisArithmetic:
    """The formula for one axis. Raises ``ConvArithmeticError`` when the window does not fit."""
    i = _positive("input size I", size, 1)
    f = _positive("filter size F", kernel, 1)
    s = _positive("stride S", stride, 1)
    p = _positive("padding P", pad, 0)
    span = i + 2 * p - f
    if span < 0:
        raise ConvArithmeticError(f"the {f}-wide window does not fit in the padded input ({i} + {2 * p} = {i + 2 * p}); "
                               "use a smaller filter or more padding")
    out = span // s + 1
    rem = span % s
    covered_end = (out - 1) * s + f   # first padded index no window reaches
    dropped = [j - p for j in range(covered_end, i + 2 * p)]
    return AxisArithmetic(i, f, s, p, out, rem == 0, rem, dropped, axis)


def suggest_padding(size, kernel, stride, wanted, max_pad: int | None = None) -> list[PaddingChoice]:
    """The paddings P (smallest first) for which ``(I − F + 2P)//S + 1 == wanted``.

    Exact choices (nothing dropped) come first. Empty when no padding up to ``max_pad``
    (default F − 1, beyond which windows would see only padding) gives ``wanted``.
    """
    i = _positive("input size I", size, 1)
    f = _positive("filter size F", kernel, 1)
    s = _positive("stride S", stride, 1)
    want = _positive("wanted output size", wanted, 1)
    top = f - 1 if max_pad is None else int(max_pad)
    found = []
    for p in range(0, max(top, 0) + 1):
        span = i + 2 * p - f
        if span >= 0 and span // s + 1 == want:
            found.append(PaddingChoice(p, want, span % s == 0))
    return sorted(found, key=lambda c: (not c.exact, c.pad))


def padding_advice(size, kernel, stride, wanted) -> str:
    """One sentence: which P gives the wanted output (solving O = (I − F + 2P)/S + 1 for P)."""
    choices = suggest_padding(size, kernel, stride, wanted)
    exact_p = ((int(wanted) - 1) * int(stride) - int(size) + int(kernel)) / 2
    solve = f"P = ((O − 1)·S − I + F)/2 = (({wanted} − 1)·{stride} − {size} + {kernel})/2 = {exact_p:g}"
    if not choices:
        return f"{solve}: no padding from 0 to F − 1 = {int(kernel) - 1} gives an output of {wanted}."
    best = choices[0]
    rest = ", ".join(str(c.pad) for c in choices[1:])
    more = f" (also P = {rest}, with rounding)" if rest else ""
    how = "exactly" if best.exact else "after rounding down"
    return f"{solve} → P = {best.pad} gives {wanted} {how}{more}."


@dataclass
class NodeArithmetic:
    """The calculator filled from a graph node: its type, input shape and both axes."""

    node: str
    type: str
    input_shape: tuple
    kernel: int
    stride: int
    pad: int
    axes: list
    lines: list          # the layers' own explain_output_size lines


def node_arithmetic(graph, node_id: str) -> NodeArithmetic | None:
    """The arithmetic of a Conv2D / MaxPool2D / AvgPool2D node with a known (N, C, H, W) input.

    ``None`` for other nodes or while the input shape is unknown; a window that does not
    fit raises ``ConvArithmeticError`` with the layer's own message.
    """
    node = graph.node(node_id)
    if node.type not in CONV_TYPES:
        return None
    src = graph.inputs_of(node_id)[0]
    if src is None:
        return None
    shape = graph.infer_shapes()[0].get(src)
    if shape is None or len(shape) != 4 or shape[2] is None or shape[3] is None:
        return None
    k, s, p = (int(node.params[key]) for key in ("kernel_size", "stride", "padding"))
    knames = ("K", "K") if node.type in POOL_TYPES else ("FH", "FW")
    try:
        lines = explain_output_size(node.type, tuple(shape), k, s, p, knames)
    except ShapeError as exc:
        raise ConvArithmeticError(str(exc)) from None
    axes = [axis_arithmetic(shape[2], k, s, p, "H"), axis_arithmetic(shape[3], k, s, p, "W")]
    return NodeArithmetic(node_id, node.type, tuple(shape), k, s, p, axes, lines)


def shape_note(graph, node_id: str) -> str:
    """The inspector's line for a node whose output size comes from the formula ('' otherwise)."""
    try:
        info = node_arithmetic(graph, node_id)
    except ConvArithmeticError as exc:
        return str(exc)
    if info is None:
        return ""
    notes = [a.formula() for a in info.axes]
    dropped = [a.explanation() for a in info.axes if not a.exact]
    return "\n".join(notes + dropped)


USED, PADDING, DROPPED, PADDING_DROPPED = 0, 1, 2, 3


def coverage_map(rows: AxisArithmetic, cols: AxisArithmetic) -> np.ndarray:
    """The padded input as codes (I_H + 2P, I_W + 2P) int8 for the calculator's picture:
    ``USED`` data a window reads, ``PADDING`` zeros a window reads, ``DROPPED`` data no
    window reaches (the rounded-down rows/columns), ``PADDING_DROPPED`` unreached padding."""
    hp, wp = rows.size + 2 * rows.pad, cols.size + 2 * cols.pad
    pad = np.zeros((hp, wp), bool)
    pad[:rows.pad, :] = pad[hp - rows.pad:, :] = True
    pad[:, :cols.pad] = pad[:, wp - cols.pad:] = True
    dropped = np.zeros((hp, wp), bool)
    dropped[[d + rows.pad for d in rows.dropped], :] = True
    dropped[:, [d + cols.pad for d in cols.dropped]] = True
    return (pad.astype(np.int8) + 2 * dropped.astype(np.int8)).astype(np.int8)
