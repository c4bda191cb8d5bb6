"""Process-level performance settings for the training hot loop, applied by entry points.

Nothing in the library calls :func:`tune_process`: importing ``graph`` or building an
:class:`~graph.run.engine.Engine` changes no process-wide setting. The programs call it
once at start-up (``app/entry.py`` for the command line, ``app/gui_main.py`` once the
editor window is built, ``python -m graph.cli.main`` and every ``bench/`` script); a
library user who wants the same speed calls it in their own ``main``.

glibc's ``malloc`` serves big blocks (a batch of feature maps is megabytes) with
``mmap`` and hands freed memory back to the kernel at once, so every training step
page-faults its freshly mapped temporaries again: about 2.5 ms per SimpleConvNet step
at batch 100. Raising both the mmap threshold and the trim threshold keeps freed
blocks in the heap for reuse. Raising only one of them is worse than neither: the
dynamic mmap threshold stops adapting while the heap top is still trimmed.

Those thresholds tune the main heap, but glibc gives each new thread its own arena
(mmap'd 64 MiB heaps, trimmed on their own), and the GUI trains in a thread: its
simple_convnet run page-faulted a third more and took 7 % longer than the same run on
the main thread. One arena for every thread (``M_ARENA_MAX`` 1) gives the training
thread the tuned heap; NumPy's large blocks make the shared arena's lock cheap. A
thread that ended before the tuning leaves its arena for the next thread to take, so
the programs tune the allocator before they start any thread.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
THRESHOLD_BYTES = 256 * 1024 * 1024

_tuned: bool | None = None


def tune_allocator(threshold: int = THRESHOLD_BYTES) -> bool:
    """Keep freed memory in the process heap and give every thread that heap (glibc
    only); once per process, before the program starts threads (see the module docs).

    Returns ``True`` when the allocator was tuned (now or by an earlier call), ``False``
    off glibc or when ``mallopt`` refused. Never raises.
    """
    global _tuned
    if _tuned is not None:
        return _tuned
    _tuned = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = _libc().mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    value = int(min(threshold, 2**31 - 1))
    # mallopt returns 1 on success, 0 on error; musl has no mallopt (AttributeError above).
    # Older glibc refuses an mmap threshold above 32 MiB: fall back to that, and never set
    # the trim threshold alone.
    if mallopt(M_MMAP_THRESHOLD, value) != 1 and mallopt(M_MMAP_THRESHOLD, min(value, 32 << 20)) != 1:
        return False
    _tuned = mallopt(M_TRIM_THRESHOLD, value) == 1
    if _tuned:
        mallopt(M_ARENA_MAX, 1)   # threads use the tuned main heap (see the module docs)
    return _tuned


def release_free_memory() -> bool:
    """Hand the heap's free pages back to the kernel (glibc ``malloc_trim``); never raises.

    :func:`tune_allocator` keeps freed blocks in the heap so training steps reuse them
    without page faults; between epochs the evaluation and checkpoint writes leave holes
    that would otherwise stay resident, so the trainer trims once per epoch. Returns
    ``True`` when memory was released.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(_libc().malloc_trim(0))
    except (OSError, AttributeError):
        return False


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    """The C library, looked up once: ``find_library`` runs ``ldconfig`` in a subprocess,
    which once per epoch cost a toy set's run more than its training."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


_blas_threads_set: bool | None = None


def _openblas_libs() -> list:
    """Every OpenBLAS library loaded in this process (ctypes handles)."""
    import glob  # noqa: PLC0415 - only the entry points and tests get here
    import os  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    paths = set(glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs", "*openblas*")))
    try:
        with open("/proc/self/maps") as fh:
            paths.update(line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line)
    except OSError:
        pass
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs


def _openblas_functions(suffix: str) -> list:
    """``openblas_<suffix>`` of every loaded OpenBLAS, under whichever symbol prefix it uses."""
    found = []
    for lib in _openblas_libs():
        for prefix in ("scipy_openblas_", "openblas_"):
            fn = getattr(lib, f"{prefix}{suffix}64_", None) or getattr(lib, f"{prefix}{suffix}", None)
            if fn is not None:
                found.append(fn)
                break
    return found


def _openblas_setters() -> list:
    """``openblas_set_num_threads``-like functions of every OpenBLAS loaded in this process."""
    setters = _openblas_functions("set_num_threads")
    for fn in setters:
        fn.argtypes = (ctypes.c_int,)
        fn.restype = None
    return setters


def blas_threads() -> list[int]:
    """The thread count of every OpenBLAS loaded in this process (empty if none); never raises."""
    try:
        getters = _openblas_functions("get_num_threads")
        for fn in getters:
            fn.argtypes = ()
            fn.restype = ctypes.c_int
        return [int(fn()) for fn in getters]
    except Exception:  # noqa: BLE001 - a diagnostic, never fatal
        return []


def single_thread_blas() -> bool:
    """Run NumPy's OpenBLAS on one thread, once per process, when the engine splits work itself.

    With ``BACKPROP_STUDIO_THREADS`` above 1 the layers split big products and elementwise
    work over their own worker threads (:mod:`layers.parallel`); OpenBLAS's own threads
    would otherwise keep spinning on the other core between products and slow those
    workers down. Returns ``True`` when OpenBLAS was limited (now or earlier). Never raises.
    """
    global _blas_threads_set
    if _blas_threads_set is not None:
        return _blas_threads_set
    from layers import parallel

    _blas_threads_set = False
    if parallel.threads() < 2:
        return False
    try:
        setters = _openblas_setters()
        for fn in setters:
            fn(1)
    except Exception:  # noqa: BLE001 - a performance nicety, never fatal
        return False
    _blas_threads_set = bool(setters)
    return _blas_threads_set


def tune_process() -> dict:
    """Apply every process-wide performance setting once; call it only from a program's entry point.

    - :func:`tune_allocator`: freed blocks stay in the heap, so training steps do not
      page-fault their temporaries again (about 2.5 ms per SimpleConvNet step).
    - :func:`single_thread_blas`: OpenBLAS on one thread when :mod:`layers.parallel`
      splits the work over its own threads.
    - ``gc.freeze()``: everything alive now (modules, and the editor's widgets when the
      GUI calls this after building its window) moves to the permanent generation, so a
      full collection while a training run allocates does not walk them again (a full
      collection over the editor's objects takes about 100 ms).

    Safe to call more than once. Returns what was done, e.g. ``{"allocator": True,
    "blas_single_thread": True, "gc_frozen": 93419}``; never raises.
    """
    allocator = tune_allocator()
    blas = single_thread_blas()
    gc.freeze()
    return {"allocator": allocator, "blas_single_thread": blas, "gc_frozen": gc.get_freeze_count()}
