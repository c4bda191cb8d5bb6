"""Pure array math for Backprop Studio: one op per concept, forward and backward, no Qt.

Importing this package registers every op in the catalog (see :mod:`layers.registry`).
"""
from . import sources, arithmetic, activations, dense, conv, pooling, normalization, losses  # noqa: F401 - registration
from .base import Op, ParamError, ParamSpec, ShapeError, array_module, to_host, unbroadcast
from .registry import UnknownOpError, get_op_class, make_op, op_types

__all__ = [
    "Op", "ParamError", "ParamSpec", "ShapeError", "UnknownOpError",
    "array_module", "get_op_class", "make_op", "op_types", "to_host", "unbroadcast",
]
