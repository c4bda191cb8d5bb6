"""Process-level performance settings for the training hot loop.

glibc's ``malloc`` serves big blocks (a batch of feature maps is megabytes) with
``mmap`` and hands freed memory back to the kernel at once, so every training step
page-faults its freshly mapped temporaries again: about 2.5 ms per SimpleConvNet step
at batch 100. Raising both the mmap threshold and the trim threshold keeps freed
blocks in the heap for reuse. Raising only one of them is worse than neither: the
dynamic mmap threshold stops adapting while the heap top is still trimmed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 256 * 1024 * 1024

_tuned: bool | None = None


def tune_allocator(threshold: int = THRESHOLD_BYTES) -> bool:
    """Keep freed memory in the process heap (glibc only); once per process.

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
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
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
    return _tuned
