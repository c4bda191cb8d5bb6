"""``--steps N`` for screenshots: show the state after the first N events.

``app.gui_main`` calls :func:`apply_steps` after loading the graph and before rendering a
``--screenshot`` when ``--steps`` was given.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..canvas.readability import readable_zoom
from ..main_window import MainWindow
from .assemble import SteppingUI

PULSE_SNAPSHOT = 0.3
OVERLAY_ROW = 24.0
MAX_ZOOM = 1.6


def apply_steps(window: MainWindow, n: int) -> bool:
    """Record a run of ``window``'s graph and jump to event ``n - 1`` (``n = 0``: nothing).

    The pulse animation is frozen part-way so the still image shows the travelling dots;
    the view is fitted to the nodes and the active node's rule card. Returns ``False``
    (after logging why) when the graph cannot run.
    """
    ui = window.stepping
    if not ui.controller.record():
        return False
    ui.controller.jump(int(n) - 1)
    anim = ui.overlay.animation
    if anim.state() == QtCore.QAbstractAnimation.State.Running:
        anim.pause()
        anim.setCurrentTime(int(anim.duration() * PULSE_SNAPSHOT))
    QtWidgets.QApplication.processEvents()  # let the docks settle before measuring the view
    _fit(window, ui)
    QtWidgets.QApplication.processEvents()
    return True


def _fit(window: MainWindow, ui: SteppingUI) -> None:
    view, scene = window.view, window.scene
    if not scene.nodes:
        return
    rect = QtCore.QRectF()
    for item in scene.nodes.values():
        # the box plus the value/gradient rows (a node's bounding rect is much wider)
        rect = rect.united(item.mapRectToScene(item.box()).adjusted(0, -OVERLAY_ROW, 0, OVERLAY_ROW))
    for item in scene.edges.values():
        rect = rect.united(item.sceneBoundingRect())
    rule = ui.overlay.rule_item
    if rule is not None and rule.isVisible():
        rect = rect.united(rule.sceneBoundingRect())
    view.fitInView(rect.adjusted(-30, -30, 30, 30), QtCore.Qt.AspectRatioMode.KeepAspectRatio)
    scale = view.transform().m11()
    if scale > MAX_ZOOM:
        view.scale(MAX_ZOOM / scale, MAX_ZOOM / scale)
    center = rect.center()
    floor = readable_zoom()
    if scale < floor:
        # fitting a wide graph would shrink the values and gradients to "…": stay
        # readable and show the active step (its rule card) instead of the whole graph
        view.scale(floor / scale, floor / scale)
        if rule is not None and rule.isVisible():
            center = rule.sceneBoundingRect().center()
    view.centerOn(center)
    view.zoom_changed.emit(view.zoom())
