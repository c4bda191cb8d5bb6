"""JSON from untrusted bytes: bounded size, depth and numbers, one typed error.

``json.loads`` recurses once per nesting level (a file of 100,000 ``[`` raises
``RecursionError``), turns ``1e400`` into ``inf``, accepts ``Infinity`` and ``NaN``, and
spends quadratic time converting a 5,000-digit integer before raising a bare
``ValueError``. :func:`loads` rejects all of these first:

* the nesting depth is measured by a linear pre-scan (quotes and brackets located with
  NumPy, then a cumulative sum over the brackets outside strings) before the parser runs;
* integer literals longer than ``max_int_digits`` digits, non-finite floats and the
  constants ``Infinity`` / ``NaN`` are refused by the parser's hooks.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

from graph.model.limits import Limits, current

_ESCAPE = re.compile(rb"\\.", re.DOTALL)


class JSONLimitError(ValueError):
    """The text is not JSON, or breaks a limit; the message says which (no file name)."""


class _Reject(Exception):
    """Raised inside the parser's hooks; carries the message."""


def max_depth(raw: bytes) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings (linear time, no recursion).

    Escaped characters (``\\x``) are dropped first, so every remaining ``"`` opens or
    closes a string; a bracket is inside a string when an odd number of quotes precede it.
    """
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    arr = np.frombuffer(raw, np.uint8)
    quotes = np.flatnonzero(arr == 34)
    opens = np.flatnonzero((arr == 91) | (arr == 123))
    closes = np.flatnonzero((arr == 93) | (arr == 125))
    opens = opens[np.searchsorted(quotes, opens) % 2 == 0]
    closes = closes[np.searchsorted(quotes, closes) % 2 == 0]
    if opens.size == 0:
        return 0
    pos = np.concatenate([opens, closes])
    steps = np.concatenate([np.ones(opens.size, np.int64), -np.ones(closes.size, np.int64)])
    return int(np.cumsum(steps[np.argsort(pos, kind="stable")]).max())


def loads(raw: bytes, limits: Limits | None = None):
    """Parse UTF-8 JSON bytes within ``limits``; raise :class:`JSONLimitError` otherwise."""
    lim = limits or current()
    if len(raw) > lim.max_file_bytes:
        raise JSONLimitError(f"{len(raw):,} bytes is over the limit of {lim.max_file_bytes:,} "
                             "(raise it with --max-file-bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONLimitError(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    depth = max_depth(raw)
    if depth > lim.max_depth:
        raise JSONLimitError(f"nested {depth} levels deep; at most {lim.max_depth} are allowed")

    def bounded_int(s: str) -> int:
        if len(s.lstrip("-")) > lim.max_int_digits:
            raise _Reject(f"the integer {s[:12]}... has {len(s.lstrip('-'))} digits "
                          f"(at most {lim.max_int_digits})")
        return int(s)

    def finite_float(s: str) -> float:
        value = float(s)
        if not math.isfinite(value):
            raise _Reject(f"the number {s[:24]} is out of range (not a finite float64)")
        return value

    def constant(s: str):
        raise _Reject(f"{s} is not allowed (numbers must be finite)")

    try:
        return json.loads(text, parse_int=bounded_int, parse_float=finite_float, parse_constant=constant)
    except _Reject as exc:
        raise JSONLimitError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise JSONLimitError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        # the pre-scan makes these unreachable for well-formed input; keep them typed anyway
        raise JSONLimitError(f"cannot parse JSON ({type(exc).__name__})") from None
