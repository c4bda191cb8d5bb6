"""The training settings form: dataset, optimizer, schedule, regularisation, run options.

:meth:`TrainingSettings.values` returns a plain dict (see :class:`app.training.worker.RunConfig`);
nothing here starts a run. The dataset preview (a sample mosaic, or a scatter plot for 2-D
toy sets) and the learning-rate curve update as the fields change.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.run.backend import cupy_status
from graph.training.datasets import TOY_NAMES, DatasetError, load_dataset
from graph.views.mosaic import as_images, tile
from graph.training.events import MONITORS
from graph.training.optim import DECAY_HYPER, OPTIMIZERS
from graph.training.schedules import ScheduleError, make_schedule

from .curves import cosmetic_pen
from .data_options import DataOptions
from .fields import LR_MAX, LR_MIN, CheckedDoubleSpinBox, CheckedSpinBox, LrSpinBox, spin_field
from .filters import make_image_item

OPEN_NPZ = "Open .npz…"
OPEN_FOLDER = "Open image folder…"
OPEN_CUSTOM = (OPEN_NPZ, OPEN_FOLDER)   # the combo entries that open a file dialog
BUILTIN_DATASETS = ("mnist-10k",) + tuple(TOY_NAMES)
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov (NAG)", "adagrad": "AdaGrad",
                    "rmsprop": "RMSprop", "adadelta": "Adadelta", "adam": "Adam"}
# schedule -> [(option, label, default, minimum, maximum, decimals)]
SCHEDULE_OPTIONS = {
    "constant": [],
    "steps": [("step_epochs", "drop every (epochs)", 3, 1, 1000, 0), ("gamma", "factor", 0.1, 0.001, 1.0, 3)],
    "exponential": [("gamma", "factor per epoch", 0.9, 0.01, 1.0, 3)],
    "power": [("power", "power", 1.0, 0.0, 10.0, 2)],
    "plateau": [("factor", "factor", 0.5, 0.01, 0.99, 2), ("patience", "patience (epochs)", 2, 1, 100, 0)],
    "onecycle": [("max_lr", "max lr", 0.01, LR_MIN, LR_MAX, 6)],
}
PREVIEW_COUNT = 40


def schedule_spec(name: str, options: dict, iterations_per_epoch: int) -> dict | None:
    """The ``make_schedule`` dict for the form's values (``None`` for constant)."""
    if name == "constant":
        return None
    spec = {"name": name}
    if name == "steps":
        every = int(options["step_epochs"]) * max(iterations_per_epoch, 1)
        spec.update(boundaries=[every * k for k in range(1, 50)], gamma=options["gamma"])
    else:
        spec.update(options)
    return spec


