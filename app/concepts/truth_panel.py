"""The perceptron panel: truth table (x1, x2, y), the decision line(s) over the four points,
and w1, w2, b fields whose edits go through the document's undo commands."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.views.truth_table import TruthTable, TruthTableError

from .common import CLASS_COLORS, LINE_COLORS, LazyPanel, caption, plot_widget, two_class_lut

LO, HI = -0.5, 1.5


class TruthTablePanel(LazyPanel):
    """Follows ``document``'s graph: any two-input perceptron (see :mod:`graph.views.truth_table`)."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.model: TruthTable | None = None
        lay = QtWidgets.QVBoxLayout(self)
        self.title = caption()
        self.title.setObjectName("truthTitle")
        self.table = QtWidgets.QTableWidget(4, 3)
        self.table.setHorizontalHeaderLabels(["x1", "x2", "y"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + sum(self.table.rowHeight(i) for i in range(4)) + 2 * self.table.frameWidth() + 2)
        self.table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.plot = plot_widget("decision line(s) over the four inputs", 240)
        self.plot.setAspectLocked(True)
        self.plot.setXRange(LO, HI, padding=0)
        self.plot.setYRange(LO, HI, padding=0)
        self.plot.setMouseEnabled(False, False)
        self.plot.setLabel("bottom", "x1")
        self.plot.setLabel("left", "x2")
        self.region = pg.ImageItem(axisOrder="row-major")
        self.region.setLookupTable(two_class_lut(150))
        self.region.setLevels((0.0, 1.0))
        self.plot.addItem(self.region)
        self.points = pg.ScatterPlotItem(size=16)
        self.plot.addItem(self.points)
        self.line_items: list = []
        self.fields_box = QtWidgets.QWidget()
        self.fields = QtWidgets.QGridLayout(self.fields_box)
        self.fields.setContentsMargins(0, 0, 0, 0)
        self.spins: list[tuple] = []
        self.explanation = caption()
        for w in (self.title, self.table, self.plot, self.fields_box, self.explanation):
            lay.addWidget(w)
        lay.addStretch(1)
        for sig in (document.graph_reset, document.shapes_changed, document.node_changed):
            sig.connect(self.request_refresh)
        self.refresh()

    # -- model -> view ----------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        try:
            self.model = TruthTable(self.document.graph)
            rows = self.model.rows()
        except (TruthTableError, ValueError) as exc:
            self.model = None
            self._show_unavailable(str(exc))
            return
        self.table.setEnabled(True)
        self.plot.setEnabled(True)
        gate = self.model.gate()
        out = self.document.graph.node(self.model.output)
        self.title.setText(f"{gate or 'Truth table'}: y = {out.type.lower()}(…) of node {self.model.output!r}")
        for i, r in enumerate(rows):
            for j, v in enumerate((r.x1, r.x2, r.y)):
                item = QtWidgets.QTableWidgetItem(f"{v:g}")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                if j == 2:
                    item.setBackground(pg.mkColor(*CLASS_COLORS[r.y], 90))
                self.table.setItem(i, j, item)
        self.region.setImage(self.model.region(61, LO, HI), autoLevels=False)
        # after setImage: the rect's scale is computed from the image's size
        self.region.setRect(QtCore.QRectF(LO, LO, HI - LO, HI - LO))
        self.points.setData(pos=[(r.x1, r.x2) for r in rows],
                            brush=[pg.mkBrush(*CLASS_COLORS[r.y]) for r in rows],
                            pen=[pg.mkPen("k", width=1) for _ in rows], symbol="o")
        self._show_lines()
        self.explanation.setText(self.model.explanation())

    def _show_unavailable(self, why: str) -> None:
        self.title.setText("Truth table: select a graph with two scalar inputs and a Step or Sigmoid output "
                           "(Examples → and_gate, nand_gate, or_gate, xor_two_layer)")
        self.explanation.setText(why)
        self.table.clearContents()
        self.table.setEnabled(False)
        self.region.clear()
        self.points.clear()
        for item in self.line_items:
            self.plot.removeItem(item)
        self.line_items = []
        self._set_field_rows([])

    def _show_lines(self) -> None:
        for item in self.line_items:
            self.plot.removeItem(item)
        self.line_items = []
        lines = self.model.lines()
        for k, ln in enumerate(lines):
            seg = ln.segment(LO, HI)
            if seg is None:
                continue
            color = LINE_COLORS[k % len(LINE_COLORS)]
            item = pg.PlotDataItem([seg[0][0], seg[1][0]], [seg[0][1], seg[1][1]], pen=pg.mkPen(color, width=2.5))
            self.plot.addItem(item)
            self.line_items.append(item)
        self._set_field_rows(lines)

    def _set_field_rows(self, lines) -> None:
        if len(self.spins) != len(lines):
            while self.fields.count():
                w = self.fields.takeAt(0).widget()
                if w is not None:
                    w.hide()   # deleteLater alone leaves it painted until the event loop runs
                    w.deleteLater()
            self.spins = []
            for k, _ln in enumerate(lines):
                label = QtWidgets.QLabel()
                self.fields.addWidget(label, k, 0)
                row = [label]
                for j, name in enumerate(("w1", "w2", "b")):
                    spin = QtWidgets.QDoubleSpinBox()
                    spin.setRange(-10.0, 10.0)
                    spin.setSingleStep(0.1)
                    spin.setDecimals(2)
                    spin.setPrefix(f"{name} = ")
                    spin.setKeyboardTracking(False)
                    spin.valueChanged.connect(lambda v, k=k, name=name: self.edit(k, **{name: v}))
                    self.fields.addWidget(spin, k, j + 1)
                    row.append(spin)
                self.spins.append(row)
        for k, ln in enumerate(lines):
            label, *spins = self.spins[k]
            color = LINE_COLORS[k % len(LINE_COLORS)]
            label.setText(f"<span style='color:rgb{color}'>{ln.name or f'unit {k + 1}'}</span>")
            for spin, v in zip(spins, (ln.w1, ln.w2, ln.b)):
                spin.blockSignals(True)
                spin.setValue(v)
                spin.setEnabled(ln.editable)
                spin.blockSignals(False)

    # -- view -> model (through the undo stack) ----------------------------------------------
    def edit(self, k: int, **values) -> None:
        """Set w1, w2 or b of line ``k``: one undoable parameter change per Constant."""
        if self.model is None:
            return
        lines = self.model.lines()
        if k >= len(lines):
            return
        for node, value in self.model.edit(lines[k], **values).items():
            self.document.set_params(node, value=value)

    def region_array(self) -> np.ndarray:
        """The decision region image as shown (for tests)."""
        return np.asarray(self.region.image)
