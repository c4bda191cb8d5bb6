"""One widget that shows any tensor the way that suits its shape.

- scalars: the number, formatted like the book (220, 2.2, 110);
- small vectors and matrices (at most :data:`TABLE_MAX` entries): a table;
- larger 1-D arrays: a line plot;
- 2-D arrays: a pyqtgraph heatmap with a colour bar;
- 3-D ``(C, H, W)`` and 4-D ``(N, C, H, W)`` arrays: a grid of channels, drawn as ONE
  ``ImageItem`` holding a tiled mosaic (:func:`graph.views.mosaic.tile`) on a shared colour
  scale, so a 30-channel feature map costs one image, not thirty;
- every tensor also gets a histogram and a line of statistics: min/max/mean/std over the
  finite entries, and a count of NaN and Inf.

A view is reused from step to step: pyqtgraph widgets are created the first time a
mode needs them and later only receive new data, which keeps stepping fast.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from graph.views.mosaic import as_tiles, grid_shape, tile
from layers.base import fmt_num, fmt_shape

TABLE_MAX = 100
MAX_TILES = 1024
HIST_BINS = 40
CMAP_NAME = "viridis"
BACKGROUND = "#ffffff"
MIN_IMAGE_H, MAX_IMAGE_H = 90, 420


@dataclass(frozen=True)
class TensorStats:
    """Summary of a tensor over its finite entries."""

    size: int
    min: float
    max: float
    mean: float
    std: float
    nan: int
    inf: int

    def text(self) -> str:
        """``min -1.2  max 3.4  mean 0.5  std 0.9  NaN 0  Inf 0``."""
        if self.size == 0:
            return "empty"
        nums = "  ".join(f"{k} {fmt_num(v) if np.isfinite(v) else '—'}" for k, v in
                         (("min", self.min), ("max", self.max), ("mean", self.mean), ("std", self.std)))
        return f"{nums}  NaN {self.nan}  Inf {self.inf}"


def tensor_stats(arr) -> TensorStats:
    """:class:`TensorStats` of ``arr`` (NaN and Inf are counted, not averaged)."""
    a = np.asarray(arr)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    flat = a.reshape(-1)
    finite = np.isfinite(flat)
    nan = int(np.isnan(flat).sum())
    inf = int(flat.size - finite.sum() - nan)
    vals = flat[finite].astype(np.float64)
    if vals.size == 0:
        return TensorStats(int(flat.size), np.nan, np.nan, np.nan, np.nan, nan, inf)
    return TensorStats(int(flat.size), float(vals.min()), float(vals.max()), float(vals.mean()),
                       float(vals.std()), nan, inf)


def choose_mode(arr) -> str:
    """``scalar`` | ``table`` | ``curve`` | ``heatmap`` | ``grid`` for an array's shape."""
    a = np.asarray(arr)
    squeezed = [d for d in a.shape if d != 1]
    if a.size <= 1:
        return "scalar"
    if a.ndim <= 2 and a.size <= TABLE_MAX:
        return "table"
    if len(squeezed) <= 1 and a.ndim <= 2:
        return "curve"
    if a.ndim == 2:
        return "heatmap"
    if a.ndim in (3, 4):
        return "grid"
    return "curve"


def grid_image(arr) -> tuple[np.ndarray, tuple[int, int]]:
    """The channel mosaic a ``grid`` view draws (at most :data:`MAX_TILES` tiles) and its
    ``(rows, cols)``."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 4 and a.shape[0] * a.shape[1] > MAX_TILES:
        a = a[: max(1, MAX_TILES // a.shape[1]), :MAX_TILES]
    elif a.ndim == 3 and a.shape[0] > MAX_TILES:
        a = a[:MAX_TILES]
    tiles, cols = as_tiles(a)
    return tile(a), grid_shape(tiles.shape[0], cols)


def _short(x) -> str:
    """A table cell: four significant digits, no float noise."""
    v = float(x)
    return fmt_num(v) if not np.isfinite(v) or v == round(v, 4) else f"{v:.4g}"


def _finite_levels(img: np.ndarray) -> tuple[float, float]:
    vals = img[np.isfinite(img)]
    if vals.size == 0:
        return 0.0, 1.0
    lo, hi = float(vals.min()), float(vals.max())
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


class _ImagePage(pg.GraphicsLayoutWidget):
    """A heatmap: one row-major ``ImageItem`` (row 0 at the top) and a colour bar."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get(CMAP_NAME),
                                   interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.data = np.zeros((1, 1))
        self._axes = True

    def show_image(self, img: np.ndarray, axes: bool = True) -> None:
        """Draw ``img`` (row 0 at the top) on a colour scale spanning its finite values."""
        self.data = img
        if axes != self._axes:
            self._axes = axes
            for name in ("left", "bottom"):
                self.plot.showAxis(name, axes)
        self._fit_height()
        lo, hi = _finite_levels(img)
        self.image.setImage(img.astype(np.float32), autoLevels=False)
        self.bar.setLevels((lo, hi))
        self.plot.setRange(xRange=(0, img.shape[1]), yRange=(0, img.shape[0]), padding=0.02)


    def _fit_height(self) -> None:
        """Keep the widget about as tall as the image's aspect ratio needs."""
        h, w = self.data.shape
        plot_w = max(self.width() - 70, 80)
        self.setFixedHeight(int(min(MAX_IMAGE_H, max(MIN_IMAGE_H, plot_w * h / max(w, 1) + 40))))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # pyqtgraph calls resizeEvent(None) while it builds the view
        if event is not None and hasattr(self, "data") and event.size().width() != event.oldSize().width():
            self._fit_height()


