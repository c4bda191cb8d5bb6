"""Wires step-backprop into a main window: toolbar, Run menu, docks and canvas overlay.

The main window needs only ``document`` (a :class:`app.document.GraphDocument`) and
``scene`` (its :class:`app.canvas.scene.GraphScene`); ``log.message(text, level)`` is
used for errors when present. :func:`install_stepping` returns a :class:`SteppingUI`,
also kept as ``window.stepping``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid

from .canvas_overlay import PULSE_MS, CanvasOverlay
from .controller import StepController
from .step_inspector import StepInspector
from .timeline import TimelineDock
from .toolbar import StepActions

# document signals after which the recorded run no longer matches the graph
TIMELINE_HEIGHT = 150
STALE_SIGNALS = ("graph_reset", "node_added", "node_removed", "node_changed", "node_renamed",
                 "edge_added", "edge_removed")


@dataclass
class SteppingUI:
    """Everything :func:`install_stepping` added to a window."""

    controller: StepController
    actions: StepActions
    toolbar: QtWidgets.QToolBar
    timeline: TimelineDock
    inspector: StepInspector
    overlay: CanvasOverlay
    menu: QtWidgets.QMenu


def _selected_ids(window) -> list:
    scene = getattr(window, "scene", None)
    # the scene emits selectionChanged while it is being destroyed
    return scene.selected_node_ids() if scene is not None and isValid(scene) else []


def _report(window, text: str) -> None:
    log = getattr(window, "log", None)
    if log is not None and hasattr(log, "message"):
        log.message(f"cannot run the graph: {text}", "error")
    elif isinstance(window, QtWidgets.QMainWindow):
        window.statusBar().showMessage(f"cannot run the graph: {text}", 8000)


def install_stepping(window: QtWidgets.QMainWindow) -> SteppingUI:
    """Add the run toolbar, the Run menu, the timeline and step-inspector docks and the
    canvas overlay to ``window``; idempotent (a second call returns the first result)."""
    existing = getattr(window, "stepping", None)
    if isinstance(existing, SteppingUI):
        return existing
    document = window.document
    controller = StepController(lambda: document.graph, window)
    actions = StepActions(controller, window)
    toolbar = actions.make_toolbar(window)
    window.addToolBarBreak(QtCore.Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, toolbar)
    overlay = CanvasOverlay(controller, lambda: getattr(window, "scene", None), window)
    timeline = TimelineDock(controller, window)
    inspector = StepInspector(controller, lambda: _selected_ids(window), overlay, window)
    _place_docks(window, inspector, timeline)
    menu = _make_menu(window, actions, inspector, timeline)
    ui = SteppingUI(controller, actions, toolbar, timeline, inspector, overlay, menu)
    _connect(window, ui)
    window.stepping = ui
    return ui


def _connect(window, ui: SteppingUI) -> None:
    """Signals between the window's document/scene and the stepping parts."""
    controller, overlay, inspector = ui.controller, ui.overlay, ui.inspector

    def playing_changed(playing: bool) -> None:
        overlay.set_pulse_duration(min(PULSE_MS, 0.8 * 1000.0 / controller.speed) if playing else PULSE_MS)

    def run_changed() -> None:
        if controller.replay is not None:
            inspector.raise_()

    def graph_changed(*_args) -> None:
        controller.drop()
        overlay.clear_badges()

    controller.playing_changed.connect(playing_changed)
    controller.run_changed.connect(run_changed)
    controller.error.connect(lambda text: _report(window, text))
    scene = getattr(window, "scene", None)
    if scene is not None:
        scene.selectionChanged.connect(inspector.selection_changed)
    for name in STALE_SIGNALS:
        signal = getattr(window.document, name, None)
        if signal is not None:
            signal.connect(graph_changed)


def _place_docks(window, inspector: StepInspector, timeline: TimelineDock) -> None:
    """Step inspector as a tab beside the editor's inspector, timeline beside the log."""
    right, bottom = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
    window.addDockWidget(right, inspector)
    window.addDockWidget(bottom, timeline)
    editor_inspector = getattr(window, "inspector_dock", None)
    if isinstance(editor_inspector, QtWidgets.QDockWidget):
        window.tabifyDockWidget(editor_inspector, inspector)
    log_dock = getattr(window, "log_dock", None)
    if isinstance(log_dock, QtWidgets.QDockWidget):
        window.splitDockWidget(log_dock, timeline, QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([timeline], [TIMELINE_HEIGHT], QtCore.Qt.Orientation.Vertical)


def _make_menu(window, actions: StepActions, inspector: StepInspector, timeline: TimelineDock) -> QtWidgets.QMenu:
    menu = getattr(window, "run_menu", None)
    if not isinstance(menu, QtWidgets.QMenu):
        menu = window.menuBar().addMenu("&Run")
        menu.setObjectName("run_menu")
    elif not menu.isEmpty():
        menu.addSeparator()
    for act in actions.actions:
        menu.addAction(act)
    menu.addSeparator()
    check = QtGui.QAction("Gradient check node", window)
    check.setToolTip("Numerical vs backprop gradients for the inspected node")
    check.triggered.connect(inspector.check_node)
    check_all = QtGui.QAction("Gradient check all nodes", window)
    check_all.triggered.connect(inspector.check_all)
    menu.addAction(check)
    menu.addAction(check_all)
    menu.addSeparator()
    menu.addAction(timeline.toggleViewAction())
    menu.addAction(inspector.toggleViewAction())
    return menu
