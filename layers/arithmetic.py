"""Arithmetic ops: Add, Sub, Mul, Div (broadcasting), MatMul, Sum, Mean.

Each op's backward sits right under its forward, micrograd-style; broadcasting is
undone by the one shared :func:`unbroadcast`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from .base import Op, array_module, ParamSpec, ShapeError, broadcast_shapes, fmt_num, fmt_shape, is_scalar, unbroadcast
from .registry import register


class ShapesCache(NamedTuple):
    """Add's and Sub's cache: only the input shapes, to undo broadcasting."""

    a_shape: tuple
    b_shape: tuple


class OperandsCache(NamedTuple):
    """Mul's, Div's and MatMul's cache: the inputs themselves, in their own shapes."""

    a: Any
    b: Any


class MeanCache(NamedTuple):
    """Mean's cache."""

    x_shape: tuple      # the input's shape, which ∂L/∂x gets back
    count: int          # entries averaged into each output entry


class _Binary(Op):
    category = "arithmetic"
    inputs = ("a", "b")

    def infer_shape(self, a, b):
        return broadcast_shapes(self.type_name, tuple(a), tuple(b))


@register
class Add(_Binary):
    """out = a + b. The add node passes its upstream gradient through unchanged."""

    type_name = "Add"
    rule = "∂L/∂a = ∂L/∂out × 1,  ∂L/∂b = ∂L/∂out × 1"
    doc = "a + b (broadcasting). Backward passes the gradient through to both inputs."

    def forward(self, inputs, params, train, rng=None):
        a, b = inputs
        return a + b, ShapesCache(a.shape, b.shape)

    def backward(self, dout, cache, need_inputs=True):
        sa, sb = cache.a_shape, cache.b_shape
        return [unbroadcast(dout, sa), unbroadcast(dout, sb)], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        if not is_scalar(dout):
            return self.rule
        d = fmt_num(dout)
        return f"∂L/∂a = ∂L/∂out × 1 = {d} × 1 = {d}\n∂L/∂b = ∂L/∂out × 1 = {d} × 1 = {d}"


@register
class Sub(_Binary):
    """out = a - b."""

    type_name = "Sub"
    rule = "∂L/∂a = ∂L/∂out,  ∂L/∂b = −∂L/∂out"
    doc = "a − b (broadcasting)."

    def forward(self, inputs, params, train, rng=None):
        a, b = inputs
        return a - b, ShapesCache(a.shape, b.shape)

    def backward(self, dout, cache, need_inputs=True):
        sa, sb = cache.a_shape, cache.b_shape
        return [unbroadcast(dout, sa), unbroadcast(-dout, sb)], {}


@register
class Mul(_Binary):
    """out = a * b. The multiply node swaps its inputs in backward."""

    type_name = "Mul"
    rule = "∂L/∂a = ∂L/∂out × b,  ∂L/∂b = ∂L/∂out × a   (inputs swapped)"
    doc = "a × b elementwise (broadcasting). Backward multiplies by the other input."

    def forward(self, inputs, params, train, rng=None):
        a, b = inputs
        return a * b, OperandsCache(a, b)

    def backward(self, dout, cache, need_inputs=True):
        a, b = cache.a, cache.b
        return [unbroadcast(dout * b, a.shape), unbroadcast(dout * a, b.shape)], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        a, b = inputs
        if not (is_scalar(dout) and is_scalar(a) and is_scalar(b)):
            return self.rule
        d, fa, fb = fmt_num(dout), fmt_num(a), fmt_num(b)
        return (f"∂L/∂a = ∂L/∂out × b = {d} × {fb} = {fmt_num(input_grads[0])}\n"
                f"∂L/∂b = ∂L/∂out × a = {d} × {fa} = {fmt_num(input_grads[1])}")


