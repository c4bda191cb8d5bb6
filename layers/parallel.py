"""A tiny persistent worker pool that splits big NumPy work along the batch axis.

Elementwise work and per-window work (ReLU, max-pool, the im2col copy) give the same
bits whatever the split, since every output entry is computed from the same inputs by
the same instructions; so running two halves of the batch on two cores is exactly the
single-threaded result, only faster. Only NumPy arrays are split (CuPy arrays run as one
piece: on the GPU one kernel over the whole batch is fastest). NumPy releases the GIL
inside its ufunc loops, so plain Python threads do run in parallel here. Matrix products
(:func:`matmul`) split into independent rows, columns or batch items are exact too: every
output entry is the same BLAS dot product. ``graph.run.perf.single_thread_blas`` keeps
OpenBLAS on one thread meanwhile (its idle workers would spin on the other core).

``BACKPROP_STUDIO_THREADS`` (an environment variable read at import) sets the number of
threads; the default is ``min(2, os.cpu_count())`` and ``1`` turns splitting off.
:func:`set_threads` changes it at run time (tests compare both paths).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Below this many elements a split costs more (thread hand-off) than it saves.
MIN_ELEMENTS = 1 << 18


def _default_threads() -> int:
    raw = os.environ.get("BACKPROP_STUDIO_THREADS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            pass
    return max(1, min(2, os.cpu_count() or 1))


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def threads() -> int:
    """How many threads batch-split work uses now (1: none)."""
    return _threads


def set_threads(n: int) -> int:
    """Use ``n`` threads (at least 1) from now on; returns the previous setting."""
    global _threads
    old, _threads = _threads, max(1, int(n))
    return old


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=max(1, _threads - 1), thread_name_prefix="bps-batch")
    return _pool


def batch_chunks(x, size: int | None = None) -> list:
    """Slices of axis 0 of ``x`` to run on separate threads (one ``slice(None)`` when not worth
    it, ``Ellipsis`` for a 0-d array).

    ``size``: the element count the work touches (default ``x.size``).
    """
    if x.ndim == 0:
        return [Ellipsis]
    n = x.shape[0]
    parts = min(_threads, n)
    if parts <= 1 or type(x) is not np.ndarray or (x.size if size is None else size) < MIN_ELEMENTS:
        return [slice(None)]
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def sub_slices(x, chunk, per_item_bytes: int, budget: int = 1 << 23) -> list:
    """Absolute slices of ``chunk`` (a slice of axis 0 of ``x``, from :func:`batch_chunks`)
    holding about ``budget`` bytes each, at least one item.

    For a pipeline of steps over groups of samples, so each step finds much of the
    previous one's output still in cache. Arrays other than NumPy's (CuPy) get the whole
    chunk: on a GPU one kernel over the whole batch is fastest.
    """
    n = x.shape[0]
    if type(x) is not np.ndarray:
        return [slice(0, n)]
    start, stop, _ = chunk.indices(n) if isinstance(chunk, slice) else (0, n, 1)
    step = max(1, budget // max(per_item_bytes, 1))
    return [slice(a, min(a + step, stop)) for a in range(start, stop, step)] or [slice(start, stop)]


def run_batch(fn, x, size: int | None = None) -> None:
    """Call ``fn(sl)`` for each slice of :func:`batch_chunks`, the first on this thread.

    ``fn`` must write only to its own slice of preallocated outputs. Exceptions propagate.
    """
    chunks = batch_chunks(x, size)
    if len(chunks) == 1:
        fn(chunks[0])
        return
    pool = _get_pool()
    futures = [pool.submit(fn, sl) for sl in chunks[1:]]
    try:
        fn(chunks[0])
    finally:
        for f in futures:
            f.result()


#: Below this many multiply-adds a matrix product runs in one piece.
MIN_MACS = 1 << 22


def matmul(a, b, split: str = "rows"):
    """``numpy.matmul(a, b)``, split in batch (or row) chunks over the pool's threads when big.

    Batched products (3-D) split the batch axis; 2-D products split the rows of ``a``
    (``split="rows"``) or the columns of ``b`` (``split="cols"``, better when ``a`` is short).
    Every chunk is the same BLAS call on fewer independent rows or matrices. CuPy arrays,
    small products and other shapes take the plain call.
    """
    if (_threads < 2 or type(a) is not np.ndarray or type(b) is not np.ndarray
            or not (2 <= a.ndim <= 3 and 2 <= b.ndim <= 3) or a.shape[-1] != b.shape[-2]):
        return a @ b
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if a.ndim == 3 and b.ndim == 3:
        if a.shape[0] != b.shape[0]:
            return a @ b
        lead = a.shape[0]
    else:
        lead = a.shape[0] if a.ndim == 3 else b.shape[0] if b.ndim == 3 else None
    macs = (lead or 1) * m * n * k
    if macs < MIN_MACS:
        return a @ b
    out = np.empty(((lead,) if lead is not None else ()) + (m, n), dtype=np.result_type(a, b))

    if lead is None and split == "cols":
        def part(sl):
            np.matmul(a, b[:, sl], out=out[:, sl])

        run_batch(part, out.T, size=macs)
        return out
    if lead is None:
        def part(sl):
            np.matmul(a[sl], b, out=out[sl])
    else:
        def part(sl):
            np.matmul(a[sl] if a.ndim == 3 else a, b[sl] if b.ndim == 3 else b, out=out[sl])

    run_batch(part, out, size=macs)
    return out
