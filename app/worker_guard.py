"""What the GUI thread gives up while a worker thread (training, a lab) runs.

* **Automatic garbage collection.** Collecting cyclic PySide6/pyqtgraph garbage on the
  GUI thread can release the GIL inside a deallocator; a worker thread that allocates at
  that moment (the trainer building its list of misclassified samples) races the
  collector and the process segfaults. That was seen twice in full test runs: the GUI
  thread "Garbage-collecting", the training thread in
  ``graph.training.metrics.misclassified``.
* **The application-wide wheel guard** (:mod:`app.wheel_guard`). A Python event filter
  on the application runs for every event of the GUI thread (thousands a second while
  plots and the progress bar repaint), and each call must take the GIL from the worker:
  a toy net trained 1.3 times slower in the GUI than in the CLI with it, and each event
  waited for the worker's switch interval. The training form is locked during a run
  anyway, so wheel events over its (disabled) fields already scroll the form.

Both are given up from the first worker's start to the last one's end; then one
collection runs and the guard is back, while no worker is alive.
"""
from __future__ import annotations

import gc

from . import wheel_guard

_running = 0
_was_enabled = True


def worker_started() -> None:
    """Call on the GUI thread right before a worker thread starts."""
    global _running, _was_enabled
    if _running == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
        wheel_guard.suspend()
    _running += 1


def worker_ended() -> None:
    """Call on the GUI thread once a worker thread has finished (once per start)."""
    global _running
    if _running == 0:
        return
    _running -= 1
    if _running == 0:
        wheel_guard.restore()
        if _was_enabled:
            gc.enable()
            gc.collect()


def workers_running() -> int:
    """How many worker threads are between :func:`worker_started` and :func:`worker_ended`."""
    return _running
