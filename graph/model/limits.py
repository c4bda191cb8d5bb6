"""Limits that keep an untrusted file from exhausting the machine, and the checks using them.

Every loader (graph files, datasets, checkpoints, the GUI's typed values) checks declared
sizes against these numbers *before* it allocates anything, computing element counts
with Python integers so that nothing overflows or wraps to 0:

=====================  ==============  =================================================
limit                  default         meaning
=====================  ==============  =================================================
``max_elements``       2**28 (268 M)   values in one declared tensor (a weight, an Input
                                       shape with batch 1, a dataset array, a PNG)
``max_file_bytes``     2**30 (1 GiB)   bytes read from one file (also after gunzip)
``max_depth``          64              nesting of JSON objects / lists, typed values
``max_int_digits``     19              digits of an integer literal in a graph file
=====================  ==============  =================================================

Override with the environment (``BACKPROP_STUDIO_MAX_ELEMENTS``,
``BACKPROP_STUDIO_MAX_FILE_BYTES``) or, on the command line, ``--max-elements N`` and
``--max-file-bytes N`` (they set the same process-wide values through :func:`override`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

MAX_DIMS = 32   # NumPy allows 64; no tensor here has more than a handful
ENV = {"max_elements": "BACKPROP_STUDIO_MAX_ELEMENTS", "max_file_bytes": "BACKPROP_STUDIO_MAX_FILE_BYTES"}


@dataclass(frozen=True)
class Limits:
    """The numbers of the table in the module docs."""

    max_elements: int = 2 ** 28
    max_file_bytes: int = 2 ** 30
    max_depth: int = 64
    max_int_digits: int = 19


_override: dict = {}


class LimitError(ValueError):
    """A declared size is over a limit; the message names the limit and how to raise it."""


def current() -> Limits:
    """The limits in force: defaults, then the environment, then :func:`override`."""
    values = {}
    for name, var in ENV.items():
        text = os.environ.get(var)
        if text:
            try:
                values[name] = max(1, int(float(text)))
            except (ValueError, OverflowError):
                pass   # a malformed setting keeps the default rather than disabling the limit
    values.update(_override)
    return replace(Limits(), **values)


def override(**values: int | None) -> None:
    """Set limits for this process (the CLI's ``--max-elements`` / ``--max-file-bytes``)."""
    for name, value in values.items():
        if name not in ENV:
            raise TypeError(f"unknown limit {name!r}")
        if value is None:
            _override.pop(name, None)
        else:
            _override[name] = max(1, int(value))


def count_elements(shape, what: str, limits: Limits | None = None) -> int:
    """Number of values of ``shape`` (``None`` dims count as 1), checked against the limit.

    Raises ``LimitError`` for a negative, non-integer or oversized dimension and for a
    product over ``max_elements``; the product is computed exactly (Python ints).
    """
    lim = limits or current()
    if len(shape) > MAX_DIMS:
        raise LimitError(f"{what}: {len(shape)} dimensions; at most {MAX_DIMS} are allowed")
    n = 1
    for d in shape:
        if d is None:
            continue
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise LimitError(f"{what}: dimension {d!r} is not a whole number >= 0")
        # zero-sized dims are multiplied as 1: NumPy refuses (0, 2**32, 2**32) as too big too
        n *= max(d, 1)
        if n > lim.max_elements:
            raise LimitError(f"{what}: shape {_fmt(shape)} has over {lim.max_elements:,} values "
                             f"(the limit; raise it with --max-elements or ${ENV['max_elements']})")
    return 0 if any(d == 0 for d in shape) else n


def check_bytes(nbytes: int, what: str, limits: Limits | None = None) -> None:
    """Raise ``LimitError`` when ``nbytes`` is over ``max_file_bytes``."""
    lim = limits or current()
    if nbytes > lim.max_file_bytes:
        raise LimitError(f"{what}: {fmt_bytes(nbytes)} is over the limit of {fmt_bytes(lim.max_file_bytes)} "
                         f"(raise it with --max-file-bytes or ${ENV['max_file_bytes']})")


def fmt_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def finite_number(v) -> bool:
    """True for an int or a finite float (not bool)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _fmt(shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"
