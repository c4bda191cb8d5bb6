"""Compiled loops (Numba) for the few hot spots NumPy can only do in many passes.

NumPy runs one operator over a whole array at a time. Max-pooling a K×K window that way
takes a ``greater`` and a ``maximum`` per candidate (8 passes for 2×2, 7 back), and Adam
is twelve passes over each weight tensor (SGD two). Each kernel here does the same arithmetic in
one pass, element by element, in the same order and the same dtype, so it gives the
NumPy path's numbers (tests compare both bit for bit; for infinite gradients see
:func:`unpool_tiles`).

Numba is optional: without it, with ``BACKPROP_STUDIO_KERNELS=numpy`` in the environment,
or if compiling fails, :func:`compiled` returns ``None`` and callers take their NumPy path.
Kernels are compiled once per machine for float32 and float64 and cached on disk (the
first call of a fresh install takes a few seconds; later ones load in ~0.3 s). They release
the GIL, so the two-thread batch split (``layers.parallel``) runs them side by side.
CuPy arrays never reach them.
"""
from __future__ import annotations

import logging
import os
import threading
from types import SimpleNamespace

import numpy as np

log = logging.getLogger(__name__)

_state: dict = {"loaded": False, "kernels": None, "enabled": os.environ.get(
    "BACKPROP_STUDIO_KERNELS", "").strip().lower() != "numpy", "why": ""}
_lock = threading.Lock()


def pool_tiles(cols, out, win, relu):
    """Max of each K·K window given as KK contiguous blocks, first maximum in block order.

    cols : (G, FN, KK, P) candidates (block j = window entry j, row-major);
    out : (G, FN, P) the maximum, then ReLU'd when ``relu`` (NaN stays NaN, as np.maximum);
    win : (G, FN, P) uint8, which block holds the first maximum. A window holding a NaN
    gets out = NaN (its gradient is dropped in :func:`unpool_tiles`).
    """
    g_n, f_n, kk, p_n = cols.shape
    # block by block over whole rows of P: compare-and-select loops the compiler vectorises
    for g in range(g_n):
        for f in range(f_n):
            c = cols[g, f]
            o = out[g, f]
            w = win[g, f]
            for q in range(p_n):
                o[q] = c[0, q]
                w[q] = 0
            for j in range(1, kk):
                for q in range(p_n):
                    v = c[j, q]
                    best = o[q]
                    if v > best:
                        o[q] = v
                        w[q] = j
                    elif v != v and best == best:
                        o[q] = v  # NaN takes the value (as np.maximum does), not the index
            if relu:
                for q in range(p_n):
                    if o[q] <= 0:  # NaN stays NaN, as np.maximum(NaN, 0)
                        o[q] = 0


def unpool_tiles(d, out, win, relu, dcols):
    """∂L/∂(window entries) from ∂L/∂out: each window's gradient to its winner, 0 elsewhere.

    d, out : (G, FN, P); win : (G, FN, P) uint8 from :func:`pool_tiles`;
    dcols : (G, FN, KK, P) written whole. A window passes its gradient only when its
    output is positive (with ``relu``) or not NaN (without). The other entries get a plain
    0, where NumPy's multiply-by-mask gives NaN for an infinite gradient (inf · 0): the one
    difference between the paths, and only once training has already diverged.
    """
    g_n, f_n, kk, p_n = dcols.shape
    for g in range(g_n):
        for f in range(f_n):
            dc = dcols[g, f]
            dd = d[g, f]
            o = out[g, f]
            w = win[g, f]
            for j in range(kk):
                for q in range(p_n):
                    passes = (o[q] > 0) if relu else (o[q] == o[q])
                    dc[j, q] = dd[q] if (passes and w[q] == j) else 0


def adam_update(p, g, m, v, one_minus_b1, one_minus_b2, eps, lr_t):
    """Adam on flat same-dtype arrays, in place, as ``Adam._update_slice`` does it:

    m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);  p -= m / (√v + ε) · lr_t.
    The scalars come as the arrays' dtype, so the arithmetic is the NumPy path's.
    """
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_b1
        vi = v[i] + (gi * gi - v[i]) * one_minus_b2
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps) * lr_t


def sgd_update(p, g, lr):
    """SGD on flat same-dtype arrays, in place: p -= lr · g (``lr`` in the arrays' dtype)."""
    for i in range(p.shape[0]):
        p[i] -= lr * g[i]


