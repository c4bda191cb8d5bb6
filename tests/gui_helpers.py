"""Fixtures and event helpers for the editor's GUI tests (pytest-qt, offscreen).

Mouse events go to ``view.viewport()`` as real ``QMouseEvent``s (via ``QTest``); palette
drops are real ``QDragEnterEvent``/``QDropEvent`` objects carrying the palette's mime data.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def studio_home(tmp_path, monkeypatch):
    """An empty app home (settings, recent files, recovery) for this test only."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("BACKPROP_STUDIO_HOME", str(home))
    return home


def make_window(qtbot, size=(1200, 800)):
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    QApplication.processEvents()
    return window


@pytest.fixture
def window(qtbot, studio_home):
    """A shown editor window whose prompts never block (unsaved changes are discarded)."""
    return make_window(qtbot)


def close_windows(windows) -> None:
    """Stop each window's stepping and gradient check, close it and let Qt delete it."""
    import gc  # noqa: PLC0415

    from PySide6 import QtCore  # noqa: PLC0415

    for window in windows:
        window.stepping.controller.pause()
        window.stepping.inspector.wait_for_check()
        window.close()
        window.deleteLater()
    QApplication.processEvents()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    windows.clear()
    gc.collect()


@pytest.fixture
def studio(qtbot, studio_home):
    """``open(name, size)`` -> a shown main window with the example ``name`` loaded."""
    from app.main_window import MainWindow  # noqa: PLC0415
    from graph import templates  # noqa: PLC0415

    windows = []

    def _open(name: str | None = "apple", size=(1280, 800)):
        window = MainWindow(restore_layout=False)
        window.quiet = True
        window.prompt_unsaved = lambda: "discard"
        windows.append(window)
        if name:
            window.document.reset(templates.build(name), name=name)
        if size:
            window.resize(*size)
        window.show()
        QApplication.processEvents()
        return window

    yield _open
    close_windows(windows)


def drop_type(view, type_name: str, pos) -> bool:
    """Drag ``type_name`` from the palette and drop it at viewport ``pos``; True when accepted."""
    from app.clipboard import op_mime  # noqa: PLC0415

    pos = QPoint(*pos) if isinstance(pos, tuple) else pos
    mime = op_mime(type_name)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, LEFT, NO_MOD)
    QApplication.sendEvent(view.viewport(), enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, LEFT, NO_MOD)
    QApplication.sendEvent(view.viewport(), drop)
    return enter.isAccepted() and drop.isAccepted()


def port_pos(view, node_id: str, port: str, output: bool | None = None) -> QPoint:
    """Viewport position of a port's centre (output port when ``port`` is an output name)."""
    item = view.scene().nodes[node_id]
    if output is None:
        output = port in item.out_ports and port not in item.in_ports
    p = (item.out_ports if output else item.in_ports)[port]
    return view.mapFromScene(p.anchor())


def title_pos(view, node_id: str) -> QPoint:
    """Viewport position inside a node's title bar."""
    item = view.scene().nodes[node_id]
    return view.mapFromScene(item.mapToScene(QPointF(item.width / 2, 12)))


def drag(view, start: QPoint, end: QPoint, steps: int = 4, modifier=NO_MOD, button=LEFT) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release: on the viewport."""
    vp = view.viewport()
    QTest.mousePress(vp, button, modifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, start + (end - start) * (i / steps))
    QTest.mouseRelease(vp, button, modifier, end)


def connect_ports(view, src: str, dst: str, dst_port: str, src_port: str = "out") -> None:
    drag(view, port_pos(view, src, src_port, True), port_pos(view, dst, dst_port, False))


def click(view, pos: QPoint, modifier=NO_MOD) -> None:
    QTest.mouseClick(view.viewport(), LEFT, modifier, pos)


def drop_node(window, type_name: str, pos) -> str:
    """Drop a palette type on the canvas and return the new node's id."""
    before = set(window.document.graph.nodes())
    assert drop_type(window.view, type_name, pos)
    (node_id,) = set(window.document.graph.nodes()) - before
    return node_id


def form_with_spin_box(parent=None):
    """A scroll area holding a spin box (value 20) over 40 rows, shown at 300 x 200:
    ``(area, spin)`` for wheel-guard tests."""
    from PySide6 import QtWidgets  # noqa: PLC0415

    area = QtWidgets.QScrollArea(parent)
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
    area.show()
    QApplication.processEvents()
    return area, spin


def wheel_down(target) -> None:
    """One notch of the mouse wheel (down) over ``target``, as an application-sent event."""
    from PySide6.QtGui import QWheelEvent  # noqa: PLC0415

    ev = QWheelEvent(QPointF(5, 5), QPointF(target.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, -120),
                     Qt.MouseButton.NoButton, NO_MOD, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, ev)
