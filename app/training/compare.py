"""Run comparison: every finished run of the session in a list; any set overlaid.

:class:`RunList` holds :class:`graph.training.runlog.RunRecord` objects (from the Training
dock through :class:`RunRecorder`, and from every lab). :class:`RunComparison` is the
"Compare runs" tab of the Training views: a checkable list (checked = drawn) next to three
overlaid plots (loss per iteration, accuracy per epoch, learning rate per iteration) with
a legend, and PNG/CSV export. It is separate from the live Curves tab, which shows the run
in progress.
"""
from __future__ import annotations

import csv

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.runlog import RunRecord, runs_csv_rows

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
SMOOTH = 0.9


def _pen(color, width=2, dash=False):
    pen = pg.mkPen(color, width=width, style=QtCore.Qt.PenStyle.DashLine if dash else QtCore.Qt.PenStyle.SolidLine)
    pen.setCosmetic(True)
    return pen


def ema(values, factor: float = SMOOTH) -> np.ndarray:
    """Exponential moving average (the smoothed loss of the Curves tab)."""
    out = np.empty(len(values))
    acc = None
    for i, v in enumerate(values):
        acc = v if acc is None else factor * acc + (1 - factor) * v
        out[i] = acc
    return out


class RunList(QtCore.QObject):
    """The session's finished runs, oldest first."""

    added = QtCore.Signal(object)     # RunRecord
    cleared = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []

    def add(self, record: RunRecord) -> None:
        self.records.append(record)
        self.added.emit(record)

    def extend(self, records) -> None:
        for r in records:
            self.add(r)

    def clear(self) -> None:
        self.records = []
        self.cleared.emit()


class RunRecorder(QtCore.QObject):
    """Turns the Training dock's runs into records, from its public signals only."""

    def __init__(self, panel, runs: RunList) -> None:
        super().__init__(panel)
        self.panel, self.runs = panel, runs
        self.count = 0
        self.current: RunRecord | None = None
        panel.run_started.connect(self._started)
        panel.progressed.connect(self._progress)
        panel.epoch_finished.connect(self._epoch)
        panel.run_ended.connect(self._ended)

    def _started(self) -> None:
        self.count += 1
        self.current = RunRecord(label=f"training {self.count}", source="training")

    def _progress(self, p: dict) -> None:
        if self.current is not None:
            for it, loss, lr in zip(p["iterations"], p["losses"], p["lrs"]):
                self.current.add_iteration(int(it), float(loss), float(lr))

    def _epoch(self, e: dict) -> None:
        if self.current is not None:
            self.current.epochs.append({k: e.get(k) for k in ("epoch", "train_loss", "train_acc", "val_loss",
                                                               "val_acc")})

    def _ended(self, outcome: str) -> None:
        rec, self.current = self.current, None
        if rec is None or outcome == "failed" or not rec.iterations:
            return
        result = self.panel.last_result or {}
        rec.final = {k: v for k, v in result.items() if isinstance(v, (int, float, str))}
        opt = result.get("optimizer")
        if opt:
            rec.label = f"training {self.count}: {opt}"
        self.runs.add(rec)


