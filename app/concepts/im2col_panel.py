"""The im2col view (CNN Explainer style, on the user's own data): the Conv2D's input with one
receptive field highlighted, that field's row of the column matrix, the filter as a column,
and the output entry their product gives. Hovering an output pixel or a matrix row moves
the highlight."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.views.im2col import Im2colError, Im2colView

from .common import LazyPanel, caption

HIGHLIGHT = (255, 127, 14)


def _gray(item: pg.ImageItem, arr: np.ndarray) -> None:
    a = np.asarray(arr, dtype=np.float64)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
    item.setImage(a, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1.0))


def _box(item: pg.ImageItem, vb: pg.ViewBox) -> QtWidgets.QGraphicsRectItem:
    rect = QtWidgets.QGraphicsRectItem()
    rect.setPen(pg.mkPen(HIGHLIGHT, width=2))
    vb.addItem(rect)
    return rect


class Im2colPanel(LazyPanel):
    """Shows the selected Conv2D of the stepping ``controller``'s recorded run."""

    def __init__(self, document, controller, selected, parent=None) -> None:
        super().__init__(parent)
        self.document, self.controller, self.selected = document, controller, selected
        self.node: str | None = None
        self.view: Im2colView | None = None
        self.row = 0
        lay = QtWidgets.QVBoxLayout(self)
        self.title = caption(rich=True)
        self.title.setObjectName("im2colTitle")
        controls = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run forward")
        self.run_button.clicked.connect(lambda: self.controller.run_forward())
        self.sample = QtWidgets.QSpinBox()
        self.sample.setPrefix("sample ")
        self.channel = QtWidgets.QSpinBox()
        self.channel.setPrefix("input channel ")
        self.filter = QtWidgets.QSpinBox()
        self.filter.setPrefix("filter ")
        for w in (self.run_button, self.sample, self.channel, self.filter):
            controls.addWidget(w)
        controls.addStretch(1)
        self.sample.valueChanged.connect(self.refresh)
        self.channel.valueChanged.connect(lambda *_: self._draw())
        self.filter.valueChanged.connect(lambda *_: self._draw())
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("w")
        self.canvas.setMinimumHeight(260)
        self.boxes = {}
        self.images = {}
        for col, (key, title) in enumerate((("input", "input (padded), receptive field"),
                                            ("matrix", "column matrix: one row per output pixel"),
                                            ("filter", "filter as a column"),
                                            ("output", "output = matrix · filter + b"))):
            self.canvas.addLabel(title, row=0, col=col, size="9pt", color="#333")
            vb = self.canvas.addViewBox(row=1, col=col, lockAspect=key != "matrix", invertY=True, enableMenu=False)
            vb.setMouseEnabled(False, False)
            img = pg.ImageItem(axisOrder="row-major")
            vb.addItem(img)
            self.images[key] = (img, vb)
            self.boxes[key] = _box(img, vb)
        self.canvas.ci.layout.setColumnStretchFactor(1, 3)
        self.formula = caption()
        self.formula.setObjectName("im2colFormula")
        lay.addWidget(self.title)
        lay.addLayout(controls)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.formula)
        self.canvas.scene().sigMouseMoved.connect(self._hover)
        controller.state_changed.connect(self.request_refresh)
        controller.run_changed.connect(self.request_refresh)
        self.refresh()

    # -- data ----------------------------------------------------------------------------------
    def _pick(self) -> str | None:
        g = self.document.graph
        convs = [i for i in self.selected() if g.has_node(i) and g.node(i).type == "Conv2D"]
        if convs:
            self.node = convs[0]
        if self.node is not None and not (g.has_node(self.node) and g.node(self.node).type == "Conv2D"):
            self.node = None
        return self.node

    def _forward_event(self, node: str):
        if self.controller.is_stale:
            return None
        for ev in self.controller.events[:self.controller.index + 1]:
            if ev.node == node and ev.phase == "forward":
                return ev
        return None

    def refresh(self, *_args) -> None:
        node = self._pick()
        self.view = None
        if node is None:
            self.title.setText("Select a Conv2D node, then run forward, to see how im2col turns the convolution "
                               "into one matrix product.")
            self._clear()
            return
        ev = self._forward_event(node)
        if ev is None:
            self.title.setText(f"<b>{node}</b>: run forward (F5 or the button) to see its im2col on your data.")
            self._clear()
            return
        params = self.document.graph.node(node).params
        x = np.asarray(ev.inputs[0])
        self.sample.setMaximum(max(x.shape[0] - 1, 0))
        try:
            self.view = Im2colView(x[min(self.sample.value(), x.shape[0] - 1)], ev.params["W"], ev.params.get("b"),
                                   params["stride"], params["padding"])
        except (Im2colError, KeyError) as exc:
            self.title.setText(f"<b>{node}</b>: {exc}")
            self._clear()
            return
        v = self.view
        self.channel.setMaximum(v.x.shape[0] - 1)
        self.filter.setMaximum(v.filters - 1)
        self.row = min(self.row, v.col.shape[0] - 1)
        self.title.setText(f"<b>{node}</b>: {v.x.shape[0]}×{v.x.shape[1]}×{v.x.shape[2]} input, "
                           f"{v.filters} filters {v.fh}×{v.fw}, stride {v.stride}, pad {v.pad} → column matrix "
                           f"{v.col.shape[0]}×{v.col.shape[1]} (OH·OW × C·FH·FW)")
        self._draw()

    def _clear(self) -> None:
        for img, _vb in self.images.values():
            img.clear()
        for box in self.boxes.values():
            box.setRect(QtCore.QRectF())
        self.formula.setText("")

    # -- drawing -------------------------------------------------------------------------------
    def _draw(self) -> None:
        v = self.view
        if v is None:
            return
        fn = min(self.filter.value(), v.filters - 1)
        c = min(self.channel.value(), v.x.shape[0] - 1)
        _gray(self.images["input"][0], v.padded[c])
        _gray(self.images["matrix"][0], v.col)
        _gray(self.images["filter"][0], v.filter_column(fn)[:, None])
        _gray(self.images["output"][0], v.output(fn))
        for key in ("input", "matrix", "filter", "output"):
            self.images[key][1].autoRange(padding=0.02)
        self.set_row(self.row)

    def set_row(self, row: int) -> None:
        """Highlight column-matrix row ``row`` (= output pixel row // OW, row % OW)."""
        v = self.view
        if v is None:
            return
        self.row = int(np.clip(row, 0, v.col.shape[0] - 1))
        fn = min(self.filter.value(), v.filters - 1)
        top, left, fh, fw = v.field(self.row)
        oh, ow = v.pixel_of(self.row)
        self.boxes["input"].setRect(QtCore.QRectF(left, top, fw, fh))
        self.boxes["matrix"].setRect(QtCore.QRectF(0, self.row, v.col.shape[1], 1))
        self.boxes["filter"].setRect(QtCore.QRectF(0, 0, 1, v.col.shape[1]))
        self.boxes["output"].setRect(QtCore.QRectF(ow, oh, 1, 1))
        self.formula.setText(f"row {self.row} of the matrix = the {fh}×{fw} field at (top {top}, left {left}) of "
                             f"every channel; times filter {fn}: {v.entry(self.row, fn).formula()}")

    def shown_entry(self):
        """The entry the formula line shows (for tests)."""
        return self.view.entry(self.row, min(self.filter.value(), self.view.filters - 1))

    def _hover(self, pos) -> None:
        v = self.view
        if v is None:
            return
        img, vb = self.images["output"]
        if vb.sceneBoundingRect().contains(pos):
            p = vb.mapSceneToView(pos)
            oh, ow = int(np.floor(p.y())), int(np.floor(p.x()))
            if 0 <= oh < v.oh and 0 <= ow < v.ow:
                self.set_row(v.row_of(oh, ow))
            return
        img, vb = self.images["matrix"]
        if vb.sceneBoundingRect().contains(pos):
            r = int(np.floor(vb.mapSceneToView(pos).y()))
            if 0 <= r < v.col.shape[0]:
                self.set_row(r)
