"""Live training curves: loss per iteration (raw and smoothed) and per epoch, accuracy per
epoch, learning rate per iteration. Hovering shows the values under the mouse; the plots
export as one PNG and the numbers as one CSV.

All plots draw with cosmetic 1-px pens: a 10-epoch MNIST run has 800 iteration points per
curve, and thick non-cosmetic pens are what makes long pyqtgraph curves slow.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

SMOOTHING = 0.9  # exponential moving average factor of the smoothed loss


def cosmetic_pen(color, width: int = 1, style=QtCore.Qt.PenStyle.SolidLine):
    pen = pg.mkPen(color, width=width, style=style)
    pen.setCosmetic(True)
    return pen


class _Series:
    """A growable float column (amortised O(1) append, views for plotting)."""

    def __init__(self) -> None:
        self._buf = np.empty(256, dtype=np.float64)
        self._n = 0

    def append(self, value: float) -> None:
        if self._n == len(self._buf):
            self._buf = np.concatenate([self._buf, np.empty_like(self._buf)])
        self._buf[self._n] = value
        self._n += 1

    def extend(self, values) -> None:
        for v in values:
            self.append(v)

    @property
    def data(self) -> np.ndarray:
        return self._buf[: self._n]

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._n = 0


def _nearest(xs: np.ndarray, x: float) -> int | None:
    if len(xs) == 0:
        return None
    i = int(np.searchsorted(xs, x))
    if i >= len(xs):
        return len(xs) - 1
    if i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
        return i - 1
    return i


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.4g}"


def _swatch(rgb: tuple, glyph: str, text: str) -> str:
    return f'<span style="color: rgb{rgb}">{glyph}</span>&nbsp;{text}'


#: The legends as one line, for plots too short to hold them (colours as the curves').
KEY_HTML = ("<small>Loss: " + " &nbsp; ".join((
    _swatch((170, 170, 170), "—", "batch"), _swatch((31, 119, 180), "<b>—</b>", "smoothed"),
    _swatch((214, 39, 40), "●", "train, epoch"), _swatch((44, 160, 44), "■", "validation, epoch")))
    + " &nbsp;·&nbsp; Accuracy: " + " &nbsp; ".join((
        _swatch((214, 39, 40), "●", "train"), _swatch((44, 160, 44), "■", "validation"))) + "</small>")


class TrainingCurves(QtWidgets.QWidget):
    """Three stacked plots sharing nothing but the run they show.

    Feed it with :meth:`add_iterations` (arrays of iteration, loss, lr) and
    :meth:`add_epoch`; :meth:`reset` starts a new run (``continue_from`` keeps the old
    points so "Continue training" draws on).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.it = _Series()
        self.loss = _Series()
        self.smooth = _Series()
        self.lr = _Series()
        self.ep = _Series()
        self.ep_it = _Series()
        self.ep_train_loss = _Series()
        self.ep_val_loss = _Series()
        self.ep_train_acc = _Series()
        self.ep_val_acc = _Series()
        self._ema = None
        self._ema_n = 0
        self._iter_offset = 0
        self._epoch_offset = 0
        self._fixed = False
        self._y_tops: dict = {}
        self._ep_drawn = -1

        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        # loss large on the left; accuracy and learning rate stacked on the right, which
        # suits the wide, short bottom dock
        self.loss_plot = self.layout_widget.addPlot(row=0, col=0, rowspan=2, title="Loss")
        self.acc_plot = self.layout_widget.addPlot(row=0, col=1, title="Accuracy per epoch")
        self.lr_plot = self.layout_widget.addPlot(row=1, col=1, title="Learning rate")
        self._in_row = False
        self._arrange(in_row=False)
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
        # two columns of short names: in a 720p window's short plots a one-column legend
        # reached the bottom and covered the epoch markers. Loss curves fall, so the loss
        # legend sits top right; accuracies rise, so theirs sits bottom right.
        self.loss_plot.addLegend(offset=(-10, 10), labelTextSize="8pt", colCount=2)
        self.acc_plot.addLegend(offset=(-10, -10), labelTextSize="8pt", colCount=2)
        # The grid makes each axis span its plot, so every new point repainted the axes'
        # tick labels and grid (most of a redraw's time, holding the GIL the training
        # thread needs); cached as pixmaps they are redrawn only when their range changes.
        cache = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            for name in ("left", "bottom"):
                plot.getAxis(name).setCacheMode(cache)
            if plot.legend is not None:
                plot.legend.setCacheMode(cache)
        self.loss_plot.setLabel("bottom", "iteration")
        self.acc_plot.setLabel("bottom", "epoch")
        self.lr_plot.setLabel("bottom", "iteration")

        self.raw_curve = self.loss_plot.plot(name="batch", pen=cosmetic_pen((170, 170, 170)))
        self.raw_curve.setClipToView(True)
        self.raw_curve.setDownsampling(auto=True, method="peak")
        self.smooth_curve = self.loss_plot.plot(name="smoothed", pen=cosmetic_pen((31, 119, 180), 2))
        self.ep_train_curve = self.loss_plot.plot(
            name="train, epoch", pen=cosmetic_pen((214, 39, 40)), symbol="o", symbolSize=6,
            symbolBrush=(214, 39, 40))
        self.ep_val_curve = self.loss_plot.plot(
            name="validation, epoch", pen=cosmetic_pen((44, 160, 44), style=QtCore.Qt.PenStyle.DashLine),
            symbol="s", symbolSize=6, symbolBrush=(44, 160, 44))
        self.train_acc_curve = self.acc_plot.plot(
            name="train", pen=cosmetic_pen((214, 39, 40)), symbol="o", symbolSize=6, symbolBrush=(214, 39, 40))
        self.val_acc_curve = self.acc_plot.plot(
            name="validation", pen=cosmetic_pen((44, 160, 44)), symbol="s", symbolSize=6,
            symbolBrush=(44, 160, 44))
        self.lr_curve = self.lr_plot.plot(pen=cosmetic_pen((148, 103, 189)))

        self.readout = QtWidgets.QLabel("Hover a plot to read its values.")
        self.readout.setObjectName("curvesReadout")
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button.clicked.connect(self._ask_csv)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.readout, 1)
        bar.addWidget(self.png_button)
        bar.addWidget(self.csv_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.layout_widget, 1)
        # the short side-by-side plots have no room for legends inside them: one key line
        # below them instead (shown by _arrange)
        self.key = QtWidgets.QLabel(KEY_HTML)
        self.key.setObjectName("curvesKey")
        self.key.setWordWrap(True)  # one line would set the plots' minimum width (~510 px)
        self.key.hide()
        lay.addWidget(self.key)
        lay.addLayout(bar)
        self._show_key(self._in_row)

        self._hover_proxy = pg.SignalProxy(self.layout_widget.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_mouse_moved)
        self._dirty = False

    # -- feeding -------------------------------------------------------------------
    def reset(self, continue_from: bool = False) -> None:
        """Forget the run (or, with ``continue_from``, keep it and number on from its end)."""
        if continue_from and len(self.it):
            self._iter_offset = int(self.it.data[-1])
            self._epoch_offset = int(self.ep.data[-1]) if len(self.ep) else 0
            return
        for s in (self.it, self.loss, self.smooth, self.lr, self.ep, self.ep_it, self.ep_train_loss,
                  self.ep_val_loss, self.ep_train_acc, self.ep_val_acc):
            s.clear()
        self._ema = None
        self._ema_n = 0
        self._iter_offset = self._epoch_offset = 0
        self._fixed = False
        self._ep_drawn = -1
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.enableAutoRange()
        self.acc_plot.getAxis("bottom").setTickSpacing()   # automatic until set_extent
        self.redraw()

    _STATE = ("_ema", "_ema_n", "_iter_offset", "_epoch_offset")

    def snapshot(self) -> dict:
        """Copies of every series (and the running offsets), for :meth:`restore`."""
        snap = {name: s.data.copy() for name, s in vars(self).items() if isinstance(s, _Series)}
        snap.update({k: getattr(self, k) for k in self._STATE})
        return snap

    def restore(self, snap: dict) -> None:
        """Show a run kept with :meth:`snapshot` again (its graph was opened again)."""
        self.reset()
        for name, value in snap.items():
            series = getattr(self, name, None)
            if isinstance(series, _Series):
                series.extend(value)
            elif name in self._STATE:
                setattr(self, name, value)
        self._ep_drawn = -1
        self.redraw()

    def add_iterations(self, iterations, losses, lrs) -> None:
        """Append iteration points (global iteration numbers of the run, 1-based)."""
        for i, loss, lr in zip(iterations, losses, lrs):
            loss = float(loss)
            self.it.append(float(i) + self._iter_offset)
            self.loss.append(loss)
            if math.isfinite(loss):
                # debiased EMA (as TensorBoard): no lag towards 0 at the start of a run
                self._ema = SMOOTHING * (self._ema or 0.0) + (1 - SMOOTHING) * loss
                self._ema_n += 1
            value = self._ema / (1 - SMOOTHING ** self._ema_n) if self._ema_n else float("nan")
            self.smooth.append(value)
            self.lr.append(float(lr) if lr is not None else float("nan"))
        self._dirty = True

    def add_epoch(self, epoch: int, train_loss, train_acc, val_loss, val_acc, iteration: int | None = None) -> None:
        """One epoch's row; its loss markers go at ``iteration`` (the run's iteration count
        at the epoch's end; default: the latest iteration point, right only while rows
        come one at a time)."""
        self.ep.append(float(epoch) + self._epoch_offset)
        self.ep_it.append(float(iteration) + self._iter_offset if iteration is not None
                          else self.it.data[-1] if len(self.it) else 0.0)
        for series, v in ((self.ep_train_loss, train_loss), (self.ep_train_acc, train_acc),
                          (self.ep_val_loss, val_loss), (self.ep_val_acc, val_acc)):
            series.append(float("nan") if v is None else float(v))
        self._dirty = True

    def redraw(self) -> None:
        """Push the stored points to the curves (call at most a few times a second)."""
        self._dirty = False
        self.raw_curve.setData(self.it.data, self.loss.data)
        self.smooth_curve.setData(self.it.data, self.smooth.data)
        self.lr_curve.setData(self.it.data, self.lr.data)
        self._update_ranges()
        if len(self.ep) != self._ep_drawn:
            # epoch curves change once an epoch; re-setting them would repaint their plot
            self._ep_drawn = len(self.ep)
            self.ep_train_curve.setData(self.ep_it.data, self.ep_train_loss.data)
            self.ep_val_curve.setData(self.ep_it.data, self.ep_val_loss.data)
            self.train_acc_curve.setData(self.ep.data, self.ep_train_acc.data)
            self.val_acc_curve.setData(self.ep.data, self.ep_val_acc.data)

    def set_extent(self, iterations: int, epochs: int) -> None:
        """Fix the x ranges to the whole run (``iterations`` and ``epochs`` from now on).

        Auto-ranging as points arrive changes the axes on every redraw, and repainting
        the axes' tick labels is most of what a redraw costs; with fixed ranges only the
        curves are repainted.
        """
        x_end = self._iter_offset + max(int(iterations), 1)
        for plot in (self.loss_plot, self.lr_plot):
            plot.disableAutoRange()
            plot.setXRange(0, x_end, padding=0.02)
        self.acc_plot.enableAutoRange(y=True)
        last = self._epoch_offset + max(int(epochs), 1)
        self.acc_plot.setXRange(0.5, last + 0.5, padding=0.02)
        step = max(1, math.ceil(last / 10))   # whole epochs (1, 2, 3; not 1.5), ~10 labels at most
        self.acc_plot.getAxis("bottom").setTickSpacing(step, step)
        self._y_tops = {}
        self._fixed = True
        self._update_ranges()

    def _update_ranges(self) -> None:
        if not self._fixed:
            return
        for plot, series in ((self.loss_plot, self.loss), (self.lr_plot, self.lr)):
            data = series.data[np.isfinite(series.data)] if len(series) else series.data
            if not data.size:
                continue
            top = float(data.max())
            # a constant rate would get a meaningless +-0.5 range from auto-ranging
            top = top * 1.25 if top > 0 else 1.0
            if top > self._y_tops.get(id(plot), 0.0):
                self._y_tops[id(plot)] = top
                plot.setYRange(0, top, padding=0.02)

    def redraw_if_dirty(self) -> None:
        """Redraw when points arrived since the last redraw and the plots are on screen."""
        if self._dirty and self.isVisible():
            self.redraw()

    # below this height the stacked accuracy and learning-rate plots were a few pixels
    # tall (a 720p window's bottom dock): then the three plots stand side by side
    ROW_BELOW_PX = 320

    def _arrange(self, in_row: bool) -> None:
        """Loss large on the left with accuracy over learning rate beside it, or, in a short
        widget, all three in one row."""
        lay = self.layout_widget.ci
        if in_row == self._in_row and lay.layout.count():
            return
        self._in_row = in_row
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            if plot in lay.items:
                lay.removeItem(plot)
        if in_row:
            places = ((self.loss_plot, 0, 0, 1), (self.acc_plot, 0, 1, 1), (self.lr_plot, 0, 2, 1))
            stretch = (3, 2, 2)
        else:
            places = ((self.loss_plot, 0, 0, 2), (self.acc_plot, 0, 1, 1), (self.lr_plot, 1, 1, 1))
            stretch = (3, 2, 0)
        for plot, row, col, rowspan in places:
            lay.addItem(plot, row=row, col=col, rowspan=rowspan)
        for col, factor in enumerate(stretch):
            lay.layout.setColumnStretchFactor(col, factor)

    def _show_key(self, in_row: bool) -> None:
        """Legends and titles in the tall plots; the short ones get the key line below them
        and their names on the left axis instead of a title row (their height is the plot's)."""
        for plot in (self.loss_plot, self.acc_plot):
            plot.legend.setVisible(not in_row)
        for plot, (title, short) in ((self.loss_plot, ("Loss", "loss")),
                                     (self.acc_plot, ("Accuracy per epoch", "accuracy")),
                                     (self.lr_plot, ("Learning rate", "lr"))):
            plot.setTitle(None if in_row else title)
            plot.getAxis("left").enableAutoSIPrefix(False)  # ticks as in the tall plots: 0.0010
            plot.setLabel("left", short if in_row else None)
        self.key.setVisible(in_row)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        in_row = event.size().height() < self.ROW_BELOW_PX
        self._arrange(in_row=in_row)
        self._show_key(in_row)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    def point_count(self) -> int:
        """How many iteration points the loss curve holds."""
        return len(self.it)

    # -- hover ---------------------------------------------------------------------
    def _on_mouse_moved(self, args) -> None:
        pos = args[0]
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            if plot.sceneBoundingRect().contains(pos):
                x = plot.vb.mapSceneToView(pos).x()
                self.readout.setText(self.describe_at(plot, x))
                return

    def describe_at(self, plot, x: float) -> str:
        """The readout text for data coordinate ``x`` in ``plot``."""
        if plot is self.acc_plot:
            j = _nearest(self.ep.data, x)
            if j is None:
                return "no epochs yet"
            return (f"epoch {int(self.ep.data[j])}: train acc {_fmt(self.ep_train_acc.data[j])}, "
                    f"val acc {_fmt(self.ep_val_acc.data[j])}")
        i = _nearest(self.it.data, x)
        if i is None:
            return "no iterations yet"
        text = (f"iteration {int(self.it.data[i])}: loss {_fmt(self.loss.data[i])} "
                f"(smoothed {_fmt(self.smooth.data[i])}), lr {_fmt(self.lr.data[i])}")
        j = _nearest(self.ep_it.data, x)
        if plot is self.loss_plot and j is not None and abs(self.ep_it.data[j] - self.it.data[i]) < 1:
            text += (f"; epoch {int(self.ep.data[j])} train loss {_fmt(self.ep_train_loss.data[j])}, "
                     f"val loss {_fmt(self.ep_val_loss.data[j])}")
        return text

    # -- export ----------------------------------------------------------------------
    def export_png(self, path: str) -> bool:
        """Save the three plots as one PNG image."""
        self.redraw()
        return self.layout_widget.grab().save(str(path), "PNG")

    def export_csv(self, path: str) -> None:
        """One row per iteration and one per epoch, told apart by the ``kind`` column."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["kind", "iteration", "epoch", "loss", "loss_smoothed", "lr",
                        "train_loss", "train_acc", "val_loss", "val_acc"])
            for i in range(len(self.it)):
                w.writerow(["iteration", int(self.it.data[i]), "", repr(float(self.loss.data[i])),
                            repr(float(self.smooth.data[i])), repr(float(self.lr.data[i])), "", "", "", ""])
            for j in range(len(self.ep)):
                w.writerow(["epoch", int(self.ep_it.data[j]), int(self.ep.data[j]), "", "", "",
                            repr(float(self.ep_train_loss.data[j])), repr(float(self.ep_train_acc.data[j])),
                            repr(float(self.ep_val_loss.data[j])), repr(float(self.ep_val_acc.data[j]))])

    def _ask_png(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export curves as PNG", "training-curves.png",
                                                        "PNG image (*.png)")
        if path and not self.export_png(path):
            QtWidgets.QMessageBox.warning(self, "Export PNG", f"Could not write {path}.")

    def _ask_csv(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export metrics as CSV", "training-metrics.csv",
                                                        "CSV (*.csv)")
        if not path:
            return
        try:
            self.export_csv(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Export CSV", f"Could not write {path}: {exc.strerror or exc}")
