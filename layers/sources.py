"""Source ops: nodes with no inputs that put values into the graph."""
from __future__ import annotations

import numpy as np

from .base import Op, ParamSpec, ShapeError, fmt_shape
from .initializers import INIT_CHOICES, initialize
from .registry import register


@register
class Input(Op):
    """A value fed from outside: a data batch or its labels.

    ``shape`` uses ``None`` for the batch axis, e.g. ``[None, 1, 28, 28]``.
    """

    type_name = "Input"
    category = "sources"
    inputs = ()
    param_spec = (
        ParamSpec("shape", "shape", [None, 1], "tensor shape; None (N) marks the batch axis"),
        ParamSpec("role", "choice", "data", "what training feeds here", choices=("data", "label")),
        ParamSpec("value", "value", None, "default value used when nothing is fed", optional=True),
    )
    rule = "source: its gradient ∂L/∂x is shown but flows nowhere"
    doc = "Feeds a value (a batch of data or labels) into the graph."

    def infer_shape(self) -> tuple:
        return tuple(self.config["shape"])

    def forward(self, inputs, params, train, rng=None):
        raise ShapeError("Input nodes are fed by the engine, not computed")

    def backward(self, dout, cache, need_inputs=True):
        return [], {}


@register
class Constant(Op):
    """A fixed scalar or array value (apple price, tax rate...)."""

    type_name = "Constant"
    category = "sources"
    inputs = ()
    param_spec = (ParamSpec("value", "value", 1.0, "the number or nested list this node outputs"),)
    rule = "source: its gradient ∂L/∂c is shown but flows nowhere"
    doc = "Outputs a fixed number or array."

    def infer_shape(self) -> tuple:
        return tuple(np.shape(self.config["value"]))

    def forward(self, inputs, params, train, rng=None):
        return None, None  # the engine materialises the value once per dtype/backend

    def backward(self, dout, cache, need_inputs=True):
        return [], {}


@register
class Parameter(Op):
    """A learnable tensor with no inputs (micrograd-style weights and biases)."""

    type_name = "Parameter"
    category = "sources"
    inputs = ()
    learnable = ("value",)
    param_spec = (
        ParamSpec("shape", "shape", [1], "shape of the learnable tensor (no batch axis)"),
        ParamSpec("init", "choice", "normal", "initial values", choices=INIT_CHOICES),
        ParamSpec("std", "float", 0.01, "standard deviation for init=normal", low=0.0),
        ParamSpec("fill", "float", 0.0, "value for init=constant"),
    )
    rule = "∂L/∂value = upstream gradient (the optimizer updates value)"
    doc = "A learnable tensor: the optimizer updates it."

    def check_config(self) -> None:
        if None in self.config["shape"]:
            raise ShapeError(f"Parameter: shape {fmt_shape(self.config['shape'])} cannot have a batch axis")

    def infer_shape(self) -> tuple:
        return tuple(self.config["shape"])

    def param_shapes(self) -> dict:
        return {"value": tuple(self.config["shape"])}

    def init_params(self, shapes, rng):
        shape = tuple(self.config["shape"])
        fan_in = shape[0] if shape else 1
        return {"value": initialize(self.config["init"], shape, fan_in, rng,
                                    std=self.config["std"], fill=self.config["fill"])}

    def forward(self, inputs, params, train, rng=None):
        return params["value"], None

    def backward(self, dout, cache, need_inputs=True):
        return [], {"value": dout}
