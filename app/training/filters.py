"""Filter viewer: every Conv2D node's kernels, before training and now, side by side.

Each layer is ONE ``ImageItem`` per side holding the whole tiled mosaic (built off the GUI
thread with :func:`graph.views.mosaic.tile`); 64 separate image views would take seconds to
build. First layers (one input channel) show one greyscale tile per filter; deeper layers
show one row per filter and one column per input channel.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from graph.views.mosaic import tile

MAX_TILES = 4096


def filter_mosaic(weights) -> np.ndarray:
    """One mosaic of Conv2D weights ``(FN, C, FH, FW)``, each kernel scaled to 0..1.

    ``C == 1``: a near-square grid of filters; ``C > 1``: one row per filter, one column
    per input channel (channels beyond ``MAX_TILES // FN`` are left out so a 256x256 layer
    does not become a 65,536-tile image).
    """
    w = np.asarray(weights)
    if w.ndim == 4 and w.shape[1] > 1:
        w = w[:, : max(1, MAX_TILES // max(w.shape[0], 1))]
    return tile(w, normalize=True).astype(np.float32)


def conv_weights(graph) -> dict[str, np.ndarray]:
    """``{node id: W (FN, C, FH, FW)}`` of every Conv2D node that has weights, in graph order."""
    out = {}
    for nid in graph.nodes():
        node = graph.node(nid)
        if node.type == "Conv2D" and "W" in node.weights:
            out[nid] = np.array(node.weights["W"], copy=True)
    return out


def make_image_item() -> pg.ImageItem:
    item = pg.ImageItem(axisOrder="row-major")
    item.setLookupTable(pg.colormap.get("CET-L1").getLookupTable(nPts=256))  # linear grey
    item.setLevels((0.0, 1.0))
    return item


SIDES = ("before", "now", "change")
SIDE_TITLES = ("before training", "now", "learned change (now − before)")


class _LayerRow:
    def __init__(self, layout: pg.GraphicsLayout, row: int, nid: str, shape: tuple) -> None:
        fn, c = (shape[0], shape[1]) if len(shape) == 4 else (shape[0], 1)
        desc = f"<b>{nid}</b> &nbsp; {fn} filters" + (f" × {c} input channels (one row per filter)"
                                                      if c > 1 else " (one tile per filter)")
        self.label = layout.addLabel(desc, row=row, col=0, colspan=len(SIDES))
        self.views = []
        self.items = []
        for col in range(len(SIDES)):
            vb = layout.addViewBox(row=row + 1, col=col, lockAspect=True, invertY=True, enableMenu=False)
            vb.setBackgroundColor((235, 235, 235))
            item = make_image_item()
            vb.addItem(item)
            self.views.append(vb)
            self.items.append(item)
        self.mosaics: list[np.ndarray | None] = [None] * len(SIDES)

    def set(self, side: int, mosaic: np.ndarray) -> None:
        first = self.mosaics[side] is None or self.mosaics[side].shape != mosaic.shape
        self.mosaics[side] = mosaic
        self.items[side].setImage(mosaic, autoLevels=False, levels=(0.0, 1.0))
        if first:
            self.views[side].autoRange(padding=0.02)


class FilterViewer(QtWidgets.QWidget):
    """Before / now / learned-change mosaics of every Conv2D layer (see module docs).

    With He-initialised kernels the initial noise is as large as what a few epochs add, so
    "now" can look much like "before"; the third column, each kernel's change scaled on
    its own, shows what training has written into the filters.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        self.header = QtWidgets.QLabel()
        self.header.setWordWrap(True)
        self.empty = QtWidgets.QLabel("The graph has no Conv2D nodes: there are no filters to show.")
        self.empty.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        # column titles live outside the plot layout so that their lengths cannot make the
        # three mosaic columns unequal
        self.title_bar = QtWidgets.QWidget()
        bar = QtWidgets.QHBoxLayout(self.title_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self._titles = []
        for text in SIDE_TITLES:
            label = QtWidgets.QLabel(text)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("color: #555;")
            bar.addWidget(label, 1)
            self._titles.append(label)
        lay.addWidget(self.header)
        lay.addWidget(self.empty)
        lay.addWidget(self.title_bar)
        lay.addWidget(self.glw, 1)
        self.rows: dict[str, _LayerRow] = {}
        self._set_header("")

    def _set_header(self, when: str) -> None:
        self.header.setText(("Kernels " + (f"<b>{when}</b>" if when else "of the graph's current weights")
                             + ". Each tile is one kernel, scaled from its smallest (black) to its largest "
                             "(white) value."))
        self._titles[1].setText(f"now ({when})" if when else "now")

    def set_layers(self, weights: dict[str, np.ndarray]) -> None:
        """Rebuild the rows for ``{node id: W}``: before and now show ``W``, change is blank."""
        self.glw.clear()
        self.rows = {}
        layout = self.glw.ci
        for k, (nid, w) in enumerate(weights.items()):
            row = _LayerRow(layout, 2 * k, nid, tuple(w.shape))
            mosaic = filter_mosaic(w)
            row.set(0, mosaic)
            row.set(1, mosaic)
            row.set(2, filter_mosaic(np.zeros_like(w)))
            self.rows[nid] = row
        for i in range(len(SIDES)):
            layout.layout.setColumnStretchFactor(i, 1)
        self.empty.setVisible(not weights)
        self.glw.setVisible(bool(weights))
        self.title_bar.setVisible(bool(weights))

    def show_graph(self, graph) -> None:
        """Show ``graph``'s current weights (no run yet)."""
        self.set_layers(conv_weights(graph))
        self._set_header("")

    def set_before(self, mosaics: dict[str, np.ndarray]) -> None:
        for nid, m in mosaics.items():
            if nid in self.rows:
                self.rows[nid].set(0, m)

    def set_now(self, mosaics: dict[str, np.ndarray], when: str = "", change: dict | None = None) -> None:
        """Update the "now" mosaics, and the "learned change" ones when given (built by the worker)."""
        for nid, m in mosaics.items():
            if nid in self.rows:
                self.rows[nid].set(1, m)
        for nid, m in (change or {}).items():
            if nid in self.rows:
                self.rows[nid].set(2, m)
        if when:
            self._set_header(when)

    def mosaic(self, nid: str, side: str = "now") -> np.ndarray | None:
        """The mosaic shown for ``nid``; ``side`` is "before", "now" or "change"."""
        row = self.rows.get(nid)
        return None if row is None else row.mosaics[SIDES.index(side)]
