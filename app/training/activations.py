"""Activation maps: pick a test sample, see every layer's output for it and the predicted
class probabilities.

The view runs its own :class:`graph.Engine` on a private copy of the graph (one sample,
forward only: milliseconds for the book's nets), so it never touches the engine of a run
in progress; during training it is fed weight snapshots the worker copied for it.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph import Engine
from graph.training.datasets import fit_to_input, labels_for_input, make_scaler
from graph.model.errors import GraphError
from graph.views.mosaic import tile
from layers import ShapeError

from .filters import make_image_item


def layer_image(value: np.ndarray) -> np.ndarray:
    """One sample's layer output as a 2-D image scaled to 0..1.

    ``(C, H, W)`` feature maps become a mosaic (each channel scaled on its own); a vector
    ``(D,)`` becomes a near-square block of D cells (NaN where the square has spare room).
    """
    a = np.asarray(value, dtype=np.float64)
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3:
        return tile(a, normalize=True)
    flat = a.reshape(-1)
    side = int(math.ceil(math.sqrt(max(flat.size, 1))))
    img = np.full(side * side, np.nan)
    img[: flat.size] = flat
    lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 0.0)
    img = (img - lo) / (hi - lo) if hi > lo else np.where(np.isnan(img), np.nan, 0.5)
    return img.reshape(side, side)


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    e = np.exp(z - z.max())
    return e / e.sum()


NO_GRAPH = ("No graph yet: open or build a network, then press Start in the Training dock "
            "to see each layer's output here.")
NO_DATA = "Load a dataset in the Training dock to pick a sample."


class ActivationViewer(QtWidgets.QWidget):
    """Sample picker, per-layer output mosaics and a probability bar chart."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.splits = None
        self.scaler = None
        self.graph = None
        self.engine: Engine | None = None
        self.layer_ids: list[str] = []
        self.images: dict[str, np.ndarray] = {}
        self.probabilities: np.ndarray | None = None

        self.index = QtWidgets.QSpinBox()
        self.index.setPrefix("test sample #")
        self.index.setKeyboardTracking(False)
        self.index.valueChanged.connect(self.refresh)
        self.random_button = QtWidgets.QPushButton("Random")
        self.random_button.clicked.connect(self._random)
        self.info = QtWidgets.QLabel(NO_GRAPH)
        self.info.setWordWrap(True)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.index)
        top.addWidget(self.random_button)
        top.addWidget(self.info, 1)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        # a short title: the chart may be as narrow as its minimum width, and a longer one is cut
        self.prob_plot = pg.PlotWidget(background="w")
        self.prob_plot.setTitle("Class probabilities", size="10pt")
        self.prob_plot.setYRange(0, 1)
        self.prob_plot.setMouseEnabled(False, False)
        self.prob_plot.setMinimumWidth(240)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=(31, 119, 180))
        self.prob_plot.addItem(self.bars)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.glw)
        split.addWidget(self.prob_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._rng = np.random.default_rng()
        self._items: dict[str, pg.ImageItem] = {}
        self._sample_item = None
        self._stale = False

    # -- inputs --------------------------------------------------------------------
    def set_data(self, splits, scaling: str = "auto") -> None:
        """Use the test split of ``splits`` (a :class:`graph.training.datasets.DataSplits`)."""
        self.splits = splits
        self.scaler = make_scaler(scaling, splits.x_train, splits.default_scaling)
        self.index.blockSignals(True)
        self.index.setRange(0, max(len(splits.y_test) - 1, 0))
        self.index.blockSignals(False)
        self.refresh()

    def set_graph(self, graph) -> None:
        """Show ``graph`` (copied) with its current weights."""
        self.graph = graph.copy()
        self.engine = None
        self._rebuild_layout()
        self.refresh()

    def set_weights(self, weights: dict) -> None:
        """Replace weights ``{node id: {name: array}}`` (a training snapshot) and redraw."""
        if self.graph is None:
            return
        for nid, tensors in weights.items():
            if self.graph.has_node(nid):
                self.graph.node(nid).weights.update({k: np.array(v, dtype=np.float64) for k, v in tensors.items()})
        self.engine = None
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True  # redrawn when shown

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _random(self) -> None:
        if self.splits is not None and len(self.splits.y_test):
            self.index.setValue(int(self._rng.integers(len(self.splits.y_test))))

    # -- drawing -------------------------------------------------------------------
    def _rebuild_layout(self) -> None:
        self.glw.clear()
        self._items = {}
        g = self.graph
        loss_types = {"losses"}
        self.layer_ids = [n for n in g.topo_order()
                          if g.node(n).type not in ("Input", "Constant")
                          and g.node(n).op.category not in loss_types]
        cols = 4
        self._sample_item = make_image_item()
        vb = self.glw.ci.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
        vb.addItem(self._sample_item)
        self.glw.ci.addLabel("input", row=0, col=0)
        for k, nid in enumerate(self.layer_ids):
            pos = k + 1
            r, c = divmod(pos, cols)
            label = f"{nid} ({g.node(nid).type})"
            self.glw.ci.addLabel(label, row=2 * r, col=c)
            vb = self.glw.ci.addViewBox(row=2 * r + 1, col=c, lockAspect=True, invertY=True, enableMenu=False)
            vb.setBackgroundColor((235, 235, 235))
            item = make_image_item()
            vb.addItem(item)
            self._items[nid] = item

    def _engine(self) -> Engine:
        if self.engine is None:
            self.engine = Engine(self.graph, backend="numpy", dtype="float64", seed=0)
        return self.engine

    def refresh(self) -> None:
        """Run the chosen sample through the graph and redraw everything."""
        if self.graph is None:
            self.info.setText(NO_GRAPH)
            return
        if self.splits is None or not len(self.splits.y_test):
            self.info.setText(NO_DATA)
            return
        self._stale = False
        i = int(self.index.value())
        x = self.splits.x_test[i: i + 1]
        y = self.splits.y_test[i: i + 1]
        try:
            eng = self._engine()
            if len(eng.input_ids("data")) != 1:
                self.info.setText("Activation maps need a graph with one Input of role 'data' "
                                  "(e.g. the simple_convnet example).")
                return
            feeds = self._feeds(eng, x, y)
            eng.forward(feeds, train=False)
        except (GraphError, ValueError, ShapeError) as exc:
            self.info.setText(f"Cannot run this sample through the graph: {exc}")
            return
        names = self.splits.class_names
        self.images = {}
        for nid in self.layer_ids:
            value = eng.value(nid)
            img = layer_image(value[0] if value.ndim else value)
            self.images[nid] = img
            self._items[nid].setImage(img, autoLevels=False, levels=(0.0, 1.0))
            self._items[nid].getViewBox().autoRange(padding=0.02)
        raw = np.asarray(x[0], dtype=np.float64)
        img = raw[0] if raw.ndim == 3 else raw.reshape(1, -1)
        self._sample_item.setImage(img, autoLevels=True)
        self._sample_item.getViewBox().autoRange(padding=0.02)
        logits_id = eng.logits_node()
        true = names[int(y[0])] if int(y[0]) < len(names) else str(int(y[0]))
        if logits_id is None:
            self.info.setText(f"true class {true}; the graph has no loss, so no prediction")
            return
        logits = eng.value(logits_id)
        p = softmax(logits[0] if logits.ndim > 1 else logits)
        self.probabilities = p
        self.bars.setOpts(x=np.arange(len(p)), height=p, width=0.8)
        # fixed ranges: auto-range lagged behind the new bars and cut off the last class
        self.prob_plot.setXRange(-0.5, len(p) - 0.5, padding=0.02)
        self.prob_plot.setYRange(0.0, 1.0, padding=0.02)
        self.prob_plot.getAxis("bottom").setTicks([[(k, names[k] if k < len(names) else str(k))
                                                    for k in range(len(p))]])
        pred = int(p.argmax())
        pname = names[pred] if pred < len(names) else str(pred)
        verdict = "correct" if pred == int(y[0]) else "WRONG"
        self.info.setText(f"true class <b>{true}</b>, predicted <b>{pname}</b> "
                          f"({p[pred]:.1%}, {verdict})")

    def _feeds(self, eng: Engine, x, y) -> dict:
        feeds = {}
        for did in eng.input_ids("data"):
            shape = self.graph.node(did).params["shape"]
            feeds[did] = fit_to_input(self.scaler(x, np.float64), shape, did)
        for lid in eng.input_ids("label"):
            shape = self.graph.node(lid).params["shape"]
            feeds[lid] = labels_for_input(y, shape, max(self.splits.num_classes, 1))
        return feeds
