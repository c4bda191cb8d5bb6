"""Half-precision storage, emulated: the engine's weights rounded to float16 in place.

NumPy has no BLAS path for float16, so a float16 engine runs its matrix products as slow
loops (seconds for a test split that float32 evaluates in tens of milliseconds). What the
book's experiment shows is the effect of *storing* weights in half precision: its
float16 weights meet float32 inputs, and NumPy computes that product in float32. This
module does the same at float32 speed: each weight and buffer is cast to float16 and
back, in place, so every value is one a float16 array can hold (weights beyond +-65504
become inf), and the arithmetic stays in the engine's dtype.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np


@contextmanager
def float16_weights(engine):
    """Within the block the engine's weights and buffers are rounded to float16 values;
    afterwards (also on an exception or a closed generator) the originals are back.

    Yields
    ------
    bool
        Whether a weight overflowed float16's range (became inf in the cast).
    """
    xp = engine.xp
    refs = engine.state_ref()
    saved = {k: a.copy() for k, a in refs.items()}
    overflow = False
    try:
        # a weight beyond float16's range becomes inf: reported by the caller, not warned about
        with np.errstate(over="ignore", invalid="ignore"):
            for a in refs.values():
                half = a.astype(xp.float16)
                overflow = overflow or not bool(xp.isfinite(half).all())
                a[...] = half
        yield overflow
    finally:
        for k, a in refs.items():
            xp.copyto(a, saved[k])
