"""Fully connected layers: Affine (x · W + b) and Flatten."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import parallel
from .base import Op, ParamSpec, ShapeError, fmt_shape, wants
from .initializers import INIT_CHOICES, initialize
from .registry import register


def _features(name: str, x: tuple) -> int:
    """Number of features per sample: the product of every axis after the batch axis."""
    rest = x[1:] if len(x) >= 2 else x
    if len(x) == 0:
        raise ShapeError(f"{name}: needs at least one axis; got a scalar ()")
    if any(d is None for d in rest):
        raise ShapeError(
            f"{name}: the feature size of {fmt_shape(x)} must be known; only the first (batch) axis may be N"
        )
    return math.prod(rest)


def _input_shapes(op: Op, shapes) -> dict:
    """``shapes`` may already be a name -> shape dict, or the op's input shapes."""
    return dict(shapes) if isinstance(shapes, dict) else op.param_shapes(*shapes)


class AffineCache(NamedTuple):
    """What :meth:`Affine.forward` keeps for the backward pass."""

    x2: Any             # (N, D) the input folded to a matrix ((1, D) for a single vector)
    w: Any              # (D, M) the weights used
    x_shape: tuple      # the input's own shape, which ∂L/∂x gets back


@register
class Affine(Op):
    """out = x · W + b, the book's fully connected layer.

    x : (N, D) or (N, d1, d2, ...) flattened to (N, D = d1·d2·…), or one sample (D,)
    W : (D, M);  b : (M,);  out : (N, M) (or (M,) for one sample).
    """

    type_name = "Affine"
    category = "layers"
    learnable = ("W", "b")
    param_spec = (
        ParamSpec("out_features", "int", 10, "number of output units M", low=1),
        ParamSpec("init", "choice", "he", "initial weights", choices=INIT_CHOICES),
        ParamSpec("std", "float", 0.01, "standard deviation for init=normal", low=0.0),
        ParamSpec("fill", "float", 0.0, "value of every weight for init=constant"),
        ParamSpec("bias", "bool", True, "add a learnable bias b"),
    )
    rule = "∂L/∂x = ∂L/∂out · Wᵀ,  ∂L/∂W = xᵀ · ∂L/∂out,  ∂L/∂b = Σ_N ∂L/∂out"
    doc = "Fully connected layer x · W + b (inputs with more axes are flattened per sample)."

    def check_config(self) -> None:
        # the learnable names follow the configuration: no bias, no b
        self.learnable = ("W", "b") if self.config["bias"] else ("W",)

    def infer_shape(self, x):
        x = tuple(x)
        _features("Affine", x)
        m = self.config["out_features"]
        return (m,) if len(x) == 1 else (x[0], m)

    def param_shapes(self, x):
        d, m = _features("Affine", tuple(x)), self.config["out_features"]
        return {"W": (d, m), "b": (m,)} if self.config["bias"] else {"W": (d, m)}

    def init_params(self, shapes, rng):
        sizes = _input_shapes(self, shapes)
        d, m = sizes["W"]
        out = {"W": initialize(self.config["init"], (d, m), d, rng, std=self.config["std"],
                               fill=self.config["fill"])}
        if self.config["bias"]:
            out["b"] = np.zeros((m,))
        return out

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        w = params["W"]
        x2 = x.reshape(1 if x.ndim == 1 else x.shape[0], math.prod(x.shape[1:]) if x.ndim > 1 else x.shape[0])
        if x2.shape[1] != w.shape[0]:
            raise ShapeError(
                f"Affine: input {fmt_shape(x.shape)} has D = {x2.shape[1]} features per sample "
                f"but W {fmt_shape(w.shape)} expects D = {w.shape[0]}"
            )
        out = parallel.matmul(x2, w)
        if self.config["bias"]:
            out += params["b"]
        return (out.reshape(-1) if x.ndim == 1 else out), AffineCache(x2, w, x.shape)

    def backward(self, dout, cache, need_inputs=True):
        x2, w, shape = cache.x2, cache.w, cache.x_shape
        d2 = dout.reshape(x2.shape[0], w.shape[1])
        grads = {"W": parallel.matmul(x2.T, d2)}
        if self.config["bias"]:
            grads["b"] = d2.sum(axis=0)
        dx = parallel.matmul(d2, w.T, split="cols").reshape(shape) if wants(need_inputs, 0) else None
        return [dx], grads


@register
class Flatten(Op):
    """out = x reshaped to (N, D): every axis after the batch axis folded into one.

    x : (N, d1, d2, ...);  out : (N, d1·d2·…). The cache is x's shape.
    """

    type_name = "Flatten"
    category = "layers"
    rule = "∂L/∂x = ∂L/∂out reshaped back to x's shape"
    doc = "Folds every axis after the batch axis into one: (N, C, H, W) → (N, C·H·W)."

    def infer_shape(self, x):
        x = tuple(x)
        if len(x) == 0:
            raise ShapeError("Flatten: needs a batch axis; got a scalar ()")
        if any(d is None for d in x[1:]):
            raise ShapeError(
                f"Flatten: the feature size of {fmt_shape(x)} must be known; only the first (batch) axis may be N"
            )
        return (x[0], math.prod(x[1:]))

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        return x.reshape(x.shape[0], math.prod(x.shape[1:])), x.shape

    def backward(self, dout, cache, need_inputs=True):
        return [dout.reshape(cache)], {}
