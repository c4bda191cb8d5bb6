"""Automatic garbage collection pauses while a worker thread runs (app/gc_guard.py)."""
from __future__ import annotations

import gc

import pytest

pytest.importorskip("pytestqt")

from app import gc_guard  # noqa: E402
from gui_helpers import make_window, studio_home  # noqa: E402,F401


def test_no_garbage_collection_while_a_training_thread_runs(qtbot, studio_home):
    """Automatic gc is off from a run's start to its end, then back on (app/gc_guard.py)."""
    window = make_window(qtbot)
    window.open_template("two_layer_net", ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None, timeout=60_000)
    seen = []
    panel.progressed.connect(lambda *a: seen.append((gc.isenabled(), gc_guard.workers_running())))
    assert panel.start(fresh=True, max_iterations=3, compare_float16=False)
    with qtbot.waitSignal(panel.run_ended, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: gc_guard.workers_running() == 0)
    assert seen and set(seen) == {(False, 1)}
    assert gc.isenabled()


def test_guard_counts_overlapping_workers():
    assert gc.isenabled()
    gc_guard.worker_started()
    gc_guard.worker_started()
    gc_guard.worker_ended()
    assert not gc.isenabled() and gc_guard.workers_running() == 1
    gc_guard.worker_ended()
    gc_guard.worker_ended()          # an extra end is ignored
    assert gc.isenabled() and gc_guard.workers_running() == 0

