"""The conv arithmetic calculator: O = (I − F + 2P)/S + 1 with the numbers filled in, what
is dropped when the division is not exact, and the padding for a wanted output size.

Selecting a Conv2D, MaxPool2D or AvgPool2D node fills the fields with its numbers; the
fields can then be changed freely (the graph is not edited from here).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.views.conv_arithmetic import (
    ConvArithmeticError, axis_arithmetic, coverage_map, node_arithmetic, padding_advice,
)

from layers.base import fmt_shape

from .common import LazyPanel, caption, plot_widget

# USED, PADDING, DROPPED, PADDING_DROPPED
COVERAGE_COLORS = np.array([[198, 219, 239], [235, 235, 235], [239, 138, 98], [247, 197, 180]], np.uint8)


def _spin(low: int, high: int, value: int, prefix: str) -> QtWidgets.QSpinBox:
    w = QtWidgets.QSpinBox()
    w.setRange(low, high)
    w.setValue(value)
    w.setPrefix(prefix)
    w.setKeyboardTracking(False)
    return w


class ConvArithmeticPanel(LazyPanel):
    """The calculator; :meth:`show_node` fills it from a graph node."""

    def __init__(self, document, selected, parent=None) -> None:
        super().__init__(parent)
        self.document, self.selected = document, selected
        lay = QtWidgets.QVBoxLayout(self)
        self.source = caption()
        self.source.setObjectName("convSource")
        grid = QtWidgets.QGridLayout()
        self.size_h = _spin(1, 4096, 28, "I (H) = ")
        self.size_w = _spin(1, 4096, 28, "I (W) = ")
        self.kernel = _spin(1, 512, 5, "F = ")
        self.stride = _spin(1, 512, 2, "S = ")
        self.pad = _spin(0, 512, 0, "P = ")
        self.wanted = _spin(1, 4096, 12, "wanted O = ")
        for i, w in enumerate((self.size_h, self.size_w, self.kernel, self.stride, self.pad, self.wanted)):
            grid.addWidget(w, i // 3, i % 3)
            w.valueChanged.connect(self.recompute)
        self.formula = caption()
        self.formula.setObjectName("convFormula")
        font = self.formula.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.formula.setFont(font)
        self.explanation = caption()
        self.advice = caption()
        self.advice.setObjectName("convAdvice")
        self.picture = plot_widget("the padded input: blue read by windows, grey padding, red dropped", 220)
        self.picture.setMaximumHeight(300)
        self.picture.setAspectLocked(True)
        self.picture.invertY(True)
        self.picture.setMouseEnabled(False, False)
        self.picture.hideAxis("bottom")
        self.picture.hideAxis("left")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.picture.addItem(self.image)
        self.window_box = QtWidgets.QGraphicsRectItem()
        self.window_box.setPen(pg.mkPen((33, 33, 33), width=2))
        self.picture.addItem(self.window_box)
        lay.addWidget(self.source)
        lay.addLayout(grid)
        for w in (self.formula, self.explanation, self.advice, self.picture):
            lay.addWidget(w)
        lay.addStretch(1)
        document.shapes_changed.connect(self.request_refresh)
        document.node_changed.connect(self.request_refresh)
        self.recompute()

    def refresh(self, *_args) -> None:
        self.follow_selection()

    def follow_selection(self, *_args) -> None:
        """Fill the fields from the selected Conv2D / pooling node, if one is selected."""
        g = self.document.graph
        for node in self.selected():
            if g.has_node(node) and self.show_node(node):
                return

    def show_node(self, node_id: str) -> bool:
        try:
            info = node_arithmetic(self.document.graph, node_id)
        except ConvArithmeticError as exc:
            self.source.setText(f"{node_id}: {exc}")
            return False
        if info is None:
            return False
        h, w = info.input_shape[2:]
        spins = (self.size_h, self.size_w, self.kernel, self.stride, self.pad)
        for spin, v in zip(spins, (h, w, info.kernel, info.stride, info.pad)):
            spin.blockSignals(True)
            spin.setValue(int(v))
            spin.blockSignals(False)
        self.wanted.blockSignals(True)
        self.wanted.setValue(info.axes[0].out)
        self.wanted.blockSignals(False)
        self.source.setText(f"{node_id} ({info.type}), input {fmt_shape(info.input_shape)} — the layer says:\n"
                            + "\n".join(info.lines))
        self.recompute()
        return True

    def recompute(self, *_args) -> None:
        i_h, i_w, f, s, p = (w.value() for w in (self.size_h, self.size_w, self.kernel, self.stride, self.pad))
        try:
            rows = axis_arithmetic(i_h, f, s, p, "H")
            cols = axis_arithmetic(i_w, f, s, p, "W")
        except ConvArithmeticError as exc:
            self.formula.setText(str(exc))
            self.explanation.setText("")
            self.image.clear()
            self.window_box.setRect(QtCore.QRectF())
        else:
            self.formula.setText(f"{rows.formula()}\n{cols.formula()}\noutput {rows.out}×{cols.out}")
            notes = [rows.explanation()] + ([cols.explanation()] if (i_w, cols.dropped) != (i_h, rows.dropped) else [])
            self.explanation.setText("\n".join(notes))
            self.image.setImage(COVERAGE_COLORS[coverage_map(rows, cols)], autoLevels=False)
            self.window_box.setRect(QtCore.QRectF(0, 0, f, f))
            self.picture.autoRange(padding=0.02)
        self.advice.setText(padding_advice(i_h, f, s, self.wanted.value()))
