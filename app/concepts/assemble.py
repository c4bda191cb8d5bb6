"""``build_concepts(parts, controller)``: the Concepts dock (gate truth table, activation plot,
conv arithmetic, im2col), the Playground dock and the Concepts menu that opens them."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid

from graph.views.activation_curves import SUPPORTED as ACTIVATIONS
from graph.views.conv_arithmetic import CONV_TYPES

from ..editor_parts import EditorParts
from .activation_panel import ActivationPanel
from .conv_panel import ConvArithmeticPanel
from .im2col_panel import Im2colPanel
from .playground_panel import PlaygroundPanel
from .truth_panel import TruthTablePanel

TABS = ("gate", "activation", "conv", "im2col")
TAB_TITLES = {"gate": "Truth table", "activation": "Activation", "conv": "Conv arithmetic", "im2col": "im2col"}
MENU_TEXT = {"gate": "Perceptron &truth table", "activation": "&Activation function plot",
             "conv": "&Conv arithmetic calculator", "im2col": "&im2col view", "playground": "2-D &playground"}


@dataclass
class ConceptsUI:
    """What :func:`build_concepts` added: the docks, the tab widget, each panel and the actions."""

    dock: QtWidgets.QDockWidget
    tabs: QtWidgets.QTabWidget
    gate: TruthTablePanel
    activation: ActivationPanel
    conv: ConvArithmeticPanel
    im2col: Im2colPanel
    playground_dock: QtWidgets.QDockWidget
    playground: PlaygroundPanel
    actions: dict

    def show_tab(self, key: str) -> None:
        """Show the Concepts dock at tab ``key`` (one of :data:`TABS`) or the playground."""
        if key == "playground":
            self.playground_dock.show()
            self.playground_dock.raise_()
            self.playground.ensure_playground()
            return
        self.dock.show()
        self.dock.raise_()
        self.tabs.setCurrentIndex(TABS.index(key))


def _selected(parts: EditorParts):
    def ids() -> list:
        return parts.scene.selected_node_ids() if isValid(parts.scene) else []
    return ids


def _scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def build_concepts(parts: EditorParts, controller) -> ConceptsUI:
    """Add the Concepts and Playground docks and fill ``parts.menus.concepts``.

    ``controller`` is the stepping :class:`~app.stepping.controller.StepController`, whose
    recorded run gives the activation plot and im2col their values.
    """
    window, doc = parts.window, parts.document
    selected = _selected(parts)
    gate = TruthTablePanel(doc)
    activation = ActivationPanel(doc, controller, selected)
    conv = ConvArithmeticPanel(doc, selected)
    im2col = Im2colPanel(doc, controller, selected)
    tabs = QtWidgets.QTabWidget()
    tabs.setObjectName("conceptTabs")
    for key, panel in zip(TABS, (gate, activation, conv, im2col)):
        tabs.addTab(_scrolled(panel) if key != "im2col" else panel, TAB_TITLES[key])
    dock = QtWidgets.QDockWidget("Concepts", window)
    dock.setObjectName("ConceptsDock")
    dock.setWidget(tabs)
    window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(parts.inspector_dock, dock)
    dock.hide()
    playground = PlaygroundPanel(doc)
    pdock = QtWidgets.QDockWidget("Playground", window)
    pdock.setObjectName("PlaygroundDock")
    pdock.setWidget(playground)
    window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, pdock)
    pdock.hide()
    pdock.visibilityChanged.connect(lambda visible: visible or playground.set_training(False))

    ui = ConceptsUI(dock, tabs, gate, activation, conv, im2col, pdock, playground, {})
    menu = parts.menus.concepts
    for key in (*TABS, "playground"):
        act = QtGui.QAction(MENU_TEXT[key], window)
        act.setObjectName(f"actionConcept{key.title()}")
        act.triggered.connect(lambda _checked=False, key=key: ui.show_tab(key))
        menu.addAction(act)
        ui.actions[key] = act
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    menu.addAction(pdock.toggleViewAction())

    def follow_selection() -> None:
        if not isValid(parts.scene):
            return
        ids = selected()
        g = doc.graph
        types = {g.node(i).type for i in ids if g.has_node(i)}
        for panel in (activation, im2col, conv):
            panel.request_refresh()
        if not dock.isVisible():
            return
        current = TABS[tabs.currentIndex()]
        if types & set(ACTIVATIONS) and current != "gate":
            tabs.setCurrentIndex(TABS.index("activation"))
        elif types & set(CONV_TYPES) and current not in ("conv", "im2col"):
            tabs.setCurrentIndex(TABS.index("conv"))

    parts.scene.selectionChanged.connect(follow_selection)
    doc.graph_reset.connect(playground.reload)
    return ui
