"""Regularising layers: BatchNorm and Dropout (both behave differently in training)."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import Op, ParamError, ParamSpec, ShapeError, array_module, fmt_shape
from .registry import register


def _stat_axes(ndim: int) -> tuple:
    """Axes averaged over: all but axis 1 (features for (N, D), channels for (N, C, H, W))."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(v, ndim: int):
    """A (C,) vector shaped to broadcast against (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormCache(NamedTuple):
    """What :meth:`BatchNorm.forward` keeps for the backward pass and :meth:`BatchNorm.new_buffers`.

    S is x's shape with every axis but 1 reduced to size 1, so it broadcasts against x.
    """

    xhat: Any           # x standardised, x's shape
    std: Any            # S, sqrt(var + eps)
    gamma: Any          # S, the scale used
    train: bool         # batch statistics (True) or running ones (False)
    mean: Any           # (C,) the mean used
    var: Any            # (C,) the variance used
    running_mean: Any   # (C,) the running mean before this step
    running_var: Any    # (C,) the running variance before this step


@register
class BatchNorm(Op):
    """Batch normalisation: standardise each feature over the batch, then scale and shift.

    x : (N, D) normalised per feature, or (N, C, H, W) per channel (over N, H, W);
    gamma, beta, running_mean, running_var : (D,) or (C,);  out : the shape of x.
    Training uses the batch's mean and (biased) variance and updates the running
    statistics as ``momentum · running + (1 − momentum) · batch``; evaluation uses them.
    The cache is a :class:`BatchNormCache`.
    """

    type_name = "BatchNorm"
    category = "layers"
    learnable = ("gamma", "beta")
    buffers = ("running_mean", "running_var")
    param_spec = (
        ParamSpec("momentum", "float", 0.9, "weight of the old running statistics per update",
                  low=0.0, high=1.0),
        ParamSpec("eps", "float", 1e-5, "added to the variance before the square root", low=1e-12),
    )
    rule = "∂L/∂x = γ/σ × (∂L/∂out − mean(∂L/∂out) − x̂ · mean(∂L/∂out · x̂)),  ∂L/∂γ = Σ ∂L/∂out · x̂"
    doc = "Normalises each feature/channel over the batch to mean 0, variance 1, then γ·x̂ + β."

    def infer_shape(self, x):
        x = tuple(x)
        if len(x) < 2:
            raise ShapeError(f"BatchNorm: expects (N, D) or (N, C, H, W); got {fmt_shape(x)}")
        if x[1] is None:
            raise ShapeError(f"BatchNorm: the feature/channel axis of {fmt_shape(x)} must be known")
        return x

    def param_shapes(self, x):
        c = self.infer_shape(x)[1]
        return {"gamma": (c,), "beta": (c,), "running_mean": (c,), "running_var": (c,)}

    def init_params(self, shapes, rng):
        sizes = dict(shapes) if isinstance(shapes, dict) else self.param_shapes(*shapes)
        c = sizes["gamma"][0]
        return {"gamma": np.ones(c), "beta": np.zeros(c), "running_mean": np.zeros(c), "running_var": np.ones(c)}

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        xp = array_module(x)
        if x.ndim < 2 or params["gamma"].shape != (x.shape[1],):
            raise ShapeError(
                f"BatchNorm: input {fmt_shape(x.shape)} has {x.shape[1] if x.ndim > 1 else '?'} "
                f"features/channels but gamma has shape {fmt_shape(params['gamma'].shape)}"
            )
        axes, nd = _stat_axes(x.ndim), x.ndim
        eps = x.dtype.type(self.config["eps"])
        if train:
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            var = (xc * xc).mean(axis=axes, keepdims=True)
        else:
            mean = _per_channel(params["running_mean"], nd).astype(x.dtype, copy=False)
            var = _per_channel(params["running_var"], nd).astype(x.dtype, copy=False)
            xc = x - mean
        std = xp.sqrt(var + eps)
        xhat = xc / std
        gamma = _per_channel(params["gamma"], nd)
        out = xhat * gamma + _per_channel(params["beta"], nd)
        return out, BatchNormCache(xhat, std, gamma, train, mean.reshape(-1), var.reshape(-1),
                                   params["running_mean"], params["running_var"])

    def backward(self, dout, cache, need_inputs=True):
        xhat, std, gamma, train = cache.xhat, cache.std, cache.gamma, cache.train
        axes = _stat_axes(dout.ndim)
        grads = {"gamma": (dout * xhat).sum(axis=axes), "beta": dout.sum(axis=axes)}
        dxhat = dout * gamma
        if train:
            # the batch mean and variance depend on x too: subtract their share
            dx = (dxhat - dxhat.mean(axis=axes, keepdims=True)
                  - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) / std
        else:
            dx = dxhat / std
        return [dx], grads

    def new_buffers(self, cache):
        if not cache.train:
            return {}
        mean, var, running_mean, running_var = cache.mean, cache.var, cache.running_mean, cache.running_var
        m = self.config["momentum"]
        return {
            "running_mean": running_mean * m + mean.astype(running_mean.dtype) * (1 - m),
            "running_var": running_var * m + var.astype(running_var.dtype) * (1 - m),
        }


@register
class Dropout(Op):
    """Inverted dropout: in training each entry survives with probability 1 − ratio.

    x : any shape;  out : the same shape. Training: ``out = x · mask / (1 − ratio)`` with a
    fresh random ``mask``; evaluation: ``out = x`` (the scaling already keeps the mean).
    The cache is ``mask / (1 − ratio)`` (x's shape), or None when nothing was dropped.
    """

    type_name = "Dropout"
    category = "layers"
    param_spec = (ParamSpec("ratio", "float", 0.5, "probability of dropping an entry", low=0.0),)
    rule = "∂L/∂x = ∂L/∂out × mask / (1 − ratio)   (the same mask as forward)"
    doc = "Randomly zeroes entries while training (survivors scaled by 1/(1 − ratio)); identity at test time."

    def check_config(self) -> None:
        if self.config["ratio"] >= 1:
            raise ParamError(f"ratio must be < 1 (1 would drop everything), got {self.config['ratio']}")

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        ratio = self.config["ratio"]
        if not train or ratio == 0:
            return x, None
        xp = array_module(x)
        if rng is None:
            rng = xp.random.default_rng()
        # Generators draw float32 or float64 only; float16 graphs compare float32 draws
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        keep = rng.random(x.shape, dtype=draw_dtype) > ratio
        scale = keep * x.dtype.type(1 / (1 - ratio))
        return x * scale, scale

    def backward(self, dout, cache, need_inputs=True):
        return [dout if cache is None else dout * cache], {}