@register
class Div(_Binary):
    """out = a / b."""

    type_name = "Div"
    rule = "∂L/∂a = ∂L/∂out / b,  ∂L/∂b = −∂L/∂out × a / b²"
    doc = "a ÷ b elementwise (broadcasting)."

    def forward(self, inputs, params, train, rng=None):
        a, b = inputs
        return a / b, OperandsCache(a, b)

    def backward(self, dout, cache, need_inputs=True):
        a, b = cache.a, cache.b
        return [unbroadcast(dout / b, a.shape), unbroadcast(-dout * a / (b * b), b.shape)], {}


@register
class MatMul(Op):
    """out = a @ b for a: (..., n, k), b: (k, m)."""

    type_name = "MatMul"
    category = "arithmetic"
    inputs = ("a", "b")
    rule = "∂L/∂a = ∂L/∂out · bᵀ,  ∂L/∂b = aᵀ · ∂L/∂out"
    doc = "Matrix product a · b; a is (N, k) or (k,), b is (k, m)."

    def infer_shape(self, a, b):
        a, b = tuple(a), tuple(b)
        if len(a) < 1 or len(b) != 2:
            raise ShapeError(f"MatMul: needs a (…, k) and b (k, m); got {fmt_shape(a)} and {fmt_shape(b)}")
        if a[-1] is not None and b[0] is not None and a[-1] != b[0]:
            raise ShapeError(
                f"MatMul: inner sizes differ: a {fmt_shape(a)} has k = {a[-1]} but b {fmt_shape(b)} has k = {b[0]}"
            )
        return a[:-1] + (b[1],)

    def forward(self, inputs, params, train, rng=None):
        a, b = inputs
        return a @ b, OperandsCache(a, b)

    def backward(self, dout, cache, need_inputs=True):
        a, b = cache.a, cache.b
        a2 = a.reshape(-1, a.shape[-1])
        d2 = dout.reshape(-1, dout.shape[-1])
        return [dout @ b.T, a2.T @ d2], {}


class _Reduce(Op):
    category = "arithmetic"
    param_spec = (ParamSpec("axis", "int", -999, "axis to reduce; -999 reduces everything", low=-999),)

    def _axis(self):
        return None if self.config["axis"] == -999 else self.config["axis"]

    def infer_shape(self, x):
        x = tuple(x)
        axis = self._axis()
        if axis is None:
            return ()
        if not -len(x) <= axis < len(x):
            raise ShapeError(f"{self.type_name}: axis {axis} is out of range for input {fmt_shape(x)}")
        return x[: axis % len(x)] + x[axis % len(x) + 1:]

    def _spread(self, dout, shape):
        """Upstream gradient broadcast back over the reduced axis: shape ``shape``."""
        axis = self._axis()
        if axis is not None:
            dout = dout.reshape(shape[: axis % len(shape)] + (1,) + shape[axis % len(shape) + 1:])
        return _broadcast_to(dout, shape)


@register
class Sum(_Reduce):
    """out = Σ x (all entries, or along one axis). The cache is x's shape."""

    type_name = "Sum"
    rule = "∂L/∂x = ∂L/∂out copied to every summed entry"
    doc = "Sum of all entries (or along an axis)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        return x.sum(axis=self._axis()), x.shape

    def backward(self, dout, cache, need_inputs=True):
        shape = cache
        return [self._spread(dout, shape)], {}


@register
class Mean(_Reduce):
    """out = mean(x) (all entries, or along one axis). The cache is a :class:`MeanCache`."""

    type_name = "Mean"
    rule = "∂L/∂x = ∂L/∂out / n for every averaged entry"
    doc = "Mean of all entries (or along an axis)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        out = x.mean(axis=self._axis())
        return out, MeanCache(x.shape, x.size // max(out.size, 1))

    def backward(self, dout, cache, need_inputs=True):
        shape, n = cache.x_shape, cache.count
        return [self._spread(dout / n, shape)], {}


def _broadcast_to(d, shape):
    """A writable, contiguous broadcast (downstream ops may not expect read-only views)."""
    xp = array_module(d)
    return xp.ascontiguousarray(xp.broadcast_to(d, shape))
