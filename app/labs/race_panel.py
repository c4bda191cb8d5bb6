"""The optimizer race: contour plot with every optimizer's path, a step slider that plays the
race, gradient arrows on the contour, and a learning-rate field per optimizer."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.labs.functions import FUNCTIONS, function_graph
from graph.training.labs.race import RaceLab, start_point

from .panel import LabPanel

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194)]


def _pen(color, width=2):
    pen = pg.mkPen(color, width=width)
    pen.setCosmetic(True)
    return pen


def arrow_segments(xs, ys, gx, gy, every: int = 8, length: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """Arrows (shaft and two barbs, as pairs of points) pointing down the gradient, on a subsampled grid.

    Lengths are scaled by sqrt(|∇f|) relative to the largest (so both the steep walls and
    the flat valley floor show a direction), at most ``length`` of the plot's width.
    """
    sel = (slice(every // 2, None, every), slice(every // 2, None, every))
    X, Y = np.meshgrid(xs, ys)
    px, py, dx, dy = X[sel], Y[sel], -gx[sel], -gy[sel]
    norm = np.hypot(dx, dy)
    scale = np.sqrt(norm / (norm.max() or 1.0)) / np.where(norm > 0, norm, 1.0)
    span = length * max(xs[-1] - xs[0], ys[-1] - ys[0])
    ex, ey = px + dx * scale * span, py + dy * scale * span
    # two barbs at the tip, a third of the shaft long, 25 degrees either side of it
    bx, by = (px - ex) / 3, (py - ey) / 3
    barbs = []
    for angle in (0.44, -0.44):
        c, s = np.cos(angle), np.sin(angle)
        barbs.append((ex + c * bx - s * by, ey + s * bx + c * by))
    starts_x = [px, barbs[0][0], barbs[1][0]]
    starts_y = [py, barbs[0][1], barbs[1][1]]
    seg_x = np.stack([np.stack([a.ravel(), ex.ravel()], axis=1).ravel() for a in starts_x]).ravel()
    seg_y = np.stack([np.stack([a.ravel(), ey.ravel()], axis=1).ravel() for a in starts_y]).ravel()
    return seg_x, seg_y


class RacePanel(LabPanel):
    lab_cls = RaceLab
    open_graph = QtCore.Signal(object, str)   # a Graph to open in the editor, its name

    def build_plots(self, host) -> None:
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("racePlot")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        self.plot.addLegend(offset=(-10, 10))
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.isos: list = []
        self.arrows = pg.PlotDataItem(pen=_pen((90, 90, 90), 1), connect="pairs")
        self.plot.addItem(self.arrows)
        self.curves: dict = {}
        self.heads: dict = {}
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("raceStepSlider")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.show_step)
        self.step_label = QtWidgets.QLabel("step 0")
        self.play_button = QtWidgets.QPushButton("Play")
        self.play_button.clicked.connect(self.play)
        self.arrows_box = QtWidgets.QCheckBox("gradient arrows")
        self.arrows_box.setChecked(True)
        self.arrows_box.toggled.connect(self.arrows.setVisible)
        self.graph_button = QtWidgets.QPushButton("Open as graph")
        self.graph_button.setToolTip("Open f(x, y) in the editor: Parameter nodes x and y, arithmetic nodes, "
                                     "steppable forward and backward")
        self.graph_button.clicked.connect(self.open_as_graph)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(120)
        self.timer.timeout.connect(self._tick)
        row = QtWidgets.QHBoxLayout()
        for w in (self.play_button, self.slider, self.step_label, self.arrows_box, self.graph_button):
            row.addWidget(w, 1 if w is self.slider else 0)
        layout = QtWidgets.QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(row)
        self.form.editors["function"].currentTextChanged.connect(self._course_changed)
        self._course_changed(self.form.values()["function"])

    def _course_changed(self, name: str) -> None:
        """The lr fields show the course's default learning rates as their 'auto' text."""
        spec = FUNCTIONS.get(name)
        if spec is None:
            return
        for opt, lr in spec.lrs.items():
            self.form.editors[f"lr_{opt}"].setPlaceholderText(f"auto ({lr:g})")
        self.form.editors["start_x"].setPlaceholderText(f"auto ({spec.start[0]:g})")
        self.form.editors["start_y"].setPlaceholderText(f"auto ({spec.start[1]:g})")

    def reset_plots(self) -> None:
        self.timer.stop()
        for item in list(self.curves.values()) + list(self.heads.values()):
            self.plot.removeItem(item)
        self.plot.plotItem.legend.clear()
        self.curves, self.heads = {}, {}
        self.paths: dict = {}
        self.slider.setRange(0, 0)

    def _path_item(self, name: str):
        if name not in self.curves:
            color = COLORS[len(self.curves) % len(COLORS)]
            curve = self.plot.plot(name=name, pen=_pen(color), symbol="o", symbolSize=4, symbolBrush=color,
                                   symbolPen=None)
            head = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(color), pen=pg.mkPen("k"))
            self.plot.addItem(head)
            self.curves[name], self.heads[name] = curve, head
        return self.curves[name]

    def on_update(self, update: dict) -> None:
        if update.get("kind") == "path":
            self.paths[update["series"]] = np.asarray(update["points"], dtype=np.float64)
            self._path_item(update["series"])
            steps = max(len(p) for p in self.paths.values()) - 1
            self.slider.setRange(0, steps)
            self.slider.setValue(steps)
            self.show_step(steps)

    def show_result(self, result) -> None:
        d = result.data
        c = d["contour"]
        xs, ys = np.asarray(c["x"]), np.asarray(c["y"])
        f = np.asarray(c["f"], dtype=np.float64)
        shown = np.log10(f - f.min() + 1e-3) if d["function"]["log_levels"] else f
        self.image.setImage(shown.T, levels=(float(shown.min()), float(shown.max())))
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(alpha=False, nPts=256) // 2 + 127)
        self.image.setRect(QtCore.QRectF(xs[0], ys[0], xs[-1] - xs[0], ys[-1] - ys[0]))
        for iso in self.isos:
            self.plot.removeItem(iso)
        self.isos = []
        for level in np.linspace(float(shown.min()), float(shown.max()), 14)[1:-1]:
            iso = pg.IsocurveItem(data=shown.T, level=float(level), pen=_pen((70, 70, 70), 1))
            iso.setParentItem(self.image)
            self.isos.append(iso)
        sx, sy = arrow_segments(xs, ys, np.asarray(c["gx"]), np.asarray(c["gy"]))
        self.arrows.setData(sx, sy)
        self.arrows.setVisible(self.arrows_box.isChecked())
        self.paths = {k: np.asarray(v, dtype=np.float64) for k, v in d["paths"].items()}
        for name in self.paths:
            self._path_item(name)
        steps = max((len(p) for p in self.paths.values()), default=1) - 1
        self.slider.setRange(0, steps)
        self.slider.setValue(steps)
        self.show_step(steps)
        self.plot.setXRange(xs[0], xs[-1], padding=0)
        self.plot.setYRange(ys[0], ys[-1], padding=0)
        self.plot.setTitle(d["function"]["formula"])

    def show_step(self, step: int) -> None:
        """Draw every path up to ``step`` (the slider's position)."""
        self.step_label.setText(f"step {step}")
        for name, path in getattr(self, "paths", {}).items():
            part = path[: step + 1]
            self.curves[name].setData(part[:, 0], part[:, 1])
            self.heads[name].setData([part[-1, 0]], [part[-1, 1]])

    def play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play_button.setText("Play")
            return
        if self.slider.value() >= self.slider.maximum():
            self.slider.setValue(0)
        self.play_button.setText("Pause")
        self.timer.start()

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.timer.stop()
            self.play_button.setText("Play")
            return
        self.slider.setValue(self.slider.value() + 1)

    def open_as_graph(self) -> None:
        try:
            s = self.lab_settings()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.open_graph.emit(function_graph(s.function, start_point(s)), f"race-{s.function}")
