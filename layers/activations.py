"""Activation functions: Step, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Identity.

Every op maps ``x : (any shape)`` to ``out`` of the same shape (Softmax normalises the
last axis). Backward needs only what forward cached, and allocates fresh arrays: the
incoming ``dout`` and ``x`` are never written to. Constants are cast to ``x.dtype`` so a
float32 graph stays float32.
"""
from __future__ import annotations

import numpy as np

from .base import Op, ParamSpec, array_module, batch_slices, fmt_num, is_scalar, to_host
from .parallel import run_batch
from .registry import register


def _sigmoid(x):
    """Overflow-free logistic function, ``x.dtype`` in and out."""
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    one = x.dtype.type(1)
    # numerator is 1 where x >= 0 and e elsewhere; a multiply avoids np.where's
    # branchy slow path on random masks.
    return (e + (x >= 0) * (one - e)) / (one + e)


def _value(x) -> float:
    """The single number in a size-1 array (or a Python number)."""
    return float(to_host(x).reshape(-1)[0])


class _Activation(Op):
    category = "activations"

    def _number_rule(self, local: str, inputs, dout, input_grads) -> str:
        """``∂L/∂x = ∂L/∂out × <rule> = d × local = grad`` for scalar steps."""
        x = inputs[0]
        if not (is_scalar(dout) and is_scalar(x) and input_grads and input_grads[0] is not None):
            return self.rule
        head = self.rule.split("\n", 1)[0]
        return f"{head} = {fmt_num(dout)} × {local} = {fmt_num(input_grads[0])}"


@register
class Step(_Activation):
    """out = 1 if x > 0 else 0 (the perceptron's activation). The cache is x's shape."""

    type_name = "Step"
    rule = "∂L/∂x = ∂L/∂out × 0   (flat everywhere except the jump at 0)"
    doc = "Step function: 1 where x > 0, else 0. Its gradient is 0, so nothing learns through it."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        return (x > 0).astype(x.dtype), x.shape

    def backward(self, dout, cache, need_inputs=True):
        return [array_module(dout).zeros(cache, dtype=dout.dtype)], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        return self._number_rule("0", inputs, dout, input_grads)


@register
class Sigmoid(_Activation):
    """out = 1 / (1 + exp(-x)). The cache is out (x's shape)."""

    type_name = "Sigmoid"
    rule = "∂L/∂x = ∂L/∂out × out × (1 − out)"
    doc = "Logistic sigmoid 1 / (1 + e^−x), squashing to (0, 1)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        out = _sigmoid(x)
        return out, out

    def backward(self, dout, cache, need_inputs=True):
        y = cache
        return [dout * y * (y.dtype.type(1) - y)], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        y = _sigmoid(inputs[0]) if is_scalar(inputs[0]) else None
        local = f"{fmt_num(y)} × (1 − {fmt_num(y)})" if y is not None else ""
        return self._number_rule(local, inputs, dout, input_grads)


@register
class Tanh(_Activation):
    """out = tanh(x). The cache is out (x's shape)."""

    type_name = "Tanh"
    rule = "∂L/∂x = ∂L/∂out × (1 − out²)"
    doc = "Hyperbolic tangent, squashing to (−1, 1)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        out = array_module(x).tanh(x)
        return out, out

    def backward(self, dout, cache, need_inputs=True):
        y = cache
        return [dout * (y.dtype.type(1) - y * y)], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        y = array_module(inputs[0]).tanh(inputs[0]) if is_scalar(inputs[0]) else None
        local = f"(1 − {fmt_num(y)}²)" if y is not None else ""
        return self._number_rule(local, inputs, dout, input_grads)


@register
class ReLU(_Activation):
    """out = max(x, 0). The cache is the bool mask x > 0 (x's shape)."""

    type_name = "ReLU"
    rule = "∂L/∂x = ∂L/∂out × (x > 0)"
    doc = "Rectified linear unit max(x, 0): passes the gradient where x > 0, blocks it elsewhere."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        xp = array_module(x)
        zero = x.dtype.type(0)
        # The boolean mask is all backward needs; multiplying by it beats np.where
        # on random masks (no data-dependent branches). Both passes run a few samples
        # at a time so the second reads x from cache.
        # Large NumPy batches are split in two halves run on two threads (bit-identical).
        out = xp.empty_like(x)
        mask = xp.empty(x.shape, dtype=bool)

        def part(chunk):
            xc, oc, mc = x[chunk], out[chunk], mask[chunk]
            for sl in batch_slices(xc):
                xp.maximum(xc[sl], zero, out=oc[sl])
                xp.greater(xc[sl], zero, out=mc[sl])

        run_batch(part, x)
        return out, mask

    def backward(self, dout, cache, need_inputs=True):
        mask = cache
        if getattr(mask, "shape", None) != dout.shape or dout.ndim == 0:
            return [dout * mask], {}
        xp = array_module(dout)
        dx = xp.empty(dout.shape, dtype=xp.result_type(dout, mask))

        def part(chunk):
            xp.multiply(dout[chunk], mask[chunk], out=dx[chunk])

        run_batch(part, dout)
        return [dx], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        local = "1" if is_scalar(inputs[0]) and _value(inputs[0]) > 0 else "0"
        return self._number_rule(local, inputs, dout, input_grads)


@register
class LeakyReLU(_Activation):
    """out = x if x > 0 else alpha · x. The cache is the local slope, 1 or alpha (x's shape)."""

    type_name = "LeakyReLU"
    param_spec = (ParamSpec("alpha", "float", 0.01, "slope for x ≤ 0", low=0.0, high=1.0),)
    rule = "∂L/∂x = ∂L/∂out × (1 if x > 0 else α)"
    doc = "ReLU with a small slope α for negative inputs, so no unit dies completely."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        alpha = x.dtype.type(self.config["alpha"])
        slope = (x > 0) * (x.dtype.type(1) - alpha) + alpha
        return x * slope, slope

    def backward(self, dout, cache, need_inputs=True):
        return [dout * cache], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        positive = is_scalar(inputs[0]) and _value(inputs[0]) > 0
        local = "1" if positive else fmt_num(self.config["alpha"])
        return self._number_rule(local, inputs, dout, input_grads)


@register
class Softmax(_Activation):
    """out_i = exp(x_i) / Σ_j exp(x_j) along the last axis.

    x : (..., K) scores;  out : (..., K) probabilities summing to 1 over K. The cache is out.
    """

    type_name = "Softmax"
    rule = "∂L/∂x = out × (∂L/∂out − Σ ∂L/∂out × out)   (sum over the last axis)"
    doc = "Turns scores (…, K) into probabilities along the last axis (max subtracted for stability)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=-1, keepdims=True))
        out = e / e.sum(axis=-1, keepdims=True)
        return out, out

    def backward(self, dout, cache, need_inputs=True):
        y = cache
        return [y * (dout - (dout * y).sum(axis=-1, keepdims=True))], {}


@register
class Identity(_Activation):
    """out = x. The cache is None."""

    type_name = "Identity"
    rule = "∂L/∂x = ∂L/∂out × 1"
    doc = "Passes its input through unchanged (a linear output layer's activation)."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        return x, None

    def backward(self, dout, cache, need_inputs=True):
        return [dout], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        return self._number_rule("1", inputs, dout, input_grads)
