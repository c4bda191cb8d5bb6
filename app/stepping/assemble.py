"""``build_stepping(parts)``: step-backprop in the editor: toolbar, Run menu, docks and canvas
overlay, attached to the editor described by an :class:`app.editor_parts.EditorParts`.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid

from ..editor_parts import EditorParts
from .canvas_overlay import PULSE_MS, CanvasOverlay
from .controller import StepController
from .step_inspector import StepInspector
from .timeline import TimelineDock
from .toolbar import StepActions

TIMELINE_HEIGHT = 150
STATUS_MS = 15000   # how long the status bar says why a run was refused


@dataclass
class SteppingUI:
    """Everything :func:`build_stepping` added to the editor."""

    controller: StepController
    actions: StepActions
    toolbar: QtWidgets.QToolBar
    timeline: TimelineDock
    inspector: StepInspector
    overlay: CanvasOverlay
    menu: QtWidgets.QMenu


def _selected_ids(parts: EditorParts) -> list:
    # the scene emits selectionChanged while it is being destroyed
    return parts.scene.selected_node_ids() if isValid(parts.scene) else []


def build_stepping(parts: EditorParts) -> SteppingUI:
    """Add the run toolbar, the Run menu's actions, the timeline and step-inspector docks
    and the canvas overlay to the editor ``parts``."""
    window = parts.window
    document = parts.document
    controller = StepController(lambda: document.graph, window)
    actions = StepActions(controller, window)
    toolbar = actions.make_toolbar(window)
    window.addToolBarBreak(QtCore.Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(QtCore.Qt.ToolBarArea.TopToolBarArea, toolbar)
    overlay = CanvasOverlay(controller, lambda: parts.scene, window)
    timeline = TimelineDock(controller, window)
    inspector = StepInspector(controller, lambda: _selected_ids(parts), overlay, window)
    _place_docks(parts, inspector, timeline)
    menu = _fill_menu(parts, actions, inspector, timeline)
    ui = SteppingUI(controller, actions, toolbar, timeline, inspector, overlay, menu)
    _connect(parts, ui)
    return ui


def _connect(parts: EditorParts, ui: SteppingUI) -> None:
    """Signals between the editor's document/scene and the stepping parts."""
    controller, overlay, inspector = ui.controller, ui.overlay, ui.inspector

    def playing_changed(playing: bool) -> None:
        overlay.set_pulse_duration(min(PULSE_MS, 0.8 * 1000.0 / controller.speed) if playing else PULSE_MS)

    def run_changed() -> None:
        if controller.replay is not None:
            inspector.raise_()

    def graph_changed(*_args) -> None:
        controller.drop()
        overlay.clear_badges()
        overlay.set_blocker(None)

    def cannot_run(text: str) -> None:
        # where the user looks: the status bar and the node to blame, not only the log
        parts.log.message(f"cannot run the graph: {text}", "error")
        parts.window.statusBar().showMessage(f"Cannot run the graph: {text}", STATUS_MS)
        overlay.set_blocker(controller.error_node, text)

    def ran() -> None:
        if controller.replay is not None:
            overlay.set_blocker(None)

    controller.playing_changed.connect(playing_changed)
    controller.run_changed.connect(run_changed)
    controller.error.connect(cannot_run)
    controller.run_changed.connect(ran)
    parts.scene.selectionChanged.connect(inspector.selection_changed)
    d = parts.document
    # after these the recorded run no longer matches the graph
    for signal in (d.graph_reset, d.node_added, d.node_removed, d.node_changed, d.node_renamed,
                   d.edge_added, d.edge_removed):
        signal.connect(graph_changed)


def _place_docks(parts: EditorParts, inspector: StepInspector, timeline: TimelineDock) -> None:
    """Step inspector as a tab beside the editor's inspector, timeline beside the log."""
    window = parts.window
    right, bottom = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
    window.addDockWidget(right, inspector)
    window.addDockWidget(bottom, timeline)
    window.tabifyDockWidget(parts.inspector_dock, inspector)
    window.splitDockWidget(parts.log_dock, timeline, QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([timeline], [TIMELINE_HEIGHT], QtCore.Qt.Orientation.Vertical)


def _fill_menu(parts: EditorParts, actions: StepActions, inspector: StepInspector,
               timeline: TimelineDock) -> QtWidgets.QMenu:
    menu, window = parts.menus.run, parts.window
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