class RunComparison(QtWidgets.QWidget):
    """Checkable run list + overlaid loss / accuracy / learning-rate plots."""

    def __init__(self, runs: RunList, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self.runs = runs
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("runList")
        self.list.itemChanged.connect(lambda _item: self.redraw())
        self.accuracy = QtWidgets.QComboBox()
        self.accuracy.addItems(["val_acc", "train_acc", "test_acc", "eval_train_acc"])
        self.accuracy.setToolTip("which accuracy per epoch to overlay (labs add test and evaluated train accuracy)")
        self.accuracy.currentTextChanged.connect(lambda _t: self.redraw())
        self.smooth = QtWidgets.QCheckBox("smooth loss")
        self.smooth.setChecked(True)
        self.smooth.toggled.connect(lambda _on: self.redraw())
        self.log_loss = QtWidgets.QCheckBox("log loss axis")
        self.log_loss.setToolTip("a diverged run's loss can dwarf the others on a linear axis")
        self.log_loss.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        buttons = QtWidgets.QHBoxLayout()
        self.all_button = QtWidgets.QPushButton("Show all")
        self.none_button = QtWidgets.QPushButton("Hide all")
        self.png_button = QtWidgets.QPushButton("PNG…")
        self.csv_button = QtWidgets.QPushButton("CSV…")
        self.all_button.clicked.connect(lambda: self.set_all(True))
        self.none_button.clicked.connect(lambda: self.set_all(False))
        self.png_button.clicked.connect(lambda: self.export_png())
        self.csv_button.clicked.connect(lambda: self.export_csv())
        for b in (self.all_button, self.none_button, self.png_button, self.csv_button):
            buttons.addWidget(b)
        left = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(QtWidgets.QLabel("Finished runs (checked = drawn):"))
        col.addWidget(self.list, 1)
        col.addWidget(self.smooth)
        col.addWidget(self.log_loss)
        col.addWidget(self.accuracy)
        col.addLayout(buttons)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        self.loss_plot = self.layout_widget.addPlot(row=0, col=0, rowspan=2, title="Loss per iteration")
        self.acc_plot = self.layout_widget.addPlot(row=0, col=1, title="Accuracy per epoch")
        self.lr_plot = self.layout_widget.addPlot(row=1, col=1, title="Learning rate")
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
        self.loss_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.loss_plot.setLabel("bottom", "iteration")
        self.acc_plot.setLabel("bottom", "epoch")
        self.lr_plot.setLabel("bottom", "iteration")
        # the list and its options scroll: in a short dock (presentation mode at 720p) their
        # stacked minimum made the whole window taller than the screen
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        split = QtWidgets.QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.layout_widget)
        split.setSizes([260, 800])
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)
        self.colors: dict[int, tuple] = {}
        runs.added.connect(self._added)
        runs.cleared.connect(self._cleared)
        for rec in runs.records:
            self._added(rec)

    def _added(self, rec: RunRecord) -> None:
        self.colors[rec.id] = COLORS[len(self.colors) % len(COLORS)]
        item = QtWidgets.QListWidgetItem(rec.title)
        item.setData(QtCore.Qt.ItemDataRole.UserRole, rec.id)
        item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(QtCore.Qt.CheckState.Checked)
        item.setForeground(pg.mkColor(self.colors[rec.id]))
        self.list.blockSignals(True)
        self.list.addItem(item)
        self.list.blockSignals(False)
        self.redraw()

    def _cleared(self) -> None:
        self.list.clear()
        self.colors = {}
        self.redraw()

    def set_all(self, shown: bool) -> None:
        state = QtCore.Qt.CheckState.Checked if shown else QtCore.Qt.CheckState.Unchecked
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(state)
        self.list.blockSignals(False)
        self.redraw()

    def set_shown(self, run_id: int, shown: bool) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == run_id:
                item.setCheckState(QtCore.Qt.CheckState.Checked if shown else QtCore.Qt.CheckState.Unchecked)

    def shown(self) -> list[RunRecord]:
        """The checked runs, in list order."""
        ids = [self.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.list.count())
               if self.list.item(i).checkState() == QtCore.Qt.CheckState.Checked]
        by_id = {r.id: r for r in self.runs.records}
        return [by_id[i] for i in ids if i in by_id]

    def redraw(self) -> None:
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.clear()
        self.loss_plot.legend.clear()
        column = self.accuracy.currentText()
        for rec in self.shown():
            color = self.colors[rec.id]
            if rec.loss:
                y = ema(rec.loss) if self.smooth.isChecked() else np.asarray(rec.loss)
                self.loss_plot.plot(rec.iterations, y, pen=_pen(color), name=rec.title)
                self.lr_plot.plot(rec.iterations, rec.lr, pen=_pen(color, 1))
            x, y = rec.epoch_series(column)
            if len(x):
                self.acc_plot.plot(x, y, pen=_pen(color), symbol="o", symbolSize=4, symbolBrush=color)

    def export_png(self, path: str | None = None) -> str | None:
        path = path or QtWidgets.QFileDialog.getSaveFileName(self, "Export comparison as PNG", "runs.png",
                                                             "PNG images (*.png)")[0]
        if not path:
            return None
        return path if self.layout_widget.grab().save(path, "PNG") else None

    def export_csv(self, path: str | None = None) -> str | None:
        """The shown runs as one long table: run, label, kind, x, column, value."""
        path = path or QtWidgets.QFileDialog.getSaveFileName(self, "Export comparison as CSV", "runs.csv",
                                                             "CSV files (*.csv)")[0]
        if not path:
            return None
        header, rows = runs_csv_rows(self.shown())
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path
