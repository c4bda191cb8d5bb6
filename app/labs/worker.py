"""Run a lab in a ``QThread``; progress reaches the GUI in batches, at most ``max_rate`` a second.

Only plain Python values cross the thread (the lab's progress updates hold lists and
floats, the result is JSON-like data). Pause/stop go straight to the lab, whose methods
are thread-safe; a stopped lab still finishes with its partial result.
"""
from __future__ import annotations

import logging
import time

from PySide6 import QtCore

from graph.training.labs import LabDone, LabProgress

from .. import gc_guard

log = logging.getLogger(__name__)


class _Worker(QtCore.QObject):
    progress = QtCore.Signal(object)   # list of LabProgress
    finished = QtCore.Signal(object)   # LabResult
    failed = QtCore.Signal(str)

    def __init__(self, lab, max_rate: float = 20.0) -> None:
        super().__init__()
        self.lab = lab
        self.min_gap = 1.0 / max_rate
        self._pending: list[LabProgress] = []
        self._last = 0.0

    def _flush(self) -> None:
        if self._pending:
            self.progress.emit(self._pending)
            self._pending = []
        self._last = time.monotonic()

    @QtCore.Slot()
    def run(self) -> None:
        try:
            for ev in self.lab:
                if isinstance(ev, LabProgress):
                    self._pending.append(ev)
                    if time.monotonic() - self._last >= self.min_gap:
                        self._flush()
                elif isinstance(ev, LabDone):
                    self._flush()
                    self.finished.emit(ev.result)
        except (ValueError, OSError, MemoryError) as exc:
            log.info("lab could not run: %s", exc)
            self.failed.emit(f"The lab cannot run: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user as a message
            log.exception("lab failed")
            self.failed.emit(f"The lab failed unexpectedly ({type(exc).__name__}: {exc}). Details are in the log.")


class LabRun(QtCore.QObject):
    """One lab running in its own thread. Signals arrive on the GUI thread."""

    progress = QtCore.Signal(object)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    ended = QtCore.Signal()

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.thread = QtCore.QThread()
        self.worker = _Worker(lab)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progress.connect(self.progress)
        self.worker.finished.connect(self.finished)
        self.worker.failed.connect(self.failed)
        self.worker.finished.connect(self.thread.quit)
        self.worker.failed.connect(self.thread.quit)
        self.thread.finished.connect(gc_guard.worker_ended)
        self.thread.finished.connect(self.ended)

    def start(self) -> None:
        # normal priority, like the training worker: a descheduled low-priority thread
        # only holds the GIL longer on a busy machine
        gc_guard.worker_started()
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    @property
    def paused(self) -> bool:
        return self.lab.paused

    def pause(self) -> None:
        self.lab.pause()

    def resume(self) -> None:
        self.lab.resume()

    def stop(self) -> None:
        self.lab.request_stop()

    def wait(self, ms: int = 30000) -> bool:
        return self.thread.wait(ms)