class HistogramWidget(QtWidgets.QWidget):
    """A light histogram (bars drawn with QPainter, the range written under them).

    Painting it costs a fraction of a millisecond, so every tensor of the inspector can
    have one while stepping quickly.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(64)
        self.counts = np.zeros(0)
        self.edges = np.zeros(0)
        self.setToolTip("Histogram of the finite entries")

    def set_values(self, arr) -> None:
        """Count the finite entries of ``arr`` into :data:`HIST_BINS` bins."""
        vals = np.asarray(arr, dtype=np.float64).reshape(-1)
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            self.counts, self.edges = np.zeros(0), np.zeros(0)
        else:
            lo, hi = float(vals.min()), float(vals.max())
            rng = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
            self.counts, self.edges = np.histogram(vals, bins=HIST_BINS, range=rng)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(BACKGROUND))
        fm = p.fontMetrics()
        text_h = fm.height()
        area = QtCore.QRectF(4, 2, self.width() - 8, self.height() - text_h - 6)
        p.setPen(QtGui.QPen(QtGui.QColor("#c9d1d9"), 1))
        p.drawLine(QtCore.QPointF(area.left(), area.bottom()), QtCore.QPointF(area.right(), area.bottom()))
        if self.counts.size:
            top = max(int(self.counts.max()), 1)
            w = area.width() / self.counts.size
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(QtGui.QColor(21, 101, 192, 150))
            for i, n in enumerate(self.counts):
                if n:
                    h = max(1.0, area.height() * n / top)
                    p.drawRect(QtCore.QRectF(area.left() + i * w, area.bottom() - h, max(w - 1, 1), h))
            p.setPen(QtGui.QColor("#57606a"))
            y = int(area.bottom()) + 3
            rect = QtCore.QRect(int(area.left()), y, int(area.width()), text_h)
            p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignLeft, fmt_num(self.edges[0]))
            p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignRight, fmt_num(self.edges[-1]))
            p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignHCenter, f"max count {top}")
        p.end()


class _TablePage(QtWidgets.QTableWidget):
    """The table page: exactly as tall as its rows (up to :attr:`MAX_HEIGHT`), plus the
    horizontal scroll bar when the columns overflow, so a single row is never hidden
    behind the scroll bar. Refitted on resize (the width decides whether it overflows)."""

    MAX_HEIGHT = 220

    def fit_height(self) -> None:
        frame = 2 * self.frameWidth()
        header = self.horizontalHeader()
        header_h = header.height() if header.isVisible() and header.height() > 0 else header.sizeHint().height()
        rows_h = self.verticalHeader().length()  # the actual row heights, summed
        vheader = self.verticalHeader()
        vheader_w = vheader.width() if vheader.isVisible() and vheader.width() > 0 else vheader.sizeHint().width()
        content_w = frame + vheader_w + header.length()
        height = frame + header_h + rows_h
        policy = self.horizontalScrollBarPolicy()
        if policy == QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOn or (
                policy == QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded and content_w > self.width()):
            height += self.horizontalScrollBar().sizeHint().height()
        height = min(height, self.MAX_HEIGHT)  # taller tables scroll vertically
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.fit_height()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.fit_height()


class TensorView(QtWidgets.QWidget):
    """Shows one tensor; call :meth:`set_tensor` again to update it in place.

    Attributes
    ----------
    mode : str
        What is shown now: ``none``, ``scalar``, ``table``, ``curve``, ``heatmap`` or ``grid``.
    grid : tuple of int
        ``(rows, cols)`` of the channel grid in ``grid`` mode.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, histogram: bool = True) -> None:
        super().__init__(parent)
        self.mode = "none"
        self.grid = (0, 0)
        self.array: np.ndarray | None = None
        self.stats: TensorStats | None = None
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.setSpacing(2)
        self.title = QtWidgets.QLabel()
        self.title.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label = QtWidgets.QLabel()
        self.stats_label.setStyleSheet("color: #57606a; font-size: 11px;")
        self.stats_label.setWordWrap(True)
        self.stack = QtWidgets.QWidget()
        self._stack_layout = QtWidgets.QVBoxLayout(self.stack)
        self._stack_layout.setContentsMargins(0, 0, 0, 0)
        self.scalar = QtWidgets.QLabel()
        self.scalar.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.scalar.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._stack_layout.addWidget(self.scalar)
        self._pages: dict[str, QtWidgets.QWidget] = {"scalar": self.scalar}
        self._want_hist = histogram
        self.hist: HistogramWidget | None = None
        lay.addWidget(self.title)
        lay.addWidget(self.stack)
        lay.addWidget(self.stats_label)

    # -- pages, created on first use ----------------------------------------------------
    def _page(self, mode: str) -> QtWidgets.QWidget:
        page = self._pages.get(mode)
        if page is not None:
            return page
        if mode == "table":
            page = _TablePage()
            page.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
            page.horizontalHeader().setDefaultSectionSize(58)
            page.verticalHeader().setDefaultSectionSize(20)
        elif mode == "curve":
            page = pg.PlotWidget(background=BACKGROUND)
            page.setMinimumHeight(120)
            page.plotItem.hideButtons()
            page.curve = page.plot(pen=pg.mkPen("#1565c0", width=1, cosmetic=True))
        else:
            page = self._pages.get("heatmap") or self._pages.get("grid") or _ImagePage()
        self._pages[mode] = page
        if self._stack_layout.indexOf(page) < 0:
            self._stack_layout.addWidget(page)
        return page

    def _histogram(self) -> HistogramWidget:
        if self.hist is None:
            self.hist = HistogramWidget()
            self.layout().insertWidget(2, self.hist)
        return self.hist

    # -- showing ------------------------------------------------------------------------
    def clear(self, text: str = "") -> None:
        """Show nothing (``text`` as the title)."""
        self.mode, self.array, self.stats, self.grid = "none", None, None, (0, 0)
        self.title.setText(text)
        self.stats_label.clear()
        self.stack.hide()
        if self.hist is not None:
            self.hist.hide()

    def set_tensor(self, name: str, arr) -> None:
        """Show ``arr`` under the heading ``name``; ``None`` shows "—"."""
        if arr is None:
            self.clear(f"<b>{name}</b>: —")
            return
        a = np.asarray(arr)
        self.array = a
        self.stats = tensor_stats(a)
        mode = choose_mode(a)
        self.mode = mode
        self.title.setText(f"<b>{name}</b>  <span style='color:#57606a'>{fmt_shape(a.shape)} {a.dtype}</span>")
        self.stats_label.setText(self.stats.text() if a.size > 1 else
                                 ("NaN/Inf!" if self.stats.nan or self.stats.inf else ""))
        page = self._page(mode)
        getattr(self, f"_show_{'image' if mode in ('heatmap', 'grid') else mode}")(page, a)
        for other in set(self._pages.values()) - {page}:
            if not other.isHidden():
                other.hide()
        if page.isHidden():
            page.show()
        if self.stack.isHidden():
            self.stack.show()
        self._show_histogram(a)

    def _show_scalar(self, page: QtWidgets.QLabel, a: np.ndarray) -> None:
        page.setText(fmt_num(a) if a.size == 1 else "—")

    def _show_table(self, page: QtWidgets.QTableWidget, a: np.ndarray) -> None:
        m = a.reshape(1, -1) if a.ndim < 2 else a
        rows, cols = m.shape
        page.setRowCount(rows)
        page.setColumnCount(cols)
        for r in range(rows):
            for c in range(cols):
                item = page.item(r, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    page.setItem(r, c, item)
                item.setText(_short(m[r, c]))
        page.fit_height()

    def _show_curve(self, page: pg.PlotWidget, a: np.ndarray) -> None:
        y = a.reshape(-1).astype(np.float64)
        page.curve.setData(np.arange(y.size), np.where(np.isfinite(y), y, np.nan))

    def _show_image(self, page: _ImagePage, a: np.ndarray) -> None:
        if self.mode == "grid":
            img, self.grid = grid_image(a)
        else:
            img, self.grid = a.astype(np.float64), (0, 0)
        page.show_image(img, axes=self.mode == "heatmap")

    def _show_histogram(self, a: np.ndarray) -> None:
        if not self._want_hist or a.size <= 1:
            if self.hist is not None:
                self.hist.hide()
            return
        hist = self._histogram()
        hist.set_values(a)
        if hist.isHidden():
            hist.show()

    def image_data(self) -> np.ndarray | None:
        """The 2-D array a heatmap or grid view draws now (``None`` in other modes)."""
        if self.mode not in ("heatmap", "grid"):
            return None
        return self._pages[self.mode].data
