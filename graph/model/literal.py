"""Numbers and nested lists typed by the user (the inspector's values, the step inputs).

``ast.literal_eval`` on an arbitrary string can raise ``MemoryError`` or
``RecursionError`` (``"[" * 100000``), build huge integers, or return ``inf`` for
``1e400``. :func:`parse_literal` bounds the text first (length, bracket depth), turns
every failure into one :class:`LiteralError` and accepts only finite numbers (and
booleans, strings and ``None`` inside lists, which callers validate further).
"""
from __future__ import annotations

import ast
import math

MAX_CHARS = 20_000   # a typed or pasted value (a 28x28 image is ~4,000)
MAX_DEPTH = 32


class LiteralError(ValueError):
    """The text is not a bounded number or nested list; the message says why."""


def parse_literal(text: str, max_chars: int = MAX_CHARS, max_depth: int = MAX_DEPTH):
    """The Python literal in ``text`` (a number, a nested list/tuple of numbers, ...)."""
    if len(text) > max_chars:
        raise LiteralError(f"the text has {len(text):,} characters; at most {max_chars:,} are read")
    depth = deepest = 0
    for ch in text:
        if ch in "[({":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "])}":
            depth -= 1
    if deepest > max_depth:
        raise LiteralError(f"lists nested {deepest} deep; at most {max_depth} levels")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, OverflowError) as exc:
        why = "too large" if isinstance(exc, (MemoryError, RecursionError, OverflowError)) else "not a number or list"
        raise LiteralError(f"cannot read {text[:40]!r}{'...' if len(text) > 40 else ''} ({why})") from None
    _check(value)
    return value


def _check(value) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, complex) or isinstance(v, float) and not math.isfinite(v):
            raise LiteralError(f"{v!r} is not a finite real number")
        elif isinstance(v, int) and v.bit_length() > 1000:
            raise LiteralError(f"the integer with {len(str(abs(v)))} digits is out of range")
        elif isinstance(v, (dict, set, bytes)):
            raise LiteralError(f"a {type(v).__name__} is not a number or a list")