class TrainingSettings(QtWidgets.QWidget):
    """Every option of a run, as a form (see module docs)."""

    dataset_changed = QtCore.Signal(object)      # DataSplits
    message = QtCore.Signal(str, str)            # text, level

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.splits = None
        self.image_shape: tuple | None = None   # the graph's Input shape: how flat samples look
        self._cache: dict[str, object] = {}
        self._custom_paths: list[str] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._dataset_group())
        lay.addWidget(self._optim_group())
        lay.addWidget(self._schedule_group())
        lay.addWidget(self._regular_group())
        self.data_options = DataOptions(self._augment_values)
        for field in (self.aug_shift, self.aug_rotate, self.aug_scale, self.aug_flip):
            field.valueChanged.connect(self.data_options.update_preview)
        lay.addWidget(self.data_options)
        lay.addWidget(self._run_group())
        lay.addStretch(1)
        self.refusal = QtWidgets.QLabel()
        self.refusal.setObjectName("settings_refusal")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet("color: #c62828;")
        self.refusal.hide()
        lay.insertWidget(1, self.refusal)
        self._watch_form_fields()
        self._optimizer_changed()
        self._schedule_changed()

    # -- groups ----------------------------------------------------------------------
    def _dataset_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Dataset")
        form = QtWidgets.QVBoxLayout(box)
        self.dataset = QtWidgets.QComboBox()
        self.dataset.addItems(list(BUILTIN_DATASETS))
        self.dataset.insertSeparator(self.dataset.count())
        self.dataset.addItem(OPEN_NPZ)
        self.dataset.setItemData(self.dataset.count() - 1, "A NumPy archive with arrays x and y",
                                 QtCore.Qt.ItemDataRole.ToolTipRole)
        self.dataset.addItem(OPEN_FOLDER)
        self.dataset.setItemData(self.dataset.count() - 1, "A folder with one subfolder of images per class",
                                 QtCore.Qt.ItemDataRole.ToolTipRole)
        self.dataset.setToolTip("mnist-10k: the 10,000 MNIST test images shipped with the app, "
                                "split 8000 / 1000 / 1000. Toy sets are 2-D points as in TensorFlow Playground.")
        self.dataset.activated.connect(self._dataset_activated)
        self.split_label = QtWidgets.QLabel()
        self.split_label.setWordWrap(True)
        self.preview = pg.GraphicsLayoutWidget()
        self.preview.setBackground("w")
        self.preview.setFixedHeight(120)
        self.preview_vb = self.preview.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.preview_vb.setMouseEnabled(False, False)
        self.preview_image = make_image_item()
        self.preview_scatter = pg.ScatterPlotItem(size=3, pen=None)
        self.preview_vb.addItem(self.preview_image)
        self.preview_vb.addItem(self.preview_scatter)
        form.addWidget(self.dataset)
        form.addWidget(self.preview)
        form.addWidget(self.split_label)
        return box

    def _optim_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Optimization")
        form = QtWidgets.QFormLayout(box)
        self.batch_size = spin_field(100, 1, 100000)
        self.epochs = spin_field(10, 1, 100000)
        self.optimizer = QtWidgets.QComboBox()
        for key in OPTIMIZERS:
            self.optimizer.addItem(OPTIMIZER_LABELS.get(key, key), key)
        self.optimizer.setCurrentIndex(self.optimizer.findData("adam"))
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.lr = LrSpinBox(0.001)
        self.lr.valueChanged.connect(self._schedule_changed)
        self.lr.valueChanged.connect(lambda *_: self.lr_note.hide())
        self.lr_note = QtWidgets.QLabel()
        self.lr_note.setWordWrap(True)
        self.lr_note.setStyleSheet("color: #c62828;")
        self.lr_note.hide()
        self.lr.refused.connect(self._lr_refused)
        # the refusal goes once the field is being fixed (even back to the same value)
        self.lr.lineEdit().textEdited.connect(lambda *_: self.lr_note.hide())
        self.hyper_box = QtWidgets.QWidget()
        self.hyper_form = QtWidgets.QFormLayout(self.hyper_box)
        self.hyper_form.setContentsMargins(12, 0, 0, 0)
        self.hyper_fields: dict[str, QtWidgets.QDoubleSpinBox] = {}
        self.weight_decay = spin_field(0.0, 0.0, 10.0, 6, 1e-4)
        self.weight_decay.setToolTip("L2 penalty λ: adds λ·W to the gradient of every weight W (not biases)")
        self.batch_size.valueChanged.connect(self._schedule_changed)
        self.epochs.valueChanged.connect(self._schedule_changed)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.lr)
        form.addRow(self.lr_note)
        form.addRow(self.hyper_box)
        form.addRow("Weight decay", self.weight_decay)
        return box

    def _schedule_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Learning-rate schedule")
        form = QtWidgets.QFormLayout(box)
        self.schedule = QtWidgets.QComboBox()
        self.schedule.addItems(list(SCHEDULE_OPTIONS))
        self.schedule.currentIndexChanged.connect(self._schedule_changed)
        self.schedule_box = QtWidgets.QWidget()
        self.schedule_form = QtWidgets.QFormLayout(self.schedule_box)
        self.schedule_form.setContentsMargins(12, 0, 0, 0)
        self.schedule_fields: dict[str, QtWidgets.QAbstractSpinBox] = {}
        self.schedule_plot = pg.PlotWidget(background="w")
        self.schedule_plot.setFixedHeight(90)
        self.schedule_plot.setMouseEnabled(False, False)
        self.schedule_plot.hideButtons()
        self.schedule_plot.setLabel("bottom", "iteration")
        self.schedule_curve = self.schedule_plot.plot(pen=cosmetic_pen((148, 103, 189), 2))
        self.schedule_note = QtWidgets.QLabel()
        self.schedule_note.setWordWrap(True)
        form.addRow("Schedule", self.schedule)
        form.addRow(self.schedule_box)
        form.addRow(self.schedule_plot)
        form.addRow(self.schedule_note)
        return box

    def _regular_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Regularization")
        form = QtWidgets.QFormLayout(box)
        self.dropout = spin_field(0.0, 0.0, 0.95, 2, 0.05)
        self.dropout.setSpecialValueText("as in the graph")
        self.dropout.setToolTip("Override the ratio of every Dropout node for this run "
                                "(0 keeps the graph's own ratios)")
        self.aug_shift = spin_field(0, 0, 10)
        self.aug_shift.setSuffix(" px")
        self.aug_rotate = spin_field(0.0, 0.0, 45.0, 1, 1.0)
        self.aug_rotate.setSuffix("°")
        self.aug_scale = spin_field(0.0, 0.0, 0.5, 2, 0.05)
        self.aug_flip = spin_field(0.0, 0.0, 1.0, 2, 0.1)
        self.aug_flip.setToolTip("Probability of a horizontal flip (wrong for digits, right for most photos)")
        self.early = QtWidgets.QCheckBox("Early stopping")
        self.patience = spin_field(3, 1, 1000)
        self.patience.setSuffix(" epochs")
        self.patience.setEnabled(False)
        self.early.toggled.connect(self.patience.setEnabled)
        self.early.setToolTip("Stop when the validation loss has not improved for this many epochs; "
                              "the best weights are kept")
        form.addRow("Dropout ratio", self.dropout)
        form.addRow("Augment: shift", self.aug_shift)
        form.addRow("Augment: rotate", self.aug_rotate)
        form.addRow("Augment: zoom ±", self.aug_scale)
        form.addRow("Augment: flip p", self.aug_flip)
        form.addRow(self.early)
        form.addRow("Patience", self.patience)
        self.keep_final = QtWidgets.QCheckBox("Keep final weights")
        self.keep_final.setToolTip("Keep the weights of the last epoch instead of restoring the best epoch's "
                                   "(needed to see overfitting)")
        self.train_size = spin_field(0, 0, 10_000_000)
        self.train_size.setSpecialValueText("all")
        self.train_size.setToolTip("Train on the first N samples of the training split only (300 overfits)")
        form.addRow(self.keep_final)
        form.addRow("Training samples", self.train_size)
        self.clip_norm = spin_field(0.0, 0.0, 1000.0, 2, 0.5)
        self.clip_norm.setSpecialValueText("off")
        self.clip_norm.setToolTip("Scale the gradients down when their global norm exceeds this (CLI: --clip-norm)")
        self.monitor = QtWidgets.QComboBox()
        self.monitor.addItems(list(MONITORS))
        self.monitor.setToolTip("What picks the best epoch and early stopping (CLI: --monitor)")
        form.addRow("Clip gradient norm", self.clip_norm)
        form.addRow("Monitor", self.monitor)
        return box

    def _run_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Run")
        form = QtWidgets.QFormLayout(box)
        self.seed = spin_field(0, 0, 2**31 - 1)
        self.backend = QtWidgets.QComboBox()
        self.backend.addItem("NumPy (CPU)", "numpy")
        self.backend.addItem("CuPy (GPU)", "cupy")
        ok, reason = cupy_status()
        self.backend_note = QtWidgets.QLabel("" if ok else f"CuPy unavailable: {reason}")
        self.backend_note.setWordWrap(True)
        self.backend_note.setStyleSheet("color: #777;")
        if not ok:
            item = self.backend.model().item(1)
            item.setEnabled(False)
            item.setToolTip(reason)
            self.backend.setItemText(1, "CuPy (GPU) — unavailable")
        else:
            self.backend_note.setText(reason)
        self.dtype = QtWidgets.QComboBox()
        self.dtype.addItems(["float32", "float64"])
        form.addRow("Seed", self.seed)
        form.addRow("Backend", self.backend)
        form.addRow(self.backend_note)
        form.addRow("Precision", self.dtype)
        return box

    # -- behaviour -------------------------------------------------------------------
    def _optimizer_changed(self, *_args) -> None:
        cls = OPTIMIZERS[self.optimizer.currentData()]
        while self.hyper_form.rowCount():
            self.hyper_form.removeRow(0)
        self.hyper_fields = {}
        for name, default in cls.defaults.items():
            decimals = 10 if default < 1e-3 else 4
            low = 10.0 ** -decimals if name == "eps" else 0.0
            high = 1.0 - 10.0 ** -decimals if name in DECAY_HYPER else 1.0   # a decay of 1 never decays
            field = spin_field(float(default), low, high, decimals, 0.01)
            if name == "eps":
                field.setSingleStep(1e-8)
            self.hyper_form.addRow(name, field)
            self.hyper_fields[name] = field
            self._watch(field, name, " (must stay below 1)" if name in DECAY_HYPER else "")
        self.hyper_box.setVisible(bool(cls.defaults))
        # fields made now come last in the Tab chain; put them after the learning rate
        chain = [self.lr, *self.hyper_fields.values(), getattr(self, "weight_decay", None)]
        for a, b in zip(chain, chain[1:]):
            if b is not None:
                QtWidgets.QWidget.setTabOrder(a, b)
        self.lr.blockSignals(True)
        changed = not math.isclose(self.lr.value(), cls.default_lr)
        self.lr.setValue(cls.default_lr)
        self.lr.blockSignals(False)
        if changed:   # say so: a silently different learning rate surprises
            self.lr_note.setStyleSheet("color: #555;")
            self.lr_note.setText(f"Learning rate reset to {cls.default_lr:g}, "
                                 f"{self.optimizer.currentText()}'s usual starting value.")
            self.lr_note.show()
        self._schedule_changed()

    def _lr_refused(self, why: str) -> None:
        self.lr_note.setStyleSheet("color: #c62828;")
        self.lr_note.setText(why)
        self.lr_note.show()
        self.message.emit(why, "warning")

    def _watch(self, field, what: str, high_note: str = "") -> None:
        """State ``field``'s range in its tooltip and show why it refuses a value."""
        if isinstance(field, (CheckedSpinBox, CheckedDoubleSpinBox)):
            field.describe(what, high_note)
            field.refused.connect(self._refused)
            field.valueChanged.connect(lambda *_: self.refusal.hide())
            field.lineEdit().textEdited.connect(lambda *_: self.refusal.hide())

    def _watch_form_fields(self) -> None:
        """Name every checked field of the form after its row label."""
        for form in self.findChildren(QtWidgets.QFormLayout):
            for row in range(form.rowCount()):
                label = form.itemAt(row, QtWidgets.QFormLayout.ItemRole.LabelRole)
                field = form.itemAt(row, QtWidgets.QFormLayout.ItemRole.FieldRole)
                if label is not None and field is not None and isinstance(label.widget(), QtWidgets.QLabel):
                    self._watch(field.widget(), label.widget().text().lower())

    def _refused(self, why: str) -> None:
        text = why[0].upper() + why[1:] + "."
        self.refusal.setText(text)
        self.refusal.show()
        field = self.sender()
        if isinstance(field, QtWidgets.QWidget) and field.isVisible():
            QtWidgets.QToolTip.showText(field.mapToGlobal(field.rect().bottomLeft()), text, field)
        self.message.emit(why, "warning")

    def _schedule_changed(self, *_args) -> None:
        name = self.schedule.currentText()
        wanted = [o[0] for o in SCHEDULE_OPTIONS[name]]
        if list(self.schedule_fields) != wanted:
            while self.schedule_form.rowCount():
                self.schedule_form.removeRow(0)
            self.schedule_fields = {}
            for key, label, default, low, high, dec in SCHEDULE_OPTIONS[name]:
                if key == "max_lr":
                    field = LrSpinBox(default, what="max lr")
                    field.refused.connect(self._lr_refused)
                else:
                    field = spin_field(default, low, high, dec)
                    self._watch(field, label)
                field.valueChanged.connect(self._schedule_changed)
                self.schedule_form.addRow(label, field)
                self.schedule_fields[key] = field
            self.schedule_box.setVisible(bool(self.schedule_fields))
        self.update_schedule_preview()

    def iterations_per_epoch(self) -> int:
        n = len(self.splits.y_train) if self.splits is not None else 8000
        return max(1, -(-n // max(self.batch_size.value(), 1)))

    def update_schedule_preview(self) -> None:
        per_epoch = self.iterations_per_epoch()
        total = per_epoch * self.epochs.value()
        try:
            sched = make_schedule(self.schedule_spec(), lr=self.lr.value(), steps_per_epoch=per_epoch,
                                  total_iterations=total)
            curve = sched.curve(min(total, 20000))
        except (ScheduleError, ValueError) as exc:
            self.schedule_note.setText(f"Invalid schedule: {exc}")
            self.schedule_curve.setData([], [])
            return
        self.schedule_curve.setData(np.arange(len(curve)), curve)
        # a flat schedule would sit at 0 on an axis pyqtgraph centres on it: show 0 .. 1.5 lr
        top = float(np.max(curve)) if len(curve) else 0.0
        self.schedule_plot.setYRange(0.0, top * 1.5 if top > 0 else 1.0, padding=0)
        extra = " (plateau lowers it only when the validation loss stalls)" if self.schedule.currentText() == "plateau" else ""
        self.schedule_note.setText(f"{total} iterations ({per_epoch} per epoch), lr {curve[0]:.3g} → "
                                   f"{curve[-1]:.3g}{extra}")

    def schedule_spec(self) -> dict | None:
        options = {k: (f.value()) for k, f in self.schedule_fields.items()}
        return schedule_spec(self.schedule.currentText(), options, self.iterations_per_epoch())

    # -- dataset ---------------------------------------------------------------------
    def _dataset_activated(self, index: int) -> None:
        text = self.dataset.itemText(index)
        if text in OPEN_CUSTOM:
            self.ask_custom_dataset("folder" if text == OPEN_FOLDER else "npz")
            return
        self.load(self.dataset.itemData(index) or text)

    def custom_dataset_dialog(self, kind: str = "npz") -> QtWidgets.QFileDialog:
        """The file dialog for ``kind`` ``"npz"`` (an existing .npz file) or ``"folder"``
        (a directory with one subfolder of images per class)."""
        if kind == "folder":
            dialog = QtWidgets.QFileDialog(self, "Open an image folder (one subfolder of images per class)")
            dialog.setFileMode(QtWidgets.QFileDialog.FileMode.Directory)
            dialog.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog = QtWidgets.QFileDialog(self, "Open a dataset: an .npz with arrays x and y")
            dialog.setFileMode(QtWidgets.QFileDialog.FileMode.ExistingFile)
            dialog.setNameFilter("NumPy archive (*.npz)")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptOpen)
        return dialog

    def ask_custom_dataset(self, kind: str = "npz") -> None:
        """Ask for an .npz file (``kind="npz"``) or an image folder (``"folder"``) and load it."""
        dialog = self.custom_dataset_dialog(kind)
        path = dialog.selectedFiles()[0] if dialog.exec() and dialog.selectedFiles() else ""
        if path:
            self.load(path)
        elif self.splits is not None:
            self._select_combo(self.splits.name)

    def _select_combo(self, spec: str) -> None:
        i = self.dataset.findData(spec)
        if i < 0:
            i = self.dataset.findText(spec)
        if i >= 0:
            self.dataset.setCurrentIndex(i)

    def load(self, spec: str) -> bool:
        """Load ``spec`` (a built-in name or a path); the preview and sizes follow."""
        spec = str(spec)
        try:
            splits = self._cache.get(spec) or load_dataset(spec)
        except (DatasetError, OSError) as exc:
            self.split_label.setText(f"<span style='color:#c62828'>Cannot load {spec}: {exc}</span>")
            self.message.emit(f"cannot load dataset {spec}: {exc}", "error")
            if self.splits is not None:
                self._select_combo(self.splits.name)
            return False
        self._cache[spec] = splits
        if self.dataset.findData(spec) < 0 and spec not in BUILTIN_DATASETS:
            label = spec if len(spec) < 40 else "…" + spec[-38:]
            self.dataset.insertItem(self.dataset.count() - 1 - len(OPEN_CUSTOM), label, spec)
        self._select_combo(spec)
        self.splits = splits
        self._show_preview(splits)
        self.split_label.setText(f"{len(splits.y_train)} train / {len(splits.y_val)} validation / "
                                 f"{len(splits.y_test)} test · {splits.num_classes} classes · "
                                 f"samples {tuple(splits.sample_shape)} {splits.x_train.dtype}")
        self.split_label.setToolTip(splits.source)
        self.update_schedule_preview()
        self.data_options.set_splits(splits)
        self.dataset_changed.emit(splits)
        return True

    def _show_preview(self, splits) -> None:
        x = splits.x_train
        imgs = as_images(x[:PREVIEW_COUNT], self.image_shape)
        if imgs is not None:
            mosaic = tile(imgs.astype(np.float64), normalize=False, ncols=20)
            hi = float(np.nanmax(mosaic)) or 1.0
            self.preview_image.setImage(1.0 - mosaic / hi, autoLevels=False, levels=(0.0, 1.0))
            self.preview_image.show()
            self.preview_scatter.clear()
            self.preview_vb.setAspectLocked(True)
            self.preview_vb.invertY(True)
        else:
            self.preview_image.hide()
            pts = np.asarray(x[:, :2], dtype=np.float64)
            colors = [pg.mkBrush((31, 119, 180)) if int(c) == 0 else pg.mkBrush((255, 127, 14))
                      for c in splits.y_train]
            self.preview_scatter.setData(pos=pts, brush=colors)
            self.preview_vb.invertY(False)
        self.preview_vb.autoRange(padding=0.02)

    def _augment_values(self) -> dict:
        """The augmentation fields of the Regularization group (the crop lives in ``data_options``)."""
        return {"shift": float(self.aug_shift.value()), "rotate": self.aug_rotate.value(),
                "scale": self.aug_scale.value(), "flip": self.aug_flip.value()}

    def set_dropout_available(self, available: bool) -> None:
        """The dropout override only acts on Dropout nodes; say so when the graph has none."""
        self.dropout.setEnabled(available)
        self.dropout.setToolTip("Override the ratio of every Dropout node for this run "
                                "(0 keeps the graph's own ratios)" if available else
                                "The graph has no Dropout node: add one (Layers → Dropout) to use dropout")

    # -- result ------------------------------------------------------------------------
    def values(self) -> dict:
        """Every option as plain Python values (the run's configuration)."""
        return {
            "dataset": self.splits.name if self.splits is not None else self.dataset.currentText(),
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "optimizer": self.optimizer.currentData(),
            "lr": self.lr.value(),
            "optimizer_options": {k: f.value() for k, f in self.hyper_fields.items()},
            "weight_decay": self.weight_decay.value(),
            "schedule": self.schedule_spec(),
            "dropout": self.dropout.value() or None,
            "augment": self.data_options.augment(),
            **self.data_options.values(),
            "early_stopping": self.patience.value() if self.early.isChecked() else 0,
            "seed": self.seed.value(),
            "restore_best": not self.keep_final.isChecked(),
            "train_size": self.train_size.value() or None,
            "clip_norm": self.clip_norm.value() or None,
            "monitor": self.monitor.currentText(),
            "backend": self.backend.currentData(),
            "dtype": self.dtype.currentText(),
        }
