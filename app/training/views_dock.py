"""The Training views dock: curves, filters, activations and results as tabs, built lazily.

:class:`app.training.dock.TrainingPanel` feeds it; the tabs are built the first time the
dock is shown or one of them is asked for.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from graph import Engine
from graph.model.errors import GraphError
from layers import ShapeError

from .activations import ActivationViewer
from .curves import TrainingCurves
from .filters import FilterViewer, conv_weights
from .outcome import has_weights
from .results import ResultsView


class TrainingViewsDock(QtWidgets.QDockWidget):
    """Curves, filters, activations and results as tabs.

    The tabs hold a dozen pyqtgraph plots, so they are built the first time the dock is
    shown or one of them is asked for, not with every editor window.
    """

    def __init__(self, parent=None) -> None:
        super().__init__("Training views", parent)
        self.setObjectName("TrainingViewsDock")
        self._tabs: QtWidgets.QTabWidget | None = None
        self.setWidget(QtWidgets.QLabel("Training views appear here when training starts."))
        self.visibilityChanged.connect(lambda visible: visible and self.ensure_built())

    def ensure_built(self) -> QtWidgets.QTabWidget:
        if self._tabs is None:
            tabs = QtWidgets.QTabWidget()
            self._curves = TrainingCurves()
            self._filters = FilterViewer()
            self._activations = ActivationViewer()
            self._results = ResultsView()
            tabs.addTab(self._curves, "Curves")
            tabs.addTab(self._filters, "Filters")
            tabs.addTab(self._activations, "Activations")
            tabs.addTab(self._results, "Results")
            # a floor of its own instead of the tallest page's minimum: with presentation
            # mode at 720p that minimum (and the Training dock's) made the window taller
            # than the screen, cutting off the plots' axes; a short dock squeezes the plots
            tabs.setMinimumHeight(self.MIN_TABS_PX)
            self._tabs = tabs
            self.setWidget(tabs)
            QtCore.QTimer.singleShot(0, self, self._claim_height)
        return self._tabs

    MIN_SHARE = 0.4  # of the window's height: the confusion matrix and gallery stay legible
    MIN_TABS_PX = 140

    def _claim_height(self) -> None:
        """Once, when first built: grow the dock to :attr:`MIN_SHARE` of the window's
        height (a bottom dock shares its row with the log, which left it ~200 px)."""
        window = self.parentWidget()
        if not isinstance(window, QtWidgets.QMainWindow) or self.isFloating() or not self.isVisible():
            return
        area = window.dockWidgetArea(self)
        if area not in (QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, QtCore.Qt.DockWidgetArea.TopDockWidgetArea):
            return
        want = int(window.height() * self.MIN_SHARE)
        if self.height() < want:
            window.resizeDocks([self], [want], QtCore.Qt.Orientation.Vertical)

    @property
    def built(self) -> bool:
        return self._tabs is not None

    @property
    def tabs(self) -> QtWidgets.QTabWidget:
        return self.ensure_built()

    def _tab(self, attr: str):
        """One of the tab widgets, building the tabs first when needed."""
        self.ensure_built()
        return getattr(self, attr)

    curves = property(lambda self: self._tab("_curves"), doc="The Curves tab (TrainingCurves).")
    filters = property(lambda self: self._tab("_filters"), doc="The Filters tab (FilterViewer).")
    activations = property(lambda self: self._tab("_activations"), doc="The Activations tab (ActivationViewer).")
    results = property(lambda self: self._tab("_results"), doc="The Results tab (ResultsView).")

    def show_weights(self, graph, seed: int, splits=None, fresh: bool = False) -> None:
        """Filters and activations of ``graph``'s current weights (or, for a graph that has
        none yet or with ``fresh``, the weights a fresh run with ``seed`` starts from)."""
        preview = graph.copy()
        if fresh:
            for nid in preview.nodes():
                preview.node(nid).weights.clear()
        try:
            if not has_weights(preview):
                Engine(preview, backend="numpy", dtype="float64", seed=seed)
        except (GraphError, ValueError, ShapeError):
            # an unfinished graph has no weights to show yet; the canvas shows why
            self.filters.set_layers(conv_weights(preview))
            return
        self.filters.set_layers(conv_weights(preview))
        self.activations.set_graph(preview)
        if splits is not None and self.activations.splits is not splits:
            self.activations.set_data(splits)
