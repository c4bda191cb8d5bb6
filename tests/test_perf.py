"""Process tuning happens at the entry points only (ARCHITECTURE.md, process tuning).

Each check runs in a fresh Python process and reads the process state the tuning changes:
glibc's mmap threshold (is a freed 64 MiB block served from the heap or by ``mmap``?),
OpenBLAS's thread count and the garbage collector's frozen objects. The same probes must
see the change after the entry point ran, so they can tell the difference.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graph.run import perf

ROOT = Path(__file__).resolve().parents[1]

PROBE = r'''
import ctypes, ctypes.util, gc, json, sys


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]


def state():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo2.restype = MallInfo2
    mapped = libc.mallinfo2().hblkhd
    block = libc.malloc(64 << 20)
    big_block_mmapped = libc.mallinfo2().hblkhd - mapped >= 64 << 20
    libc.free(block)
    from graph.run.perf import blas_threads
    return {"big_block_mmapped": big_block_mmapped, "blas_threads": blas_threads(),
            "gc_frozen": gc.get_freeze_count()}


before = state()
MODE = sys.argv[1]
if MODE == "library":
    import numpy as np
    import graph
    from graph import Engine, templates

    eng = Engine(templates.build("simple_convnet"), dtype="float32")
    rng = np.random.default_rng(0)
    eng.forward({"x": rng.random((100, 1, 28, 28)), "t": rng.integers(0, 10, 100)}, train=True)
    eng.backward(prune=True)
    assert np.isfinite(eng.loss())
else:
    from app.entry import main

    assert main(["templates"]) == 0
after = state()
if MODE == "trim":
    import numpy as np
    from graph.run.perf import release_free_memory

    def rss_mib():
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))

    big = np.ones(128 << 17)  # 128 MiB, touched
    del big
    kept = rss_mib()
    trimmed = release_free_memory()
    after["trim"] = {"trimmed": trimmed, "released_mib": kept - rss_mib()}
print(json.dumps({"before": before, "after": after}))
'''

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc probes")


def _probe(mode: str) -> dict:
    env = dict(os.environ, BACKPROP_STUDIO_THREADS="2", OPENBLAS_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_graph_and_running_an_engine_changes_no_process_setting():
    seen = _probe("library")
    before, after = seen["before"], seen["after"]
    assert before["big_block_mmapped"] and before["gc_frozen"] == 0
    assert before["blas_threads"] and all(n == 2 for n in before["blas_threads"])
    assert after == before


def test_the_entry_point_tunes_allocator_blas_and_gc():
    seen = _probe("entry")
    assert seen["before"]["big_block_mmapped"] and all(n == 2 for n in seen["before"]["blas_threads"])
    after = seen["after"]
    assert not after["big_block_mmapped"], "the 64 MiB block should come from the tuned heap"
    assert after["blas_threads"] and all(n == 1 for n in after["blas_threads"])
    assert after["gc_frozen"] > 1000


def test_tuned_heap_keeps_freed_memory_until_the_trainer_trims_it():
    """With the tuning a freed 128 MiB array stays resident; release_free_memory hands it back."""
    trim = _probe("trim")["after"]["trim"]
    assert trim["trimmed"] is True
    assert trim["released_mib"] > 100


THREAD_PROBE = r'''
import ctypes, ctypes.util, json, sys, threading

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
libc.sbrk.restype = ctypes.c_void_p
libc.sbrk.argtypes = (ctypes.c_ssize_t,)
if sys.argv[1] == "tuned":
    from graph.run.perf import tune_allocator
    assert tune_allocator()
seen = {}


def grab():
    block = libc.malloc(1 << 20)
    seen["block"] = block
    libc.free(block)


t = threading.Thread(target=grab)
t.start()
t.join()
print(json.dumps({"in_main_heap": seen["block"] < libc.sbrk(0)}))
'''


@pytest.mark.parametrize("mode", ["plain", "tuned"])
def test_a_training_thread_allocates_from_the_tuned_main_heap(mode):
    """glibc gives a new thread its own arena, untouched by the tuned thresholds (the GUI's
    training thread page-faulted a third more than the CLI's main thread); after tuning,
    a thread's blocks come from the main heap."""
    proc = subprocess.run([sys.executable, "-c", THREAD_PROBE, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["in_main_heap"] is (mode == "tuned")
