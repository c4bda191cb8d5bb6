"""Loss functions: SoftmaxCrossEntropy, CrossEntropy, MSE, SSE, SigmoidBCE.

Each loss takes a prediction ``x`` and a target ``t`` and outputs a 0-d array of
``x.dtype``. Backward seeds from that scalar's gradient ``dout`` (usually 1).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import Op, ShapeError, array_module, fmt_num, fmt_shape, is_scalar, wants
from .registry import register


def _dims_match(a, b) -> bool:
    """Equal shapes where ``None`` (unknown batch) matches any size."""
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b))


def _class_target_shape(op: str, what: str, x: tuple, t: tuple, note: str = "") -> tuple:
    """``()`` when ``t`` holds class labels (x's shape without the class axis) or is one-hot
    (x's shape); otherwise a ShapeError naming both accepted forms."""
    if len(x) < 1:
        raise ShapeError(f"{op}: x must have a class axis, e.g. (N, K); got a scalar ()")
    if _dims_match(t, x[:-1]) or _dims_match(t, x):
        return ()
    raise ShapeError(
        f"{op}: for {what} x {fmt_shape(x)} the target t must be class labels "
        f"{fmt_shape(x[:-1])} or one-hot {fmt_shape(x)}{note}; got t {fmt_shape(t)}"
    )


def _scalar_out(value, x):
    """``value`` as a 0-d array of ``x.dtype`` on ``x``'s device."""
    return array_module(x).asarray(value, dtype=x.dtype).reshape(())


class _Loss(Op):
    category = "losses"
    inputs = ("x", "t")

    def infer_shape(self, x, t):
        x, t = tuple(x), tuple(t)
        if not _dims_match(x, t):
            raise ShapeError(
                f"{self.type_name}: prediction x {fmt_shape(x)} and target t {fmt_shape(t)} "
                f"must have the same shape"
            )
        return ()


class SoftmaxCECache(NamedTuple):
    """What :meth:`SoftmaxCrossEntropy.forward` keeps; exactly one of target/labels is set.

    N counts every row of x folded to (N, K) (all leading axes).
    """

    y: Any              # (N, K) softmax(x)
    target: Any         # (N, K) one-hot or probability targets, or None for labels
    labels: Any         # (N,) integer class labels, or None for one-hot targets
    n: int              # N, the rows the loss averages over
    x_shape: tuple      # the scores' own shape, which ∂L/∂x gets back


@register
class SoftmaxCrossEntropy(_Loss):
    """Softmax over the last axis followed by the mean cross-entropy over the batch.

    x : (N, K) scores; t : (N,) integer class labels or (N, K) one-hot (or probability)
    targets. out : () = −(1/N) Σ_n Σ_k t_nk · log softmax(x)_nk. The cache is a
    :class:`SoftmaxCECache`.
    """

    type_name = "SoftmaxCrossEntropy"
    rule = "∂L/∂x = ∂L/∂out × (softmax(x) − t) / N   (t one-hot; labels get no gradient)"
    doc = "Softmax-with-Loss: mean cross-entropy of softmax(x) against labels or one-hot t."

    def infer_shape(self, x, t):
        x, t = tuple(x), tuple(t)
        k = x[-1] if x and x[-1] is not None else "K"
        return _class_target_shape("SoftmaxCrossEntropy", "scores", x, t, f" (K = {k} classes)")

    def forward(self, inputs, params, train, rng=None):
        x, t = inputs
        xp = array_module(x)
        k = x.shape[-1]
        x2 = x.reshape(-1, k)
        n = x2.shape[0]
        shifted = x2 - x2.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        y = e / total
        log_total = xp.log(total)
        if t.shape == x.shape:
            target = t.reshape(-1, k).astype(x.dtype, copy=False)
            loss = -(target * (shifted - log_total)).sum() / n
            return _scalar_out(loss, x), SoftmaxCECache(y, target, None, n, x.shape)
        if t.size != n:
            raise ShapeError(
                f"SoftmaxCrossEntropy: for scores x {fmt_shape(x.shape)} the target t must be labels "
                f"{fmt_shape(x.shape[:-1])} or one-hot {fmt_shape(x.shape)}; got t {fmt_shape(t.shape)}"
            )
        if t.dtype.kind == "f" and n and not bool((t == xp.floor(t)).all()):
            raise ShapeError("SoftmaxCrossEntropy: labels t must be whole class indices "
                             f"0..{k - 1}; got fractional values such as {float(t.reshape(-1)[0])}")
        labels = t.reshape(-1).astype(np.intp)
        if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
            raise ShapeError(
                f"SoftmaxCrossEntropy: labels must be class indices 0..{k - 1} for K = {k} classes; "
                f"got values from {int(labels.min())} to {int(labels.max())}"
            )
        rows = xp.arange(n)
        loss = -(shifted[rows, labels] - log_total[:, 0]).sum() / n
        return _scalar_out(loss, x), SoftmaxCECache(y, None, labels, n, x.shape)

    def backward(self, dout, cache, need_inputs=True):
        y, target, labels, n, shape = cache.y, cache.target, cache.labels, cache.n, cache.x_shape
        scale = dout / n
        if target is not None:
            # y · Σt − t: equals y − t for one-hot rows and stays exact for soft targets
            dx = (y * target.sum(axis=1, keepdims=True) - target) * scale
        else:
            dx = y.copy()
            dx[array_module(y).arange(n), labels] -= 1
            dx *= scale
        return [dx.reshape(shape), None], {}


@register
class MSE(_Loss):
    """Mean squared error: out = mean((x − t)²) over every entry.

    x : any shape; t : the same shape; out : (). The cache is x − t (x's shape).
    """

    type_name = "MSE"
    rule = "∂L/∂x = ∂L/∂out × 2 (x − t) / n,  ∂L/∂t = −∂L/∂x"
    doc = "Mean of the squared errors (x − t)² over all entries."

    def forward(self, inputs, params, train, rng=None):
        x, t = inputs
        diff = x - t.astype(x.dtype, copy=False)
        return _scalar_out((diff * diff).sum() / diff.size, x), diff

    def backward(self, dout, cache, need_inputs=True):
        diff = cache
        dx = diff * (dout * (2 / diff.size))
        return [dx, -dx if wants(need_inputs, 1) else None], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        x, t = inputs
        if not (is_scalar(x) and is_scalar(t) and is_scalar(dout)):
            return self.rule
        return (f"∂L/∂x = ∂L/∂out × 2 (x − t) / n = {fmt_num(dout)} × 2 × ({fmt_num(x)} − {fmt_num(t)}) / 1"
                f" = {fmt_num(input_grads[0])}")


@register
class SSE(_Loss):
    """Sum of squared errors as in the book: out = ½ Σ (x − t)².

    x : any shape; t : the same shape; out : (). The cache is x − t (x's shape).
    """

    type_name = "SSE"
    rule = "∂L/∂x = ∂L/∂out × (x − t),  ∂L/∂t = −∂L/∂x"
    doc = "Half the sum of squared errors, ½ Σ (x − t)² (the book's sum_squared_error)."

    def forward(self, inputs, params, train, rng=None):
        x, t = inputs
        diff = x - t.astype(x.dtype, copy=False)
        return _scalar_out((diff * diff).sum() * x.dtype.type(0.5), x), diff

    def backward(self, dout, cache, need_inputs=True):
        dx = cache * dout
        return [dx, -dx if wants(need_inputs, 1) else None], {}

    def rule_with_numbers(self, inputs, dout, input_grads):
        x, t = inputs
        if not (is_scalar(x) and is_scalar(t) and is_scalar(dout)):
            return self.rule
        return (f"∂L/∂x = ∂L/∂out × (x − t) = {fmt_num(dout)} × ({fmt_num(x)} − {fmt_num(t)})"
                f" = {fmt_num(input_grads[0])}")


class SigmoidBCECache(NamedTuple):
    """What :meth:`SigmoidBCE.forward` keeps; every field has x's shape."""

    x: Any              # the logits
    t: Any              # the targets, in x's dtype
    sig: Any            # σ(x)


@register
class SigmoidBCE(_Loss):
    """Sigmoid followed by binary cross-entropy, averaged over every entry.

    x : any shape (logits); t : the same shape, targets in [0, 1]; out : ()
    = mean(max(x, 0) − x·t + log(1 + e^−|x|)), which never overflows. The cache is a
    :class:`SigmoidBCECache`.
    """

    type_name = "SigmoidBCE"
    rule = "∂L/∂x = ∂L/∂out × (σ(x) − t) / n,  ∂L/∂t = −∂L/∂out × x / n"
    doc = "Binary cross-entropy of sigmoid(x) against targets t in [0, 1], from logits (stable)."

    def forward(self, inputs, params, train, rng=None):
        x, t = inputs
        xp = array_module(x)
        t = t.astype(x.dtype, copy=False)
        e = xp.exp(-xp.abs(x))
        terms = xp.maximum(x, x.dtype.type(0)) - x * t + xp.log1p(e)
        one = x.dtype.type(1)
        sig = (e + (x >= 0) * (one - e)) / (one + e)
        return _scalar_out(terms.sum() / x.size, x), SigmoidBCECache(x, t, sig)

    def backward(self, dout, cache, need_inputs=True):
        x, t, sig = cache.x, cache.t, cache.sig
        scale = dout / x.size
        dt = -x * scale if wants(need_inputs, 1) else None
        return [(sig - t) * scale, dt], {}


@register
class CrossEntropy(_Loss):
    """The book's ``cross_entropy_error`` on probabilities (put a Softmax or Sigmoid before it).

    x : (N, K) probabilities; t : (N,) integer class labels or (N, K) one-hot targets.
    out : () = −(1/N) Σ_n Σ_k t_nk · log(x_nk + δ) with δ = 1e-7, which keeps log(0) finite.
    """

    type_name = "CrossEntropy"
    rule = "∂L/∂x = −∂L/∂out × t / (x + δ) / N   (δ = 1e-7; labels get no gradient)"
    doc = "Cross-entropy error of probabilities x against labels or one-hot t (the book's cross_entropy_error)."
    DELTA = 1e-7

    def infer_shape(self, x, t):
        x, t = tuple(x), tuple(t)
        return _class_target_shape("CrossEntropy", "probabilities", x, t)

    def forward(self, inputs, params, train, rng=None):
        x, t = inputs
        xp = array_module(x)
        k = x.shape[-1]
        x2 = x.reshape(-1, k)
        n = x2.shape[0]
        delta = x.dtype.type(self.DELTA)
        if t.shape == x.shape:
            target = t.reshape(-1, k).astype(x.dtype, copy=False)
        else:
            if t.size != n:
                raise ShapeError(f"CrossEntropy: for probabilities x {fmt_shape(x.shape)} the target t must "
                                 f"be labels {fmt_shape(x.shape[:-1])} or one-hot; got t {fmt_shape(t.shape)}")
            labels = t.reshape(-1).astype(np.intp)
            if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
                raise ShapeError(f"CrossEntropy: labels must be class indices 0..{k - 1}; got values from "
                                 f"{int(labels.min())} to {int(labels.max())}")
            target = xp.zeros_like(x2)
            target[xp.arange(n), labels] = 1
        loss = -(target * xp.log(x2 + delta)).sum() / n
        return _scalar_out(loss, x), (x2 + delta, target, n, x.shape)

    def backward(self, dout, cache, need_inputs=True):
        shifted, target, n, shape = cache
        dx = -(target / shifted) * (dout / n)
        return [dx.reshape(shape), None], {}
