"""No automatic garbage collection while a worker thread (training, a lab) runs.

Why: collecting cyclic PySide6/pyqtgraph garbage on the GUI thread can release the GIL
inside a deallocator; a worker thread that allocates at that moment (the trainer building
its list of misclassified samples) races the collector and the process segfaults. That
was seen twice in full test runs: the GUI thread "Garbage-collecting", the training thread
in ``graph.training.metrics.misclassified``. Collection is paused from the first worker's
start to the last one's end, then one collection runs while no worker is alive.
"""
from __future__ import annotations

import gc

_running = 0
_was_enabled = True


def worker_started() -> None:
    """Call on the GUI thread right before a worker thread starts."""
    global _running, _was_enabled
    if _running == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _running += 1


def worker_ended() -> None:
    """Call on the GUI thread once a worker thread has finished (once per start)."""
    global _running
    if _running == 0:
        return
    _running -= 1
    if _running == 0 and _was_enabled:
        gc.enable()
        gc.collect()


def workers_running() -> int:
    """How many worker threads are between :func:`worker_started` and :func:`worker_ended`."""
    return _running
