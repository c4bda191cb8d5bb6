"""Presentation mode: everything bigger for a projector (View ▸ Presentation mode, Ctrl+Shift+P).

At a scale of 1.5 or 2 the application font sizes of the stylesheet (menus, docks, forms),
the canvas zoom (its fonts, labels and lines are in scene units, so they grow with it), the
minimum on-screen size of canvas text (:mod:`app.canvas.readability`) and the fonts and
curve widths of every plot grow by that factor. Leaving the mode restores them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from .canvas import readability
from .editor_parts import EditorParts
from .style import stylesheet

SCALES = (1.5, 2.0)
SHORTCUT = "Ctrl+Shift+P"
_SIZE = re.compile(r"font-size:\s*([0-9.]+)(pt|px)")


def scaled_stylesheet(sheet: str, scale: float) -> str:
    """``sheet`` with every ``font-size`` multiplied by ``scale``."""
    return _SIZE.sub(lambda m: f"font-size: {float(m.group(1)) * scale:g}{m.group(2)}", sheet)


@dataclass
class Presentation:
    """The mode's state and actions (see the module docstring)."""

    parts: EditorParts
    toggle: QAction
    sizes: dict = field(default_factory=dict)
    scale: float = 1.0
    chosen: float = SCALES[0]

    def set_scale(self, scale: float) -> None:
        """Apply ``scale`` (1.0 leaves presentation mode)."""
        old, self.scale = self.scale, float(scale)
        readability.set_scale(self.scale)
        app = QApplication.instance()
        if app is not None:
            app.setStyleSheet(scaled_stylesheet(stylesheet(), self.scale))
        view = self.parts.view
        view.zoom_by(self.scale / old)
        self._scale_plots(self.scale / old)
        view.viewport().update()
        self.toggle.blockSignals(True)
        self.toggle.setChecked(self.scale != 1.0)
        self.toggle.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        self.set_scale(self.chosen if on else 1.0)

    def _size_chosen(self, scale: float) -> None:
        self.chosen = scale
        self.set_scale(scale)

    def _scale_plots(self, factor: float) -> None:
        """Axis fonts and curve widths of every plot in the window, by ``factor``."""
        for view in self.parts.window.findChildren(pg.GraphicsView):
            scene = view.scene()
            if scene is None:
                continue
            for item in scene.items():
                if isinstance(item, pg.AxisItem):
                    f = QFont(item.style.get("tickFont") or QFont())
                    base = f.pointSizeF() if f.pointSizeF() > 0 else 8.0
                    f.setPointSizeF(max(6.0, base * factor))
                    item.setStyle(tickFont=f)
                elif isinstance(item, pg.PlotDataItem):
                    pen = pg.mkPen(item.opts.get("pen"))
                    pen.setWidthF(max(1.0, pen.widthF() * factor))
                    item.setPen(pen)


def build_presentation(parts: EditorParts) -> Presentation:
    """Add Presentation mode (and its size) to the View menu of ``parts``."""
    window, menu = parts.window, parts.menus.view
    toggle = QAction("&Presentation mode", window)
    toggle.setCheckable(True)
    toggle.setShortcut(QKeySequence(SHORTCUT))
    toggle.setToolTip("Bigger text, labels and lines for a projector")
    state = Presentation(parts, toggle)
    toggle.toggled.connect(state._toggled)
    sizes = QMenu("Presentation &size", window)
    group = QActionGroup(window)
    for scale in SCALES:
        act = QAction(f"{scale * 100:.0f} %", window)
        act.setCheckable(True)
        act.setChecked(scale == state.chosen)
        act.triggered.connect(lambda _=False, s=scale: state._size_chosen(s))
        group.addAction(act)
        sizes.addAction(act)
        state.sizes[scale] = act
    menu.addSeparator()
    menu.addAction(toggle)
    menu.addMenu(sizes)
    return state
