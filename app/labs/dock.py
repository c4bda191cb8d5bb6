"""``build_labs(parts, training)``: the Labs dock (a tab per lab), the Labs menu, and the
session's run list with its "Compare runs" tab in the Training views."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from graph.training.labs import LABS

from ..editor_parts import EditorParts
from ..training.compare import RunComparison, RunList, RunRecorder
from .panels import BatchNormPanel, InitPanel, InitTrainPanel, OptimizersPanel, OverfitPanel
from .race_panel import RacePanel
from .search_panel import SearchPanel

PANELS = {cls.lab_cls.name: cls for cls in (RacePanel, OptimizersPanel, InitPanel, InitTrainPanel, BatchNormPanel,
                                            OverfitPanel, SearchPanel)}


class LabsDock(QtWidgets.QDockWidget):
    """One tab per lab. The panels (a dozen pyqtgraph plots) are made when first shown."""

    def __init__(self, runs: RunList, parent=None) -> None:
        super().__init__("Labs", parent)
        self.setObjectName("LabsDock")
        self.runs = runs
        self.panels: dict = {}
        self._tabs: QtWidgets.QTabWidget | None = None
        self.setWidget(QtWidgets.QLabel("The book's experiments appear here (Labs menu)."))
        self.visibilityChanged.connect(lambda visible: visible and self.ensure_built())
        self.open_graph = None  # callable(graph, name), set by build_labs

    def ensure_built(self) -> QtWidgets.QTabWidget:
        if self._tabs is None:
            tabs = QtWidgets.QTabWidget()
            tabs.setObjectName("labTabs")
            for name, cls in PANELS.items():
                panel = cls()
                panel.runs_finished.connect(self.runs.extend)
                if isinstance(panel, RacePanel) and self.open_graph is not None:
                    panel.open_graph.connect(self.open_graph)
                self.panels[name] = panel
                tabs.addTab(panel, name)
            self._tabs = tabs
            self.setWidget(tabs)
        return self._tabs

    def show_lab(self, name: str):
        """Show the dock with the lab's tab in front; returns its panel."""
        tabs = self.ensure_built()
        self.show()
        self.raise_()
        tabs.setCurrentWidget(self.panels[name])
        return self.panels[name]

    def panel(self, name: str):
        self.ensure_built()
        return self.panels[name]

    def shutdown(self) -> None:
        for panel in self.panels.values():
            panel.shutdown()


class Labs(QtCore.QObject):
    """What :func:`build_labs` made: the dock, the run list, the comparison tab and actions."""

    def __init__(self, dock: LabsDock, runs: RunList, views, parent=None) -> None:
        super().__init__(parent)
        self.dock, self.runs, self.views = dock, runs, views
        self.comparison: RunComparison | None = None
        self.actions: dict[str, QtGui.QAction] = {}

    def ensure_comparison(self) -> RunComparison:
        """The "Compare runs" tab of the Training views (added when the views are built)."""
        if self.comparison is None:
            self.comparison = RunComparison(self.runs)
            self.views.tabs.addTab(self.comparison, "Compare runs")
        return self.comparison

    def show_comparison(self) -> RunComparison:
        comparison = self.ensure_comparison()
        self.views.show()
        self.views.raise_()
        self.views.tabs.setCurrentWidget(comparison)
        return comparison


def build_labs(parts: EditorParts, training) -> Labs:
    """Add the Labs dock and menu, and the run list fed by the Training dock and every lab."""
    window = parts.window
    runs = RunList(window)
    RunRecorder(training, runs)
    dock = LabsDock(runs, window)
    dock.open_graph = lambda graph, name: _open_graph(window, graph, name)
    window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.tabifyDockWidget(training.views, dock)
    dock.hide()
    labs = Labs(dock, runs, training.views, window)
    # the comparison tab joins the Training views whenever they get built
    training.views.visibilityChanged.connect(lambda visible: visible and training.views.built
                                             and labs.ensure_comparison())

    menu = parts.menus.labs
    for name, cls in LABS.items():
        act = QtGui.QAction(f"{cls.title}", window)
        act.setObjectName(f"actionLab_{name}")
        act.setStatusTip(cls.about)
        act.triggered.connect(lambda _checked=False, n=name: _show_lab(window, dock, n))
        menu.addAction(act)
        labs.actions[name] = act
    menu.addSeparator()
    compare = QtGui.QAction("&Compare runs", window)
    compare.setObjectName("actionCompareRuns")
    compare.setStatusTip("Overlay the loss, accuracy and learning rate of any finished runs of this session")
    compare.triggered.connect(labs.show_comparison)
    menu.addAction(compare)
    menu.addAction(dock.toggleViewAction())
    labs.actions["compare"] = compare
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(dock.shutdown)
    return labs


def _show_lab(window, dock: LabsDock, name: str) -> None:
    panel = dock.show_lab(name)
    if dock.height() < window.height() * 0.45:
        window.resizeDocks([dock], [int(window.height() * 0.55)], QtCore.Qt.Orientation.Vertical)
    panel.setFocus()


def _open_graph(window, graph, name: str) -> bool:
    """Open a lab's graph (the race's f(x, y)) as an unsaved document."""
    if not window.maybe_save():
        return False
    window.document.reset(graph, name=name)
    window.log.message(f"Opened “{name}”: run it, then step forward and backward to see ∂f/∂x and ∂f/∂y",
                       "success")
    window.view.fit()
    return True
