"""Hyperparameter search: live scatter of validation accuracy over (lr, weight decay), a sorted
table of the best trials, "narrow to the best k" for the next round, and one final test."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.labs import make_lab
from graph.training.labs.search import WHY_ONCE, SearchLab, narrowed

from .panel import LabPanel, _escape
from .worker import LabRun


class SearchPanel(LabPanel):
    lab_cls = SearchLab
    form_skip = ("round", "final", "final_epochs")

    def build_plots(self, host) -> None:
        self.plot = pg.PlotWidget(background="w", title="Validation accuracy of each trial (brighter = better)")
        self.plot.setObjectName("searchScatter")
        self.plot.setLogMode(x=True, y=True)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "weight decay λ")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        for side in ("bottom", "left"):  # tick labels in plain powers of ten, no "(x0.001)" prefix
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.scatter = pg.ScatterPlotItem(size=9, pen=pg.mkPen((60, 60, 60)))
        self.plot.addItem(self.scatter)
        self.table = QtWidgets.QTableWidget(0, 5)
        self.table.setObjectName("searchTable")
        self.table.setHorizontalHeaderLabels(["val acc", "lr", "weight decay", "round", "trial"])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.k_spin = QtWidgets.QSpinBox()
        self.k_spin.setRange(1, 1000)
        self.k_spin.setValue(5)
        self.narrow_button = QtWidgets.QPushButton("Narrow to best k and search again")
        self.narrow_button.setObjectName("searchNarrow")
        self.narrow_button.clicked.connect(self.narrow)
        self.final_epochs = QtWidgets.QSpinBox()
        self.final_epochs.setRange(1, 1000)
        self.final_epochs.setValue(20)
        self.final_button = QtWidgets.QPushButton("Train selected fully and test once")
        self.final_button.setObjectName("searchFinal")
        self.final_button.clicked.connect(self.final)
        self.why = QtWidgets.QLabel(WHY_ONCE)
        self.why.setWordWrap(True)
        self.why.setStyleSheet("color: #555;")
        self.round = 1
        self.trials: list[dict] = []
        self.final_run: LabRun | None = None
        self.tested = False

        right = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(QtWidgets.QLabel("Trials, best first (select one for the final run):"))
        col.addWidget(self.table, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("k"))
        row.addWidget(self.k_spin)
        row.addWidget(self.narrow_button, 1)
        col.addLayout(row)
        row2 = QtWidgets.QHBoxLayout()
        row2.addWidget(QtWidgets.QLabel("epochs"))
        row2.addWidget(self.final_epochs)
        row2.addWidget(self.final_button, 1)
        col.addLayout(row2)
        col.addWidget(self.why)
        split = QtWidgets.QSplitter()
        split.addWidget(self.plot)
        split.addWidget(right)
        split.setSizes([600, 400])
        box = QtWidgets.QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)
        self.state_changed.connect(self._sync_search_buttons)

    def lab_settings(self):
        return replace(self.form.settings(), round=self.round)

    def reset_plots(self) -> None:
        self.trials = [t for t in self.trials if t["round"] < self.round]  # earlier rounds stay on the plot
        self.tested = False
        self._redraw()

    def on_update(self, update: dict) -> None:
        if update.get("kind") == "trial":
            self.trials.append(dict(update))
            self._redraw()

    def show_result(self, result) -> None:
        self._redraw()

    def _redraw(self) -> None:
        t = self.trials
        if not t:
            self.scatter.setData([], [])
            self.table.setRowCount(0)
            return
        acc = np.array([x["val_acc"] for x in t])
        lo, hi = float(acc.min()), float(acc.max())
        cmap = pg.colormap.get("viridis")
        brushes = [pg.mkBrush(cmap.map((a - lo) / ((hi - lo) or 1.0))) for a in acc]
        # log-mode plots want log10 coordinates for scatter points
        self.scatter.setData([math.log10(x["lr"]) for x in t], [math.log10(x["weight_decay"]) for x in t],
                             brush=brushes)
        best = sorted(t, key=lambda x: -x["val_acc"])
        self.table.setRowCount(len(best))
        for r, x in enumerate(best):
            for c, text in enumerate((f"{x['val_acc']:.3f}", f"{x['lr']:.3g}", f"{x['weight_decay']:.3g}",
                                      str(x["round"]), str(x["trial"]))):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, x)
                self.table.setItem(r, c, item)
        self._sync_search_buttons()

    def _round_trials(self) -> list[dict]:
        return [x for x in self.trials if x["round"] == self.round]

    def narrow(self) -> bool:
        """Set the ranges to those of the best k trials of this round and start the next round."""
        trials = self._round_trials()
        if self.running or not trials:
            return False
        nxt = narrowed(self.lab_settings(), trials, self.k_spin.value())
        for name in ("lr_min", "lr_max", "decay_min", "decay_max"):
            self.form.set_value(name, getattr(nxt, name))
        self.round = nxt.round
        self.status.setText(f"Round {self.round}: lr {nxt.lr_min:.3g}..{nxt.lr_max:.3g}, "
                            f"λ {nxt.decay_min:.3g}..{nxt.decay_max:.3g} (the ranges of the best {self.k_spin.value()})")
        return self.start()

    def chosen(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        row = rows[0].row() if rows else 0
        item = self.table.item(row, 0)
        return item.data(QtCore.Qt.ItemDataRole.UserRole) if item is not None else None

    def final(self) -> bool:
        """Train the chosen trial's setting on the full training split; evaluate the test set once."""
        pick = self.chosen()
        if pick is None or self.running or self.tested or (self.final_run and self.final_run.running):
            return False
        s = self.lab_settings()
        lab = make_lab("search-final", {**s.to_dict(), "lr": pick["lr"], "weight_decay": pick["weight_decay"],
                                        "final_epochs": self.final_epochs.value()})
        self.tested = True
        self.final_run = LabRun(lab, self)
        self.final_run.progress.connect(self._on_progress)
        self.final_run.finished.connect(self._final_done)
        self.final_run.failed.connect(self._on_failed)
        self.final_run.ended.connect(self._sync_search_buttons)
        self.progress.setRange(0, 0)
        self.status.setText(f"Final run: lr {pick['lr']:.3g}, λ {pick['weight_decay']:.3g} on the full training "
                            "split… " + WHY_ONCE)
        self.final_run.start()
        self._sync_search_buttons()
        return True

    def _final_done(self, result) -> None:
        f = result.data["final"]
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"<b>Test accuracy {f['test_accuracy']:.4f}</b> (validation {f['val_accuracy']:.4f}, "
                            f"lr {f['lr']:.3g}, λ {f['weight_decay']:.3g}, {f['epochs']} epochs). "
                            + _escape(WHY_ONCE))
        self.final_result = result
        if result.runs:
            self.runs_finished.emit(list(result.runs))

    def shutdown(self) -> None:
        super().shutdown()
        if self.final_run is not None and self.final_run.running:
            self.final_run.stop()
            self.final_run.wait(10000)

    def _sync_search_buttons(self) -> None:
        if not hasattr(self, "final_button"):
            return
        busy = self.running or (self.final_run is not None and self.final_run.running)
        self.narrow_button.setEnabled(not busy and bool(self._round_trials()))
        self.final_button.setEnabled(not busy and bool(self.trials) and not self.tested)
        self.final_button.setToolTip("The test set was used once already for this search." if self.tested
                                     else WHY_ONCE)
