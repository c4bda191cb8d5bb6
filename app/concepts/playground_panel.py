"""The 2-D playground panel: decision boundary behind the points, live while training;
loss curve; what each hidden unit computes; click to add a point, right-click to remove;
noise, train/test ratio and feature inputs. The model is :class:`graph.views.playground.Playground`
(training runs through the app's Trainer); this module only draws it and takes input.

Training runs on the GUI thread in slices of :data:`SLICE_S` (a toy network needs well under
a millisecond per iteration), so no array crosses threads; the heat map is redrawn when the
:class:`~graph.views.playground.RefreshClock` says so (a few times per second, at most about
5 % of the time).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.datasets.toy import TOY_NAMES
from graph.views.mosaic import tile
from graph.views.playground import EXTENT, FEATURES, Playground, PlaygroundError, RefreshClock

from .common import CLASS_COLORS, caption, plot_widget, two_class_lut

SLICE_S = 0.04
MAX_CURVE = 600       # points of the train-loss curve drawn (every k-th iteration)
UNITS_EVERY = 4       # while training, the unit thumbnails are redrawn every 4th time,
LOSS_EVERY = 3        # the loss curves every 3rd: painting them cost more than the heat map


class PlaygroundPanel(QtWidgets.QWidget):
    """Trains a copy of the document's graph on a toy set; see the module docs."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.playground: Playground | None = None
        self.clock = RefreshClock()
        self.snapshot = None
        self.busy_s = self.draw_s = 0.0
        self._drawn_points = (None, -1)
        self._tick_end: float | None = None
        self._redraw_cost: float | None = None   # the last redraw's own time, until its painting is known
        self._redraws = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        outer = QtWidgets.QHBoxLayout(self)
        outer.addWidget(self._controls())
        outer.addWidget(self._boundary(), 3)
        outer.addLayout(self._side(), 2)

    # -- widgets -----------------------------------------------------------------------------------
    def _controls(self) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        box.setMaximumWidth(250)
        form = QtWidgets.QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.toy = QtWidgets.QComboBox()
        self.toy.addItems(list(TOY_NAMES))
        self.toy.setCurrentText("xor")
        self.toy.currentTextChanged.connect(lambda t: self._change(lambda p: p.set_data(toy=t)))
        self.noise = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.noise.setRange(0, 50)
        self.noise.setToolTip("Noise, as the Playground's 0 .. 50")
        self.noise.valueChanged.connect(lambda v: self._change(lambda p: p.set_data(noise=v / 100)))
        self.ratio = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.ratio.setRange(10, 90)
        self.ratio.setValue(50)
        self.ratio.setToolTip("Share of the points used for training (the rest are test points)")
        self.ratio.valueChanged.connect(lambda v: self._change(lambda p: p.set_data(train_ratio=v / 100)))
        self.ratio_label = QtWidgets.QLabel("train 50 % / test 50 %")
        self.ratio.valueChanged.connect(lambda v: self.ratio_label.setText(f"train {v} % / test {100 - v} %"))
        self.feature_boxes = {}
        feats = QtWidgets.QWidget()
        fl = QtWidgets.QGridLayout(feats)
        fl.setContentsMargins(0, 0, 0, 0)
        for i, name in enumerate(FEATURES):
            cb = QtWidgets.QCheckBox(name)
            cb.setChecked(name in ("x1", "x2"))
            cb.toggled.connect(self._features_changed)
            fl.addWidget(cb, i // 2, i % 2)
            self.feature_boxes[name] = cb
        self.cls = QtWidgets.QComboBox()
        self.cls.addItem("0 (blue)", 0)
        self.cls.addItem("1 (orange)", 1)
        self.cls.setToolTip("Left-click on the plot adds a training point of this class; right-click removes one")
        self.lr = QtWidgets.QDoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 3.0)
        self.lr.setSingleStep(0.01)
        self.lr.setValue(0.03)
        self.lr.setKeyboardTracking(False)
        self.lr.valueChanged.connect(lambda v: self._change(lambda p: p.set_training(lr=v)))
        self.batch = QtWidgets.QSpinBox()
        self.batch.setRange(1, 500)
        self.batch.setValue(10)
        self.batch.setKeyboardTracking(False)
        self.batch.valueChanged.connect(lambda v: self._change(lambda p: p.set_training(batch_size=v)))
        self.train_button = QtWidgets.QPushButton("Train")
        self.train_button.setCheckable(True)
        self.train_button.toggled.connect(self.set_training)
        self.reset_button = QtWidgets.QPushButton("Reset weights")
        self.reset_button.clicked.connect(lambda: self._change(lambda p: p.reset_weights()))
        self.apply_button = QtWidgets.QPushButton("Keep weights in the graph")
        self.apply_button.setToolTip("Copy the trained weights into the editor's graph (undoable; x1, x2 inputs only)")
        self.apply_button.clicked.connect(self.apply_weights)
        self.status = caption()
        form.addRow("Data", self.toy)
        form.addRow("Noise", self.noise)
        form.addRow(self.ratio_label, self.ratio)
        form.addRow(QtWidgets.QLabel("Feature inputs"))
        form.addRow(feats)
        form.addRow("Click adds", self.cls)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch)
        form.addRow(self.train_button)
        form.addRow(self.reset_button)
        form.addRow(self.apply_button)
        form.addRow(self.status)
        return box

    def _boundary(self) -> QtWidgets.QWidget:
        self.plot = plot_widget("decision boundary (● train, □ test)", 300)
        self.plot.setAspectLocked(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.setXRange(-EXTENT, EXTENT, padding=0)
        self.plot.setYRange(-EXTENT, EXTENT, padding=0)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setLookupTable(two_class_lut())
        self.heat.setLevels((0.0, 1.0))
        self.plot.addItem(self.heat)
        self.train_points = pg.ScatterPlotItem(size=7, symbol="o", pen=pg.mkPen("w", width=1))
        self.test_points = pg.ScatterPlotItem(size=8, symbol="s", brush=None)
        self.plot.addItem(self.train_points)
        self.plot.addItem(self.test_points)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        return self.plot

    def _side(self) -> QtWidgets.QVBoxLayout:
        lay = QtWidgets.QVBoxLayout()
        self.loss_plot = plot_widget("loss (train per iteration, test per redraw)", 120)
        self.loss_plot.setLabel("bottom", "iteration")
        self.loss_plot.addLegend(offset=(-5, 5))
        self.train_curve = self.loss_plot.plot(pen=pg.mkPen((31, 119, 180), width=1), name="train")
        self.test_curve = self.loss_plot.plot(pen=pg.mkPen((214, 39, 40), width=2), name="test")
        # ranges change in steps (see _fit_loss_range): re-laying out the axes on every
        # redraw cost more than the rest of the redraw
        self.loss_plot.disableAutoRange()
        self._loss_range = (0.0, 0.0)
        self.units = pg.GraphicsLayoutWidget()
        self.units.setBackground("w")
        self.units.setMinimumHeight(160)
        self.unit_images: dict[str, pg.ImageItem] = {}
        lay.addWidget(self.loss_plot, 1)
        lay.addWidget(caption("What each unit computes over the plane (one row per layer):"))
        lay.addWidget(self.units, 2)
        return lay

    # -- set-up --------------------------------------------------------------------------------------
    def ensure_playground(self) -> bool:
        """Build the playground from the document's graph (once); explain when it does not fit."""
        if self.playground is not None:
            return True
        try:
            self.playground = Playground(self.document.graph, self.toy.currentText(), noise=self.noise.value() / 100,
                                         train_ratio=self.ratio.value() / 100, features=self._features(),
                                         lr=self.lr.value(), batch_size=self.batch.value())
        except PlaygroundError as exc:
            self.status.setText(f"{exc}. Open Examples → toy_mlp (or any graph with a data Input of shape (N, 2)).")
            return False
        self.redraw()
        return True

    def reload(self) -> None:
        """Forget the playground (the document's graph changed); the next use copies it again."""
        self.set_training(False)
        self.playground = None
        self.unit_images.clear()
        self.units.clear()

    def _features(self) -> list[str]:
        return [n for n, cb in self.feature_boxes.items() if cb.isChecked()]

    def _features_changed(self, *_args) -> None:
        feats = self._features()
        if not feats:
            self.status.setText("keep at least one feature input")
            return
        self._change(lambda p: p.set_features(feats), relayout=True)

    def _change(self, action, relayout: bool = False) -> None:
        if not self.ensure_playground():
            return
        try:
            action(self.playground)
        except PlaygroundError as exc:
            self.status.setText(str(exc))
            return
        if relayout:
            self.unit_images.clear()
            self.units.clear()
        self.redraw()

    # -- training --------------------------------------------------------------------------------------
    def set_training(self, on: bool) -> None:
        if on and not self.ensure_playground():
            on = False
        self.train_button.blockSignals(True)
        self.train_button.setChecked(on)
        self.train_button.setText("Pause" if on else "Train")
        self.train_button.blockSignals(False)
        if on:
            self._timer.start()
        else:
            self._timer.stop()

    def _tick(self) -> None:
        t0 = time.perf_counter()
        if self._redraw_cost is not None and self._tick_end is not None:
            # the time outside the last tick is mostly Qt painting what the redraw changed
            self.clock.cost(self._redraw_cost + (t0 - self._tick_end))
            self._redraw_cost = None
        ran = self.playground.train_for(SLICE_S)
        self.busy_s += time.perf_counter() - t0
        if ran == 0:
            self.set_training(False)
            self._tick_end = None
            self.status.setText("training stopped (the loss became NaN/Inf): reset the weights or lower the rate")
        now = time.perf_counter()
        if self.clock.due(now):
            self.redraw()
            end = time.perf_counter()
            self.draw_s += end - now
            self.clock.took(end, end - now)
            self._redraw_cost = end - now
        self._tick_end = time.perf_counter()

    def apply_weights(self) -> None:
        p = self.playground
        if p is None:
            return
        if p.features != ("x1", "x2"):
            self.status.setText("only the plain x1, x2 inputs fit the editor's graph; untick the extra features")
            return
        p.trainer.engine.sync_to_graph()
        weights = {i: p.graph.node(i).weights for i in p.graph.nodes() if p.graph.node(i).weights}
        self.document.apply_weights(weights, "Keep playground weights")

    # -- drawing ----------------------------------------------------------------------------------------
    def redraw(self) -> None:
        p = self.playground
        if p is None:
            return
        snap = self.snapshot = p.snapshot()
        step = snap.xs[1] - snap.xs[0]
        self.heat.setImage(snap.heat, autoLevels=False)
        rect = QtCore.QRectF(snap.xs[0] - step / 2, snap.xs[0] - step / 2, step * len(snap.xs), step * len(snap.xs))
        if self.heat.mapRectToParent(self.heat.boundingRect()) != rect:
            # row 0 of the image is the lowest x2: the plot's y axis points up
            self.heat.setRect(rect)
        if self._drawn_points != (p, p.data_version):   # the scatter's symbols are costly to rebuild
            self._drawn_points = (p, p.data_version)
            x, y, test = p.points()
            brushes = [pg.mkBrush(*CLASS_COLORS[int(c)]) for c in y[~test]]
            self.train_points.setData(pos=x[~test], brush=brushes)
            self.test_points.setData(pos=x[test], pen=[pg.mkPen(CLASS_COLORS[int(c)], width=2) for c in y[test]])
        self._redraws += 1
        training = self._timer.isActive()
        if not training or self._redraws % LOSS_EVERY == 1:
            self._draw_losses(p)
        if not training or self._redraws % UNITS_EVERY == 1:
            self._draw_units(snap.units)
        acc = f", test accuracy {snap.test_acc:.1%}" if snap.test_acc is not None else ""
        loss = f"train loss {snap.train_loss:.3f}" if snap.train_loss is not None else "not trained yet"
        self.status.setText(f"iteration {snap.iteration}: {loss}{acc}")

    def _draw_losses(self, p: Playground) -> None:
        if p.loss_history:
            its, losses = np.asarray(p.loss_history[::max(1, len(p.loss_history) // MAX_CURVE)]).T
            self.train_curve.setData(its, losses)
        if p.test_history:
            its, losses = np.asarray(p.test_history).T
            self.test_curve.setData(its, losses)
        self._fit_loss_range(p)

    def _fit_loss_range(self, p: Playground) -> None:
        """Grow the loss plot's x range by doubling and its y range to the largest loss seen."""
        losses = [v for _, v in p.loss_history[-MAX_CURVE:]] + [v for _, v in p.test_history[-50:]]
        if not losses:
            return
        x_max, y_max = self._loss_range
        its = max(p.iteration, 1)
        top = float(np.nanmax(losses)) if np.isfinite(np.nanmax(losses)) else y_max
        if its > x_max or top > y_max or top < y_max / 4:
            x_max = x_max if its <= x_max else max(100.0, 2.0 ** np.ceil(np.log2(its)))
            y_max = top * 1.1 if (top > y_max or top < y_max / 4) else y_max
            self._loss_range = (x_max, y_max)
            self.loss_plot.setXRange(0, x_max, padding=0)
            self.loss_plot.setYRange(0, y_max, padding=0)

    def _draw_units(self, units: dict) -> None:
        for row, (name, maps) in enumerate(units.items()):
            img = self.unit_images.get(name)
            if img is None:
                self.units.addLabel(name, row=row, col=0, size="8pt", color="#333")
                vb = self.units.addViewBox(row=row, col=1, lockAspect=True, invertY=True, enableMenu=False)
                vb.setMouseEnabled(False, False)
                img = pg.ImageItem(axisOrder="row-major")
                img.setLookupTable(two_class_lut())
                vb.addItem(img)
                self.unit_images[name] = img
            # one colour scale per layer (tanh: -1..1), so units can be compared at a glance
            lo, hi = float(maps.min()), float(maps.max())
            scaled = (maps[:, ::-1, :] - lo) / (hi - lo if hi > lo else 1.0)
            mosaic = tile(scaled, ncols=len(maps) if len(maps) <= 8 else 16)
            fresh = img.image is None or img.image.shape != mosaic.shape
            img.setImage(mosaic, autoLevels=False, levels=(0.0, 1.0))
            if fresh:   # fit once; auto-ranging on every update re-lays out the whole grid
                vb = img.getViewBox()
                vb.autoRange(padding=0.02)
                vb.disableAutoRange()

    # -- mouse ------------------------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if self.playground is None and not self.ensure_playground():
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        if abs(p.x()) > EXTENT or abs(p.y()) > EXTENT:
            return
        if event.button() == QtCore.Qt.MouseButton.RightButton:
            self._change(lambda pg_: pg_.remove_point(p.x(), p.y()))
        elif event.button() == QtCore.Qt.MouseButton.LeftButton:
            label = self.cls.currentData()
            self._change(lambda pg_: pg_.add_point(p.x(), p.y(), label))
        event.accept()
