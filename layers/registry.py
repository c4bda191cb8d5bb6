"""The op catalog: type name -> op class. Ops register themselves with ``@register``."""
from __future__ import annotations

from .base import Op

_REGISTRY: dict[str, type[Op]] = {}


class UnknownOpError(KeyError):
    """No op type has this name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "unknown op"


def register(cls: type[Op]) -> type[Op]:
    """Class decorator adding an op to the catalog under its ``type_name``."""
    if not cls.type_name:
        raise ValueError(f"{cls.__name__} has no type_name")
    _REGISTRY[cls.type_name] = cls
    return cls


def get_op_class(type_name: str) -> type[Op]:
    """The op class for ``type_name``; raises ``UnknownOpError`` naming the known types."""
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise UnknownOpError(
            f"unknown op type {type_name!r} (known: {', '.join(sorted(_REGISTRY))})"
        ) from None


def op_types() -> list[str]:
    """All registered type names, in registration (palette) order."""
    return list(_REGISTRY)


def make_op(type_name: str, **config) -> Op:
    """Instantiate a configured op."""
    return get_op_class(type_name)(**config)