def _signatures(numba):
    """Explicit types, so everything compiles (or fails) once, at load, not mid-step."""
    t = numba.types
    sigs = {"pool_tiles": [], "unpool_tiles": [], "adam_update": [], "sgd_update": []}
    for f in (t.float32, t.float64):
        a3, a4 = t.Array(f, 3, "C"), t.Array(f, 4, "C")
        u3 = t.Array(t.uint8, 3, "C")
        a1 = t.Array(f, 1, "C")
        sigs["pool_tiles"].append(t.void(a4, a3, u3, t.boolean))
        sigs["unpool_tiles"].append(t.void(a3, a3, u3, t.boolean, a4))
        sigs["adam_update"].append(t.void(a1, a1, a1, a1, f, f, f, f))
        sigs["sgd_update"].append(t.void(a1, a1, f))
    return sigs


def _load():
    try:
        import numba  # noqa: PLC0415 - optional, and ~0.15 s to import: only when first needed
    except ImportError:
        return None, "Numba is not installed"
    except Exception as exc:  # noqa: BLE001 - a broken install (llvmlite's library) must not stop training
        return None, f"Numba failed to import ({type(exc).__name__}: {exc})"
    sigs = _signatures(numba)
    kernels = (("pool_tiles", pool_tiles), ("unpool_tiles", unpool_tiles),
               ("adam_update", adam_update), ("sgd_update", sgd_update))
    why = ""
    # cached machine code first; where no folder can hold the cache (a read-only install
    # and home), compile for this process only rather than give up the kernels
    for cache in (True, False):
        try:
            fns = {name: numba.njit(sigs[name], nogil=True, cache=cache, error_model="numpy")(fn)
                   for name, fn in kernels}
            return SimpleNamespace(**fns), ""
        except Exception as exc:  # noqa: BLE001 - any compiler failure means: use NumPy
            why = why or f"compiling the kernels failed ({type(exc).__name__}: {exc})"
    return None, why


def compiled():
    """The compiled kernels (attributes named as this module's functions), or ``None``.

    ``None`` when Numba is missing, compiling failed, or kernels are switched off
    (:func:`set_enabled`, ``BACKPROP_STUDIO_KERNELS=numpy``); :func:`status` says which.
    """
    if not _state["enabled"]:
        return None
    if not _state["loaded"]:
        with _lock:
            if not _state["loaded"]:
                _state["kernels"], _state["why"] = _load()
                _state["loaded"] = True
                if _state["why"]:
                    log.info("compiled kernels off, NumPy instead: %s", _state["why"])
    return _state["kernels"]


def preload() -> threading.Thread | None:
    """Start loading the kernels on a background thread (Numba's import and the cached
    machine code take ~0.3 s, on a first run a few seconds of compiling), so that work
    overlaps a program's other start-up work, e.g. reading a dataset. :func:`compiled`
    waits for it. Returns the thread, or ``None`` when there is nothing to load."""
    if not _state["enabled"] or _state["loaded"]:
        return None
    thread = threading.Thread(target=compiled, name="bps-kernels-load")
    thread.start()
    return thread


def set_enabled(flag: bool) -> bool:
    """Use the compiled kernels (when available) or not; returns the previous setting."""
    old, _state["enabled"] = _state["enabled"], bool(flag)
    return old


def status() -> str:
    """One line for diagnostics: are the compiled kernels in use, and if not why."""
    if not _state["enabled"]:
        return "no compiled kernels (switched off)"
    kernels = compiled()
    return "Numba kernels" if kernels is not None else f"no compiled kernels ({_state['why']})"


#: Below this many elements NumPy's passes are quick and loading Numba (~0.3 s) is not worth it.
MIN_ELEMENTS = 1 << 15


def usable(*arrays) -> bool:
    """All ``arrays`` are C-contiguous NumPy float32/float64 arrays of one dtype, the first
    one big enough (:data:`MIN_ELEMENTS`) for a compiled pass to pay."""
    first = arrays[0]
    return (type(first) is np.ndarray and first.dtype in (np.float32, np.float64)
            and first.size >= MIN_ELEMENTS
            and all(type(a) is np.ndarray and a.dtype == first.dtype and a.flags.c_contiguous
                    for a in arrays))

