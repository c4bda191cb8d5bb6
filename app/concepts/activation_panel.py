"""The activation plot: f and f′ of the selected activation node, with the node's current
inputs marked on f after a forward pass and the local gradients on f′ after backward."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from graph.views import activation_curves as ac

from .common import LazyPanel, caption, plot_widget

CURVE = (31, 119, 180)
DERIV = (214, 39, 40)


class ActivationPanel(LazyPanel):
    """Shows the node ``selected()`` returns, using the recorded run of ``controller``
    (:class:`app.stepping.controller.StepController`)."""

    def __init__(self, document, controller, selected, parent=None) -> None:
        super().__init__(parent)
        self.document, self.controller, self.selected = document, controller, selected
        self.node: str | None = None
        lay = QtWidgets.QVBoxLayout(self)
        self.title = caption(rich=True)
        self.title.setObjectName("activationTitle")
        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run forward + backward")
        self.run_button.setToolTip("Record a run of the graph (as Run → Run backward does) to mark the values")
        self.run_button.clicked.connect(self._run)
        self.component = QtWidgets.QSpinBox()
        self.component.setPrefix("softmax output k = ")
        self.component.valueChanged.connect(self.refresh)
        row.addWidget(self.run_button)
        row.addWidget(self.component)
        row.addStretch(1)
        self.f_plot = plot_widget("f(x)", 170)
        self.d_plot = plot_widget("f′(x)", 150)
        self.f_plot.setMaximumHeight(260)
        self.d_plot.setMaximumHeight(220)
        for p in (self.f_plot, self.d_plot):
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setLabel("bottom", "x")
        self.f_curve = self.f_plot.plot(pen=pg.mkPen(CURVE, width=2))
        self.d_curve = self.d_plot.plot(pen=pg.mkPen(DERIV, width=2))
        self.f_marks = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(255, 127, 14, 200), pen=pg.mkPen("k"))
        self.d_marks = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(44, 160, 44, 200), pen=pg.mkPen("k"))
        self.f_plot.addItem(self.f_marks)
        self.d_plot.addItem(self.d_marks)
        self.summary = caption()
        lay.addWidget(self.title)
        lay.addLayout(row)
        for w in (self.f_plot, self.d_plot, self.summary):
            lay.addWidget(w)
        for sig in (controller.state_changed, controller.run_changed, document.node_changed):
            sig.connect(self.request_refresh)
        self.refresh()

    def _run(self) -> None:
        self.controller.run_backward()

    def _pick(self) -> str | None:
        g = self.document.graph
        ids = [i for i in self.selected() if g.has_node(i) and g.node(i).type in ac.SUPPORTED]
        if ids:
            self.node = ids[0]
        if self.node is not None and not (g.has_node(self.node) and g.node(self.node).type in ac.SUPPORTED):
            self.node = None
        return self.node

    def refresh(self, *_args) -> None:
        node = self._pick()
        if node is None:
            self.title.setText("Select an activation node (Step, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, "
                               "Identity) to plot its function and derivative.")
            for item in (self.f_curve, self.d_curve):
                item.setData([], [])
            self.f_marks.clear()
            self.d_marks.clear()
            self.summary.setText("")
            self.component.hide()
            return
        n = self.document.graph.node(node)
        params = {s.name: n.params[s.name] for s in n.op.param_spec if s.name in n.params}
        x, up = (None, None)
        if not self.controller.is_stale:
            x, up = ac.moment(self.controller.events, self.controller.index, node)
        soft = n.type == "Softmax"
        self.component.setVisible(soft)
        row = None
        if soft and x is not None:
            row = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])[0]
            self.component.setMaximum(len(row) - 1)
        k = min(self.component.value(), len(row) - 1) if row is not None else 0
        lo, hi = -6.0, 6.0
        if x is not None and np.size(x) and not soft:
            finite = np.asarray(x, dtype=np.float64)[np.isfinite(x)]
            if finite.size:
                lo, hi = min(lo, float(finite.min()) - 0.5), max(hi, float(finite.max()) + 0.5)
        c = ac.curves(n.type, params, lo, hi, row=row, k=k)
        self.f_curve.setData(c.x, c.y)
        self.d_curve.setData(c.x, c.dy)
        self.f_plot.setTitle(c.title, color="#333", size="10pt")
        self.d_plot.setTitle(c.derivative_title, color="#333", size="10pt")
        self.title.setText(f"<b>{node}</b> ({n.type})")
        if x is None:
            self.f_marks.clear()
            self.d_marks.clear()
            self.summary.setText("Run the graph forward (F5, or the button) to mark this node's inputs on f(x); "
                                 "run backward to mark the local gradients on f′(x).")
            return
        m = ac.marks(n.type, params, x, up, k=k)
        self.f_marks.setData(m.x, m.y)
        if m.grad is not None:
            self.d_marks.setData(m.x, m.local)
        else:
            self.d_marks.clear()
        tail = "" if m.grad is not None else " Run backward to mark the local gradients on f′(x)."
        self.summary.setText(ac.summary(m) + "." + tail)
