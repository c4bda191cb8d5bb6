"""The mouse wheel scrolls a form; it changes a field only once the field has focus.

Without this, scrolling a long settings form over a spin box turns its value (batch 20
becomes 18), and scrolling the step inspector stops dead over a plot, which zooms. One
application-wide event filter (:func:`install_wheel_guard`) hands such wheel events to
the scroll area around the widget instead. While training runs, the fields are guarded
one by one instead (:func:`suspend`, :func:`restore`, called by the training dock's
lock): a Python filter on the application costs the training thread the GIL for every
GUI event.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from shiboken6 import isValid
from PySide6.QtWidgets import (QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication,
                               QComboBox, QGraphicsView, QScrollArea, QScrollBar, QWidget)

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider, QGraphicsView)
FIELDS = (QAbstractSpinBox, QComboBox, QAbstractSlider)   # fields a wheel would change


def _guarded_field(obj: QObject) -> QWidget | None:
    """The field a wheel event on ``obj`` would change (a plot's viewport counts as the plot)."""
    if not isinstance(obj, QWidget):
        return None
    for w in (obj, obj.parentWidget()):
        if w is not None and isinstance(w, GUARDED) and not isinstance(w, (QScrollArea, QScrollBar)):
            return w
    return None


def _scroll_area(w: QWidget) -> QScrollArea | None:
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, QScrollArea):
            return p
        p = p.parentWidget()
    return None


class WheelGuard(QObject):
    """Forwards wheel events on unfocused fields inside a scroll area to that area."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.suspended = False            # see suspend()
        self.per_field: list[QWidget] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish:
            # Qt gives a spin box or combo box focus from the wheel itself (WheelFocus),
            # before any filter sees the event: then the field "has focus" and the first
            # notch over it changed its value. Click and Tab still give focus.
            if isinstance(obj, FIELDS) and obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QEvent.Type.Wheel:
            return False
        field = _guarded_field(obj)
        if field is None or field.hasFocus() or (isinstance(field, QAbstractScrollArea) and field is obj):
            return False
        area = _scroll_area(field)
        if area is None:
            return False
        bar = area.verticalScrollBar() if abs(event.angleDelta().y()) >= abs(event.angleDelta().x()) \
            else area.horizontalScrollBar()
        QCoreApplication.sendEvent(bar, event)
        return True


def install_wheel_guard(app: QApplication | None = None) -> WheelGuard | None:
    """Install the guard once on ``app`` (default: the running application)."""
    app = app or QApplication.instance()
    if app is None:
        return None
    guard = getattr(app, "_wheel_guard", None)
    if guard is None:
        # fields polished before the guard existed (the docks are built first) miss its
        # Polish hook: take Qt's wheel focus from them here
        for top in app.topLevelWidgets():
            for field in top.findChildren(QWidget):
                if isinstance(field, FIELDS) and field.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                    field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        app._wheel_guard = guard
    return guard


def suspend(app: QApplication | None = None) -> None:
    """While training runs: take the application-wide guard off and guard each field that
    sits in a scroll area one by one instead, until :func:`restore`.

    Why: a Python filter on the application runs for every event of the GUI thread, each
    call taking the GIL from the training thread (a toy net trained 13 % slower in the GUI
    with it). Fields made during the run are not guarded; the training form itself is
    locked (disabled) then, and a disabled field passes the wheel to its form anyway.
    """
    app = app or QApplication.instance()
    guard = getattr(app, "_wheel_guard", None) if app is not None else None
    if guard is None or guard.suspended:
        return
    guard.suspended = True
    app.removeEventFilter(guard)
    for area in (a for top in app.topLevelWidgets() for a in top.findChildren(QScrollArea)):
        for field in area.findChildren(QWidget):
            if isinstance(field, GUARDED) and not isinstance(field, (QScrollArea, QScrollBar)):
                targets = [field, field.viewport()] if isinstance(field, QGraphicsView) else [field]
                for target in targets:
                    target.installEventFilter(guard)
                    guard.per_field.append(target)


def restore(app: QApplication | None = None) -> None:
    """Undo :func:`suspend`: the per-field filters off, the application-wide guard back."""
    app = app or QApplication.instance()
    guard = getattr(app, "_wheel_guard", None) if app is not None else None
    if guard is None or not guard.suspended:
        return
    for target in guard.per_field:
        if isValid(target):
            target.removeEventFilter(guard)
    guard.per_field = []
    guard.suspended = False
    app.installEventFilter(guard)
