"""Copies of weights a training run may have to go back to, and the finiteness check.

The trainer keeps three: the device weights from before the latest update (rolled back
to when the next loss or gradient is NaN/Inf), the last epoch's and the best epoch's
(host float64 snapshots, ``{node: {name: array}}``). Each lives in one set of buffers
reused for the whole run: a fresh copy per step or per epoch would leave the allocator a
new hole each time, and resident memory would creep.
"""
from __future__ import annotations

import math

import numpy as np


def _same_layout(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].shape == v.shape and a[k].dtype == v.dtype for k, v in b.items())


def copy_state(dst: dict | None, src: dict, xp) -> dict:
    """``src`` (``{key: backend array}``) copied into ``dst``'s arrays when they match, else anew."""
    if dst is None or not _same_layout(dst, src):
        return {k: a.copy() for k, a in src.items()}
    for k, a in src.items():
        xp.copyto(dst[k], a)
    return dst


def copy_snapshot(dst: dict | None, src: dict) -> dict:
    """A ``{node: {name: array}}`` snapshot copied into ``dst``'s arrays when they match, else anew."""
    if dst is None or dst.keys() != src.keys() or not all(_same_layout(dst[id], t) for id, t in src.items()):
        return {id: {n: a.copy() for n, a in t.items()} for id, t in src.items()}
    for id, t in src.items():
        copy_state(dst[id], t, np)
    return dst


def all_finite(grads: dict, xp) -> bool:
    """Whether every entry of every array in ``grads`` is finite.

    Fast path (NumPy): one BLAS dot product g·g per tensor; a sum of squares is finite
    whenever all entries are (NaN/Inf make it NaN/Inf). Only when it is not (which also
    happens for huge finite entries whose squares overflow) are the entries checked one
    by one.
    """
    if xp is np:
        with np.errstate(over="ignore", invalid="ignore"):
            for g in grads.values():
                flat = g.reshape(-1)
                if not math.isfinite(float(np.dot(flat, flat))) and not bool(np.isfinite(flat).all()):
                    return False
        return True
    flags = [xp.isfinite(g).all() for g in grads.values()]
    return not flags or bool(xp.stack(flags).all())
