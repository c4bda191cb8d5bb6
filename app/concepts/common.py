"""Small helpers shared by the concept panels (colours, a caption label, plot set-up)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

# class 0 blue, class 1 orange, as in TensorFlow Playground and the training preview
CLASS_COLORS = ((31, 119, 180), (255, 127, 14))
LINE_COLORS = ((214, 39, 40), (44, 160, 44), (148, 103, 189), (140, 86, 75))


def caption(text: str = "", rich: bool = False) -> QtWidgets.QLabel:
    """A word-wrapped, selectable label."""
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(QtCore.Qt.TextFormat.RichText if rich else QtCore.Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def plot_widget(title: str = "", height: int | None = None) -> pg.PlotWidget:
    """A white plot without the mouse menu and the auto-range button."""
    w = pg.PlotWidget(background="w")
    w.setMenuEnabled(False)
    w.hideButtons()
    if title:
        w.setTitle(title, color="#333", size="10pt")
    if height:
        w.setMinimumHeight(height)
    return w


def two_class_lut(alpha: int = 255):
    """A blue - white - orange lookup table for class-1 probabilities 0..1."""
    t = np.linspace(0.0, 1.0, 256)[:, None]
    blue, white, orange = (np.array(c, float) for c in ((110, 160, 210), (250, 250, 250), (250, 170, 100)))
    lut = np.where(t < 0.5, blue + (white - blue) * (t / 0.5), white + (orange - white) * ((t - 0.5) / 0.5))
    return np.concatenate([lut, np.full((256, 1), alpha)], axis=1).astype(np.uint8)


class LazyPanel(QtWidgets.QWidget):
    """A panel that redraws only while it is visible: signals call :meth:`request_refresh`,
    and a hidden panel (closed dock, other tab) catches up when it is shown, so the concept
    panels cost nothing while the user trains or edits with them closed."""

    _stale = False

    def refresh(self, *_args) -> None:  # overridden by each panel
        raise NotImplementedError

    def request_refresh(self, *_args) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()
