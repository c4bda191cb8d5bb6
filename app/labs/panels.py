"""Lab panels whose plots are curves or histograms: optimizers, init, init-train, batchnorm, overfit."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.labs.batchnorm import BatchNormLab
from graph.training.labs.init import InitLab, InitTrainLab
from graph.training.labs.optimizers import BOOK_LR, OptimizersLab
from graph.training.labs.overfit import OverfitLab

from .panel import LabPanel
from .race_panel import COLORS, _pen

SMOOTH = 0.9  # exponential moving average of the live loss curves


class _LayoutPanel(LabPanel):
    """A panel whose plots live in one ``GraphicsLayoutWidget``."""

    def build_plots(self, host) -> None:
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        box = QtWidgets.QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.layout_widget)
        self.setup()

    def setup(self) -> None:
        """Make the initial plots."""


class CurvesPanel(_LayoutPanel):
    """Loss per iteration of several runs overlaid (smoothed; the raw batches faint)."""

    def setup(self) -> None:
        self.plot = self.layout_widget.addPlot(title="Loss per iteration (smoothed)")
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        self.series: dict = {}

    def reset_plots(self) -> None:
        self.plot.clear()
        self.plot.legend.clear()
        self.series = {}

    def _series(self, name: str) -> dict:
        if name not in self.series:
            color = COLORS[len(self.series) % len(COLORS)]
            self.series[name] = {"x": [], "y": [], "ema": [], "curve": self.plot.plot(name=name, pen=_pen(color, 2))}
        return self.series[name]

    def on_update(self, update: dict) -> None:
        if update.get("kind") != "point":
            return
        s = self._series(update["series"])
        y = float(update["y"])
        s["x"].append(update["x"])
        s["ema"].append(y if not s["ema"] else SMOOTH * s["ema"][-1] + (1 - SMOOTH) * y)
        if len(s["x"]) % 10 == 0:
            s["curve"].setData(s["x"], s["ema"])

    def show_result(self, result) -> None:
        self.reset_plots()
        for name, values in result.data["smoothed"].items():
            s = self._series(name)
            s["curve"].setData(np.arange(1, len(values) + 1), values)
        self.plot.setYRange(0, 2.5)


class OptimizersPanel(CurvesPanel):
    lab_cls = OptimizersLab

    def setup(self) -> None:
        super().setup()
        for name, lr in BOOK_LR.items():
            self.form.editors[f"lr_{name}"].setPlaceholderText(f"auto ({lr:g})")


class InitTrainPanel(CurvesPanel):
    lab_cls = InitTrainLab


class InitPanel(_LayoutPanel):
    """A grid of activation histograms: layers across, weight choices down (the book's figures)."""

    lab_cls = InitLab

    def setup(self) -> None:
        self.cells: dict = {}

    def reset_plots(self) -> None:
        self.layout_widget.clear()
        self.cells = {}

    def _cell(self, row: int, col: int, label: str):
        if (row, col) not in self.cells:
            plot = self.layout_widget.addPlot(row=row, col=col + 1)
            plot.setTitle(f"layer {col + 1}" if row == 0 else None, size="8pt")
            plot.hideAxis("left")
            plot.setMouseEnabled(x=False, y=False)
            if col == 0:
                text = self.layout_widget.addLabel(label, row=row, col=0, angle=-90)
                text.setMaximumWidth(24)
            self.cells[(row, col)] = plot
        return self.cells[(row, col)]

    def on_update(self, update: dict) -> None:
        if update.get("kind") != "hist":
            return
        plot = self._cell(update["row"], update["col"], update["label"])
        plot.clear()
        edges = np.asarray(update["edges"])
        counts = np.asarray(update["counts"])
        plot.plot(edges, counts, stepMode="center", fillLevel=0, brush=(31, 119, 180, 200), pen=_pen((31, 119, 180), 1))
        plot.setXRange(edges[0], edges[-1], padding=0.02)
        mid = (edges[0] + edges[-1]) / 2
        plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in (edges[0], mid, edges[-1])]])

    def show_result(self, result) -> None:
        hists = result.data["histograms"]
        peak = max((max(h["counts"][1:] or [1]) for row in hists for h in row), default=1)
        for r, row in enumerate(hists):
            for c, h in enumerate(row):
                self.on_update({"kind": "hist", "row": r, "col": c, "counts": h["counts"], "edges": h["edges"],
                                "label": result.data["rows"][r]})
                self.cells[(r, c)].setYRange(0, peak * 1.05, padding=0)


