"""The Training dock's data options: random crop, feature scaling and shuffle (as the CLI's
``--augment crop=P``, ``--scaling`` and ``--no-shuffle``), with a live preview grid of augmented
samples next to them. The grid is :func:`graph.views.augment_preview.augment_preview`: the
same augmentation and scaling the trainer applies, redrawn whenever an option changes."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.training.datasets import SCALINGS, DatasetError
from graph.views.augment_preview import augment_preview

from .filters import make_image_item

SCALING_TEXT = {"auto": "auto (0-1 for images, standardize for toy sets)", "unit": "0-1 (min-max)",
                "standardize": "standardize (mean 0, std 1)", "none": "none"}
PREVIEW_SAMPLES, PREVIEW_COPIES = 4, 6


class DataOptions(QtWidgets.QGroupBox):
    """Crop, scaling and shuffle fields plus the augmentation preview.

    ``augment_source()`` returns the dock's other augmentation options as a dict (shift,
    rotate, scale, flip), so the preview shows all of them together with the crop.
    """

    changed = QtCore.Signal()

    def __init__(self, augment_source=None, parent=None) -> None:
        super().__init__("Data: crop, scaling, shuffle", parent)
        self.augment_source = augment_source or dict
        self.splits = None
        form = QtWidgets.QFormLayout(self)
        self.crop = QtWidgets.QSpinBox()
        self.crop.setRange(0, 16)
        self.crop.setSuffix(" px")
        self.crop.setToolTip("Random crop: pad by P zero pixels and crop back to the original size at a random "
                             "offset (CLI: --augment crop=P)")
        self.scaling = QtWidgets.QComboBox()
        for key in SCALINGS:
            self.scaling.addItem(SCALING_TEXT[key], key)
        self.scaling.setToolTip("Feature scaling, fitted on the training split only (CLI: --scaling)")
        # the longest choice made the form wider than the dock, which then scrolled sideways
        # to each focused field; the open list still shows every choice in full
        self.scaling.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scaling.setMinimumContentsLength(14)
        self.shuffle = QtWidgets.QCheckBox("Shuffle every epoch")
        self.shuffle.setChecked(True)
        self.shuffle.setToolTip("Shuffle the training set every epoch; off: every epoch sees the samples in the "
                                "same order (CLI: --no-shuffle)")
        self.preview = pg.GraphicsLayoutWidget()
        self.preview.setBackground("w")
        self.preview.setFixedHeight(130)
        self.preview_vb = self.preview.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.preview_vb.setMouseEnabled(False, False)
        self.preview_image = make_image_item()
        self.preview_vb.addItem(self.preview_image)
        self.preview_note = QtWidgets.QLabel()
        self.preview_note.setWordWrap(True)
        self.preview_note.setStyleSheet("color: #666;")
        form.addRow("Augment: crop", self.crop)
        form.addRow("Scaling", self.scaling)
        form.addRow(self.shuffle)
        form.addRow(self.preview)
        form.addRow(self.preview_note)
        self.crop.valueChanged.connect(self._changed)
        self.scaling.currentIndexChanged.connect(self._changed)
        self.shuffle.toggled.connect(self._changed)

    def _changed(self, *_args) -> None:
        self.update_preview()
        self.changed.emit()

    def set_splits(self, splits) -> None:
        self.splits = splits
        self.update_preview()

    def augment(self) -> dict:
        """Every augmentation option: the dock's own (``augment_source``) plus the crop."""
        return {**self.augment_source(), "crop": float(self.crop.value())}

    def update_preview(self, *_args) -> None:
        """Redraw the grid: each row one training sample, original first, then augmented draws."""
        s = self.splits
        if s is None:
            return
        if s.x_train.ndim != 4:
            self.preview_image.clear()
            self.preview.hide()
            self.preview_note.setText("Augmentation applies to images; this dataset has samples of shape "
                                      f"{tuple(s.sample_shape)}.")
            return
        self.preview.show()
        try:
            mosaic = augment_preview(s.x_train, {k: v for k, v in self.augment().items() if v},
                                     PREVIEW_SAMPLES, PREVIEW_COPIES, scaling=self.scaling.currentData(),
                                     default_scaling=s.default_scaling)
        except DatasetError as exc:
            self.preview_note.setText(str(exc))
            return
        self.preview_image.setImage(1.0 - np.nan_to_num(mosaic, nan=0.0), autoLevels=False, levels=(0.0, 1.0))
        self.preview_vb.autoRange(padding=0.02)
        active = [f"{k} {v:g}" for k, v in self.augment().items() if v]
        self.preview_note.setText("left: the sample; right: what training sees "
                                  + (f"({', '.join(active)})" if active else "(no augmentation set)"))

    def values(self) -> dict:
        return {"scaling": self.scaling.currentData(), "shuffle": self.shuffle.isChecked()}
