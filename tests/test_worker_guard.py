"""While a worker thread runs, automatic garbage collection pauses and the application-wide
wheel guard steps aside (app/worker_guard.py)."""
from __future__ import annotations

import gc

import pytest

pytest.importorskip("pytestqt")

from app import worker_guard  # noqa: E402
from gui_helpers import make_window, studio_home  # noqa: E402,F401


def test_no_garbage_collection_while_a_training_thread_runs(qtbot, studio_home):
    """Automatic gc is off from a run's start to its end, then back on (app/worker_guard.py)."""
    window = make_window(qtbot)
    window.open_template("two_layer_net", ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None, timeout=60_000)
    seen = []
    panel.progressed.connect(lambda *a: seen.append((gc.isenabled(), worker_guard.workers_running())))
    assert panel.start(fresh=True, max_iterations=3, compare_float16=False)
    with qtbot.waitSignal(panel.run_ended, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: worker_guard.workers_running() == 0)
    assert seen and set(seen) == {(False, 1)}
    assert gc.isenabled()


def test_guard_counts_overlapping_workers():
    assert gc.isenabled()
    worker_guard.worker_started()
    worker_guard.worker_started()
    worker_guard.worker_ended()
    assert not gc.isenabled() and worker_guard.workers_running() == 1
    worker_guard.worker_ended()
    worker_guard.worker_ended()          # an extra end is ignored
    assert gc.isenabled() and worker_guard.workers_running() == 0


def _wheel(target) -> None:
    from PySide6 import QtCore, QtWidgets  # noqa: PLC0415
    from PySide6.QtCore import QPoint, QPointF  # noqa: PLC0415
    from PySide6.QtGui import QWheelEvent  # noqa: PLC0415

    ev = QWheelEvent(QPointF(5, 5), QPointF(target.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, -120),
                     QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                     QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(target, ev)


def test_wheel_guard_steps_aside_while_a_worker_runs_and_comes_back(qtbot):
    """During a run no Python filter sits on the application (each GUI event would wait
    for the worker's GIL); a locked (disabled) field keeps its value (Qt hands a real
    wheel over a disabled widget on to its parent, the form), and once the last worker
    ends the guard is back."""
    from PySide6 import QtWidgets  # noqa: PLC0415

    from app.wheel_guard import install_wheel_guard  # noqa: PLC0415

    app = QtWidgets.QApplication.instance()
    install_wheel_guard(app)

    area = QtWidgets.QScrollArea()
    body = QtWidgets.QWidget()
    lay = QtWidgets.QVBoxLayout(body)
    spin = QtWidgets.QSpinBox()
    spin.setRange(1, 1000)
    spin.setValue(20)
    lay.addWidget(spin)
    for _ in range(40):
        lay.addWidget(QtWidgets.QLabel("row"))
    area.setWidget(body)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    QtWidgets.QApplication.processEvents()
    bar = area.verticalScrollBar()
    spin.clearFocus()
    try:
        worker_guard.worker_started()
        _wheel(spin)       # no filter: the unfocused field takes the wheel itself
        assert spin.value() == 19 and bar.value() == 0
        spin.setEnabled(False)          # the training form is locked during a run
        _wheel(spin)
        assert spin.value() == 19
        worker_guard.worker_ended()
        spin.setEnabled(True)
        spin.clearFocus()
        _wheel(spin)       # the guard is back: the form scrolls, the field keeps its value
        assert spin.value() == 19 and bar.value() > 0
    finally:
        while worker_guard.workers_running():
            worker_guard.worker_ended()