class BatchNormPanel(_LayoutPanel):
    """Small multiples: training accuracy per epoch with (blue) and without (orange) BatchNorm."""

    lab_cls = BatchNormLab
    COLS = 4

    def setup(self) -> None:
        self.cells: dict = {}
        self.layout_widget.addLabel("train accuracy per epoch — blue: with BatchNorm, orange: without", row=0,
                                    col=0, colspan=self.COLS)

    def reset_plots(self) -> None:
        self.layout_widget.clear()
        self.setup()

    def _cell(self, panel: int):
        if panel not in self.cells:
            plot = self.layout_widget.addPlot(row=1 + panel // self.COLS, col=panel % self.COLS)
            plot.setYRange(0, 1)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            self.cells[panel] = {"plot": plot, True: plot.plot(pen=_pen(COLORS[0], 2)),
                                 False: plot.plot(pen=_pen(COLORS[1], 2)), "data": {True: [], False: []}}
        return self.cells[panel]

    def on_update(self, update: dict) -> None:
        if update.get("kind") != "epoch":
            return
        cell = self._cell(update["panel"])
        data = cell["data"][update["bn"]]
        data.append(update["eval_train_acc"])
        cell[update["bn"]].setData(np.arange(1, len(data) + 1), data)

    def show_result(self, result) -> None:
        for i, c in enumerate(result.data["curves"]):
            cell = self._cell(i)
            cell["plot"].setTitle(f"w std {c['scale']:.2g}", size="8pt")
            for bn, key in ((True, "with_bn"), (False, "without_bn")):
                cell[bn].setData(np.arange(len(c[key])), c[key])


class OverfitPanel(_LayoutPanel):
    """Train (solid) vs test (dashed) accuracy per epoch, one colour per weight decay."""

    lab_cls = OverfitLab

    def setup(self) -> None:
        self.plot = self.layout_widget.addPlot(title="Accuracy per epoch: train (solid) vs test (dashed)")
        self.plot.setLabel("bottom", "epoch")
        self.plot.setYRange(0, 1.02)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, -10))
        self.series: dict = {}

    def reset_plots(self) -> None:
        self.plot.clear()
        self.plot.legend.clear()
        self.series = {}

    def _series(self, name: str) -> dict:
        if name not in self.series:
            color = COLORS[len(self.series) % len(COLORS)]
            dashed = pg.mkPen(color, width=2, style=QtCore.Qt.PenStyle.DashLine)
            dashed.setCosmetic(True)
            self.series[name] = {"train": [], "test": [], "train_curve": self.plot.plot(name=f"{name} train",
                                                                                       pen=_pen(color, 2)),
                                 "test_curve": self.plot.plot(name=f"{name} test", pen=dashed)}
        return self.series[name]

    def on_update(self, update: dict) -> None:
        if update.get("kind") != "epoch" or "test_acc" not in update:
            return
        s = self._series(update["series"])
        s["train"].append(update["eval_train_acc"])
        s["test"].append(update["test_acc"])
        x = np.arange(1, len(s["train"]) + 1)
        s["train_curve"].setData(x, s["train"])
        s["test_curve"].setData(x, s["test"])

    def show_result(self, result) -> None:
        self.reset_plots()
        for name, r in result.data["runs"].items():
            s = self._series(name)
            x = np.arange(1, len(r["train_acc"]) + 1)
            s["train"], s["test"] = list(r["train_acc"]), list(r["test_acc"])
            s["train_curve"].setData(x, s["train"])
            s["test_curve"].setData(x, s["test"])
