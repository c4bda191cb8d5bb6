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

import math
from contextlib import contextmanager

import numpy as np

from graph.training.events import PhaseEvent


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


def float16_check(trainer, test_acc: float):
    """The book's half-precision experiment on a trainer's final weights (a generator
    yielding :class:`PhaseEvent` progress; returns the result fields): the test split
    evaluated with every weight and buffer rounded to float16, the arithmetic in the
    training dtype. It measures what storing the weights in half precision costs in
    accuracy (rounding, and overflow beyond 65504), not float16 arithmetic; the trained
    weights are put back afterwards."""
    n = len(trainer.data.y_test)
    phase = PhaseEvent("float16", "float16 check (test split, weights rounded to float16)", 0, n)
    yield PhaseEvent(phase.phase, phase.text, 0, n)
    with float16_weights(trainer.engine) as weight_overflow:
        loss16, acc16, _ = yield from trainer.evaluation("test", phase=phase)
    overflow = weight_overflow or loss16 is None or not math.isfinite(loss16)
    dtype = trainer.config.dtype
    out = {"float16_test_accuracy": acc16, f"{dtype}_test_accuracy": test_acc, "float16_overflow": bool(overflow),
           "float16_measures": f"test accuracy with the weights stored as float16 (rounded), arithmetic in {dtype}"}
    if overflow:
        out["float16_note"] = ("float16 overflow: weights or activations exceed the float16 range "
                               "(largest finite 65504)")
    return out
