"""The op contract every layer follows, plus the helpers all ops share.

An op is a small class whose *class data* describes it (type name, ports, parameter
spec, palette category, local-derivative rule) and whose two methods do the math:

``forward(inputs, params, train, rng=None) -> (out, cache)``
    ``inputs`` is a list of arrays in port order, ``params`` maps learnable tensor
    names (and buffers such as BatchNorm's running statistics) to arrays.
``backward(dout, cache, need_inputs=True) -> (input_grads, param_grads)``
    ``input_grads`` is a list in port order (``None`` where ``need_inputs`` says an
    input needs no gradient), ``param_grads`` maps learnable names to arrays.

Nothing is stored on the instance between calls except the op's configuration
(``self.config``), so an engine can keep every step's cache and replay time.
Incoming arrays are never mutated.

The cache is opaque to everyone but the op (and the op's own module): an engine only
hands it back to ``backward``. An op that keeps several things returns a ``NamedTuple``
defined next to it (``ConvCache``, ``AffineCache``, ...) whose fields say what each one
is, with its shape; an op that needs one thing (ReLU's mask, Flatten's input shape)
returns just that, and its docstring says what it is. Code outside an op's module reads
fields by name, never by position (``layers.fused`` reads ``ConvCache.oh``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

CATEGORIES = ("sources", "arithmetic", "layers", "activations", "losses")


class ShapeError(ValueError):
    """An op cannot accept the shapes it was given; the message explains the rule."""


class ParamError(ValueError):
    """A configuration value is outside what the op accepts."""


def array_module(x: Any):
    """Return ``cupy`` when ``x`` lives on the GPU, else ``numpy`` (never imports CuPy eagerly)."""
    if type(x).__module__.split(".", 1)[0] == "cupy":
        import cupy  # noqa: PLC0415 - only reached when a CuPy array already exists

        return cupy
    return np


def to_host(x: Any) -> np.ndarray:
    """``x`` as a host NumPy array: CuPy arrays are copied to the host, anything else goes
    through ``np.asarray`` (NumPy arrays come back as they are, not copied).

    The one host-copy helper: the engine, trainer, optimizer, checkpoint and GUI use it.
    """
    if type(x).__module__.split(".", 1)[0] == "cupy":
        return x.get()
    return np.asarray(x)


def wants(need_inputs, i: int) -> bool:
    """Whether input ``i`` needs a gradient (``need_inputs`` is a bool or one per input)."""
    if isinstance(need_inputs, (bool, np.bool_)):
        return bool(need_inputs)
    return bool(need_inputs[i])


# Multi-pass elementwise work on NumPy arrays runs in slices of about this many bytes, so
# a slice's intermediates are still in the core's L2 cache when the next pass reads them.
CHUNK_BYTES = 1 << 19


def batch_slices(x, per_item_bytes: int | None = None) -> list:
    """Indices of slices along axis 0 of ``x``, each about :data:`CHUNK_BYTES` (NumPy only).

    CuPy arrays and arrays that fit in one chunk get a single index covering everything
    (``slice(None)``, or ``...`` for a 0-d array): on the GPU one kernel over the whole
    batch is fastest. Results never depend on the slicing, since only elementwise work
    is split this way.
    """
    if x.ndim == 0:
        return [Ellipsis]
    n = x.shape[0]
    if per_item_bytes is None:
        per_item_bytes = (x.nbytes // n) if n else x.nbytes
    if array_module(x) is not np or n <= 1 or per_item_bytes * n <= CHUNK_BYTES:
        return [slice(None)]
    step = max(1, CHUNK_BYTES // max(per_item_bytes, 1))
    return [slice(s, s + step) for s in range(0, n, step)]


def unbroadcast(grad, shape: tuple) -> Any:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting.

    ``grad`` has the broadcast output shape; the result has exactly ``shape``.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def broadcast_shapes(name: str, a: tuple, b: tuple) -> tuple:
    """Broadcast two shapes where ``None`` is an unknown batch size; explain failures."""
    ra, rb = list(reversed(a)), list(reversed(b))
    out = []
    for i in range(max(len(ra), len(rb))):
        x = ra[i] if i < len(ra) else 1
        y = rb[i] if i < len(rb) else 1
        if x is None or y is None:
            out.append(None if (x in (None, 1) and y in (None, 1)) else (x if y in (None, 1) else y))
        elif x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ShapeError(
                f"{name}: shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast "
                f"(axis {-(i + 1)}: {x} vs {y}; sizes must match or one must be 1)"
            )
    return tuple(reversed(out))


def fmt_shape(shape) -> str:
    """``(None, 1, 28, 28)`` -> ``(N, 1, 28, 28)``; scalars -> ``()``."""
    if shape is None:
        return "?"
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class ParamSpec:
    """One configuration parameter of an op, as the inspector shows and validates it.

    ``kind`` is one of ``int``, ``float``, ``bool``, ``choice``, ``shape`` (list of
    ints, ``None`` allowed for the batch axis), ``value`` (a number or nested list)
    and ``str``.
    """

    name: str
    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    optional: bool = False

    def validate(self, value: Any) -> Any:
        """Return the value converted to its kind, or raise ``ParamError`` saying why."""
        if value is None and self.optional:
            return None
        try:
            value = self._convert(value)
        except (TypeError, ValueError) as exc:
            raise ParamError(f"{self.name}: {exc}") from None
        if self.kind in ("int", "float"):
            if self.low is not None and value < self.low:
                raise ParamError(f"{self.name} must be >= {self.low}, got {value}")
            if self.high is not None and value > self.high:
                raise ParamError(f"{self.name} must be <= {self.high}, got {value}")
        if self.kind == "choice" and value not in self.choices:
            raise ParamError(f"{self.name} must be one of {', '.join(map(str, self.choices))}; got {value!r}")
        return value

    def _convert(self, value: Any) -> Any:
        kind = self.kind
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got {value!r}")
            out = float(value)
            if not np.isfinite(out):
                raise ValueError(f"expected a finite number, got {value!r}")
            return out
        if kind == "bool":
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes", "on"):
                    return True
                if value.lower() in ("false", "0", "no", "off"):
                    return False
                raise ValueError(f"expected true or false, got {value!r}")
            return bool(value)
        if kind == "shape":
            if isinstance(value, (int, np.integer)):
                value = [value]
            dims = []
            for d in value:
                if d is None or d == "N" or d == "None":
                    dims.append(None)
                elif isinstance(d, bool) or int(d) != d or int(d) < 1:
                    raise ValueError(f"dimensions must be positive whole numbers or None, got {d!r}")
                else:
                    dims.append(int(d))
            return dims
        if kind == "value":
            arr = np.asarray(value, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise ValueError("values must be finite numbers")
            return float(arr) if arr.ndim == 0 else arr.tolist()
        if kind == "choice":
            return value
        return str(value)


@dataclass
class OpInfo:
    """Lightweight description of an op type (what the palette and docs need)."""

    type_name: str
    category: str
    inputs: tuple
    outputs: tuple
    params: tuple
    learnable: tuple
    rule: str
    doc: str
    extra: dict = field(default_factory=dict)


class Op:
    """Base class: subclasses fill in the class data and the math methods."""

    type_name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    inputs: ClassVar[tuple[str, ...]] = ("x",)
    outputs: ClassVar[tuple[str, ...]] = ("out",)
    param_spec: ClassVar[tuple[ParamSpec, ...]] = ()
    learnable: ClassVar[tuple[str, ...]] = ()
    buffers: ClassVar[tuple[str, ...]] = ()
    rule: ClassVar[str] = ""
    doc: ClassVar[str] = ""

    def __init__(self, **config: Any) -> None:
        specs = {s.name: s for s in self.param_spec}
        unknown = sorted(set(config) - set(specs))
        if unknown:
            raise ParamError(
                f"{self.type_name} has no parameter {', '.join(unknown)} "
                f"(it has: {', '.join(specs) or 'none'})"
            )
        self.config = {name: spec.validate(config.get(name, spec.default)) for name, spec in specs.items()}
        self.check_config()

    def check_config(self) -> None:
        """Cross-parameter validation; raise ``ParamError``."""

    # -- shapes and parameters -------------------------------------------------
    def infer_shape(self, *shapes: tuple) -> tuple:
        """Output shape from input shapes (``None`` = unknown batch); raise ``ShapeError``."""
        return tuple(shapes[0])

    def param_shapes(self, *shapes: tuple) -> dict[str, tuple]:
        """Shapes of learnable tensors and buffers for the given input shapes."""
        return {}

    def init_params(self, shapes: tuple, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fresh float64 NumPy tensors for ``learnable`` and ``buffers``."""
        return {}

    def param_count(self, *shapes: tuple) -> int:
        """Number of learnable scalars for these input shapes."""
        sizes = self.param_shapes(*shapes)
        return int(sum(int(np.prod(sizes[n])) for n in self.learnable if n in sizes))

    # -- math --------------------------------------------------------------------
    def forward(self, inputs: list, params: dict, train: bool, rng=None):
        raise NotImplementedError(f"{self.type_name}.forward")

    def backward(self, dout, cache, need_inputs=True):
        raise NotImplementedError(f"{self.type_name}.backward")

    def new_buffers(self, cache) -> dict:
        """Updated buffers after a training forward (BatchNorm's running statistics)."""
        return {}

    def rule_with_numbers(self, inputs: list, dout, input_grads: list) -> str:
        """The local-derivative rule with the numbers of one step plugged in (scalars only).

        The default explains the rule in words; scalar ops override it.
        """
        return self.rule

    @classmethod
    def info(cls) -> OpInfo:
        return OpInfo(cls.type_name, cls.category, cls.inputs, cls.outputs, cls.param_spec,
                      cls.learnable, cls.rule, cls.doc)


def is_scalar(x) -> bool:
    return x is not None and getattr(x, "size", 1) == 1


def fmt_num(x) -> str:
    """Format a number like the book: 220, 2.2, 110, 1.1 (no float noise)."""
    v = float(to_host(x).reshape(-1)[0]) if not isinstance(x, (int, float)) else float(x)
    if not np.isfinite(v):
        return str(v)
    text = f"{v:.6g}"
    if "e" not in text and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
