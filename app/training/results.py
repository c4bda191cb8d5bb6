"""Results of a run: confusion matrix, misclassified test samples, and per-layer histograms
of weights, activations and gradients over training.

The gallery follows the book's misclassified-MNIST figure: each wrong test image with
"true → predicted" above it. Like the filter viewer, the gallery is one ``ImageItem``
holding a mosaic, with one small text label per tile.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from graph.views.mosaic import as_images

from .filters import make_image_item

GALLERY_MAX = 60
EMPTY_HEADLINE = "Results appear here when a run finishes or is stopped."
GALLERY_COLS = 10


class TextLabels(pg.GraphicsObject):
    """Many short texts at data positions, painted by one item at a fixed pixel size.

    A hundred ``pg.TextItem`` objects take tens of milliseconds to create, which is a
    visible hitch on the GUI thread at the end of a run; one item painting them all does not.
    """

    MIN_PX, MAX_PX = 6, 14

    def __init__(self, point_size: int = 8, cell: float | None = None, band: float | None = None) -> None:
        super().__init__()
        # ``cell``: data units of width each text may take; ``band``: of height. The font
        # then scales with the view so the longest text fits its cell; when even the
        # smallest readable size does not fit, the texts are left out instead of running
        # into each other.
        self.cell = cell
        self.band = band
        self.max_chars = 1
        self.font_px = 0
        self.labels: list[tuple[float, float, str, QtGui.QColor]] = []
        self.anchor_y = 0.5
        self.font = QtGui.QFont()
        self.font.setPointSize(point_size)
        self._rect = QtCore.QRectF()

    def set_labels(self, labels, anchor_y: float = 0.5) -> None:
        """``labels``: ``(x, y, text, color)``; ``anchor_y`` 0.5 centres, 1.0 puts the text above."""
        self.prepareGeometryChange()
        self.labels = [(float(x), float(y), str(t), QtGui.QColor(*c) if isinstance(c, tuple) else QtGui.QColor(c))
                       for x, y, t, c in labels]
        self.anchor_y = anchor_y
        self.max_chars = max((len(lab[2]) for lab in self.labels), default=1)
        if self.labels:
            xs = [lab[0] for lab in self.labels]
            ys = [lab[1] for lab in self.labels]
            self._rect = QtCore.QRectF(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
        else:
            self._rect = QtCore.QRectF()
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter, *_args) -> None:
        if not self.labels:
            return
        tr = painter.transform()
        painter.save()
        painter.resetTransform()
        font = QtGui.QFont(self.font)
        if self.cell:
            px = self.fit_px(tr)
            self.font_px = px
            if px < self.MIN_PX:
                painter.restore()
                return
            font.setPixelSize(px)
        painter.setFont(font)
        metrics = QtGui.QFontMetricsF(font)
        h = metrics.height()
        for x, y, text, color in self.labels:
            p = tr.map(QtCore.QPointF(x, y))
            w = metrics.horizontalAdvance(text)
            painter.setPen(color)
            painter.drawText(QtCore.QRectF(p.x() - w / 2, p.y() - h * self.anchor_y, w + 1, h), text)
        painter.restore()


    def fit_px(self, tr: QtGui.QTransform) -> int:
        """The font pixel size at which the longest text fits its cell under ``tr``."""
        def length(dx, dy):
            v = tr.map(QtCore.QPointF(dx, dy)) - tr.map(QtCore.QPointF(0, 0))
            return (v.x() ** 2 + v.y() ** 2) ** 0.5

        cell_px = length(self.cell, 0)
        # a digit or letter is about 0.62 em wide in the default sans font
        px = cell_px * 0.9 / (0.62 * max(self.max_chars, 1))
        if self.band:
            px = min(px, length(0, self.band) * 0.8)
        return int(min(px, self.MAX_PX))


class ConfusionMatrixView(pg.GraphicsLayoutWidget):
    """A heatmap of counts (rows: true class, columns: predicted) with the count in each cell."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setTitle("Confusion matrix (test set)", size="9pt")
        # the axis titles would take a fifth of a small dock: the title says it instead
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("CET-L18").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.counts = TextLabels(cell=1.0, band=1.0)
        self.plot.addItem(self.counts)
        self.matrix: np.ndarray | None = None

    def forget(self) -> None:
        """No matrix (no run yet for this graph). Not ``clear``: pyqtgraph's layout widget
        forwards that name to its layout, which would remove the plot."""
        self.matrix = None
        self.image.clear()
        self.counts.set_labels([])
        self.plot.setTitle("Confusion matrix (test set)", size="9pt")   # not the last run's "… right"
        self.setToolTip("")
        for side in ("bottom", "left"):   # nor its class labels (a 2x2 grid over a 10-class set)
            self.plot.getAxis(side).setTicks(None)

    def set_matrix(self, cm, class_names=None) -> None:
        """Show ``cm`` (K, K) integer counts; diagonal cells are the correct predictions."""
        cm = np.asarray(cm, dtype=np.int64)
        self.matrix = cm
        k = cm.shape[0]
        # log scale keeps the off-diagonal mistakes visible next to ~100-count diagonals
        shade = np.log1p(cm.astype(np.float64))
        hi = max(float(shade.max()), 1.0)
        self.image.setImage(shade, autoLevels=False, levels=(0.0, hi))
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, k, k))
        self.counts.set_labels([(c, r, str(cm[r, c]), (255, 255, 255) if shade[r, c] / hi > 0.55 else (0, 0, 0))
                                for r in range(k) for c in range(k) if cm[r, c] or k <= 12])
        names = list(class_names or [str(i) for i in range(k)])
        self._names = [names[i] if i < len(names) else str(i) for i in range(k)]
        self._fit()
        acc = np.trace(cm) / max(cm.sum(), 1)
        # short: a long title widens the plot past a narrow widget and clips the matrix
        self.plot.setTitle(f"true ↓ predicted → · {acc:.1%} right", size="8pt")
        self.setToolTip(f"Confusion matrix of {cm.sum()} test samples: rows are the true class, columns "
                        f"the predicted class; {acc:.1%} on the diagonal (right)")


    def _fit(self) -> None:
        if self.matrix is not None:
            k = self.matrix.shape[0]
            self.plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0.02)
            self._label_classes()

    def _label_classes(self) -> None:
        """Class names along both axes; in cells smaller than a name (a 720p window's dock)
        every n-th one, as labels drawn over each other read as none."""
        k = self.matrix.shape[0]
        cell = min(self.plot.vb.width(), self.plot.vb.height()) / k
        fm = QtGui.QFontMetrics(self.plot.getAxis("left").font())
        wide = max((fm.horizontalAdvance(n) for n in self._names), default=0) + 4
        for side, need in (("left", fm.height()), ("bottom", wide)):
            step = max(1, -(-need // max(int(cell), 1)))
            self.plot.getAxis(side).setTicks([[(i, self._names[i]) for i in range(0, k, step)]])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # with the aspect locked, a range set while the widget was small stays off-centre
        if getattr(self, "matrix", None) is not None:
            QtCore.QTimer.singleShot(0, self, self._fit)


class MisclassifiedGallery(pg.GraphicsLayoutWidget):
    """Wrong test samples as one mosaic, "true → predicted" above each tile.

    The number of columns follows the widget's shape (the one that shows the tiles
    largest), and the captions scale with the tiles; the mosaic is laid out again when
    a resize changes the best column count.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.vb = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.vb.setMouseEnabled(False, False)
        self.image = make_image_item()
        self.vb.addItem(self.image)
        self.captions = TextLabels(7)
        self.vb.addItem(self.captions)
        self.count = 0
        self.cols = 0
        self._samples = None

    def set_samples(self, images, true, pred, class_names=None) -> None:
        """``images`` (M, H, W) or (M, C, H, W) of wrong samples with their labels."""
        imgs = np.asarray(images)
        if imgs.ndim == 4:
            imgs = imgs[:, 0]
        self.count = len(imgs)
        if imgs.ndim != 3 or not len(imgs):
            self._samples = None
            self.cols = 0
            self.image.clear()
            self.captions.set_labels([])
            return
        names = list(class_names or [])

        def name(k):
            k = int(k)
            return names[k] if k < len(names) else str(k)

        texts = [f"{name(t)}→{name(p)}" for t, p in zip(true, pred)]
        self._samples = (imgs.astype(np.float64), texts)
        self.cols = 0
        self._layout()

    def _pitch(self):
        imgs, texts = self._samples
        h, w = imgs.shape[1:]
        chars = max(len(t) for t in texts)
        # each tile is at least as wide as its caption at the tile's text height
        gap_x = max(w // 7, 2, int(np.ceil(0.62 * chars * 0.45 * h)) - w)
        band = max(int(h * 0.55), 6)
        return w, h, gap_x, band

    def best_cols(self, width: float | None = None, height: float | None = None) -> int:
        """The column count that shows the tiles largest in ``width`` × ``height`` pixels."""
        if self._samples is None:
            return 0
        n = len(self._samples[0])
        rect = self.vb.geometry() if width is None else None
        width = width if width is not None else max(rect.width(), 1.0)
        height = height if height is not None else max(rect.height(), 1.0)
        w, h, gap_x, band = self._pitch()
        best, best_scale = 1, 0.0
        for cols in range(1, min(n, GALLERY_COLS * 2) + 1):
            rows = -(-n // cols)
            scale = min(width / (cols * (w + gap_x)), height / (rows * (h + band)))
            if scale > best_scale * 1.001:
                best, best_scale = cols, scale
        return best

    def _layout(self) -> None:
        imgs, texts = self._samples
        cols = self.best_cols()
        if cols == self.cols:
            return
        self.cols = cols
        n, h, w = imgs.shape
        _, _, gap_x, band = self._pitch()
        rows = -(-n // cols)
        mosaic = np.full((rows * (h + band), cols * (w + gap_x)), np.nan)
        for i, img in enumerate(imgs):
            r, c = divmod(i, cols)
            lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
            norm = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
            y, x = r * (h + band) + band, c * (w + gap_x) + gap_x // 2
            mosaic[y:y + h, x:x + w] = 1.0 - norm  # book style: dark strokes on white
        self.image.setImage(mosaic, autoLevels=False, levels=(0.0, 1.0))
        self.captions.cell = w + gap_x
        self.captions.band = band
        labels = [((i % cols) * (w + gap_x) + (w + gap_x) / 2, (i // cols) * (h + band) + band - 1, t,
                   (200, 30, 30)) for i, t in enumerate(texts)]
        self.captions.set_labels(labels, anchor_y=1.0)
        self.vb.autoRange(padding=0.01)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if getattr(self, "_samples", None) is not None:  # pyqtgraph resizes during __init__
            QtCore.QTimer.singleShot(0, self, self._relayout)

    def _relayout(self) -> None:
        if self._samples is not None:
            self._layout()
            self.vb.autoRange(padding=0.01)


class HistogramView(QtWidgets.QWidget):
    """Per-layer histograms of weights, activations and gradients, one curve per epoch.

    Fed with :meth:`add_snapshot` ``(label, {(kind, name): (counts, edges)})`` where kind
    is ``"weights"``, ``"activations"`` or ``"gradients"``.
    """

    KINDS = ("weights", "activations", "gradients")
    MAX_DRAWN = 12  # curves in one plot: more are neither legible nor cheap to redraw

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.snapshots: list[tuple[str, dict]] = []
        self._stale = False
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(self.KINDS)
        self.layer = QtWidgets.QComboBox()
        self.layer.setMinimumContentsLength(16)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.layer.currentIndexChanged.connect(self.redraw)
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("left", "% of values")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="7pt")
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(QtWidgets.QLabel("Histogram of"))
        bar.addWidget(self.kind)
        bar.addWidget(QtWidgets.QLabel("of"))
        bar.addWidget(self.layer, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.plot, 1)

    def clear(self) -> None:
        self.snapshots = []
        self.layer.clear()
        self.plot.clear()

    def add_snapshot(self, label: str, hists: dict) -> None:
        """Keep a snapshot; drawn now when on screen, else when next shown (a run sends
        them while the page is usually hidden, and each redraw re-plots every curve)."""
        self.snapshots.append((str(label), hists))
        self._stale = True
        if self.isVisible():
            self._kind_changed()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._kind_changed()

    def names(self, kind: str) -> list[str]:
        seen: dict[str, None] = {}
        for _, h in self.snapshots:
            for k, n in h:
                if k == kind:
                    seen[n] = None
        return list(seen)

    def _kind_changed(self, *_args) -> None:
        kind = self.kind.currentText()
        want = self.names(kind)
        have = [self.layer.itemText(i) for i in range(self.layer.count())]
        if want != have:
            current = self.layer.currentText()
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems(want)
            if current in want:
                self.layer.setCurrentText(current)
            self.layer.blockSignals(False)
        self.redraw()

    def redraw(self, *_args) -> None:
        """The chosen layer's histograms: at most :attr:`MAX_DRAWN` snapshots, spread
        evenly from the first to the last."""
        self._stale = False
        self.plot.clear()
        kind, name = self.kind.currentText(), self.layer.currentText()
        runs = [(e, h[(kind, name)]) for e, h in self.snapshots if (kind, name) in h]
        if len(runs) > self.MAX_DRAWN:
            runs = [runs[i] for i in np.unique(np.linspace(0, len(runs) - 1, self.MAX_DRAWN).round().astype(int))]
        self.plot.setLabel("bottom", f"{name} {kind}" if name else kind)
        n = len(runs)
        for j, (label, (counts, edges)) in enumerate(runs):
            share = 100.0 * np.asarray(counts, dtype=np.float64) / max(float(np.sum(counts)), 1.0)
            color = pg.intColor(j, hues=max(n, 2), maxValue=220) if n > 1 else (31, 119, 180)
            pen = pg.mkPen(color, width=1)
            pen.setCosmetic(True)
            self.plot.plot(np.asarray(edges, dtype=np.float64), share, stepMode="center", pen=pen, name=label)


def float16_text(result: dict) -> str:
    """``"; test accuracy with the weights rounded to float16 97.50%"`` (empty without the
    check): the same weights stored in half precision, the arithmetic in the training dtype."""
    half = result.get("float16_test_accuracy")
    if half is None:
        return ""
    over = " — overflow beyond ±65504" if result.get("float16_overflow") else ""
    return f"; test accuracy with the weights rounded to float16 {float(half):.2%}{over}"


class ResultsView(QtWidgets.QWidget):
    """Confusion matrix and misclassified gallery side by side, histograms below."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.confusion = ConfusionMatrixView()
        self.gallery = MisclassifiedGallery()
        self.histograms = HistogramView()
        self.summary = QtWidgets.QLabel(EMPTY_HEADLINE)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        gallery_box = QtWidgets.QWidget()
        gl = QtWidgets.QVBoxLayout(gallery_box)
        gl.setContentsMargins(0, 0, 0, 0)
        self.gallery_title = QtWidgets.QLabel("<b>Misclassified test samples</b> (true → predicted)")
        gl.addWidget(self.gallery_title)
        gl.addWidget(self.gallery, 1)
        self.gallery_title.setWordWrap(True)
        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(self.confusion)
        top.addWidget(gallery_box)
        top.setStretchFactor(0, 2)
        top.setStretchFactor(1, 3)
        self._top = top
        # the histograms get their own page: stacked under the matrix and the gallery they
        # left each about 60 px of height in the default window
        self.pages = QtWidgets.QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(top, "Confusion && mistakes")
        self.pages.addTab(self.histograms, "Histograms")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.summary)
        lay.addWidget(self.pages, 1)

    def _give_matrix_room(self, points: bool) -> None:
        """With no pictures to show (2-D points) the matrix takes most of the width; it was
        50 px wide beside an empty gallery."""
        if points == self.gallery.isHidden():
            return
        self.gallery.setVisible(not points)
        width = max(self._top.width(), 5)
        self._top.setSizes([width * 4 // 5, width // 5] if points else [width * 2 // 5, width * 3 // 5])

    def clear(self, headline: str = EMPTY_HEADLINE) -> None:
        """Forget the last run (another graph was opened, or a new run started)."""
        self.summary.setText(headline)
        self.confusion.forget()
        self.gallery.set_samples(np.zeros((0, 1, 1)), [], [])
        self.gallery_title.setText("<b>Misclassified test samples</b> (true → predicted)")
        self.histograms.clear()

    def show_result(self, result: dict, splits=None, image_shape=None) -> None:
        """Fill the views from a run's result (see :mod:`app.training.worker`); flat samples
        are shown as images as the graph's Input ``image_shape`` says (see ``as_images``)."""
        names = splits.class_names if splits is not None else None
        cm = result.get("confusion_matrix")
        if cm is not None:
            self.confusion.set_matrix(cm, names)
        wrong = list(result.get("misclassified") or [])
        if splits is not None and wrong:
            shown = wrong[:GALLERY_MAX]
            pos = np.array([w["position"] for w in shown], dtype=np.int64)
            images = as_images(splits.x_test[pos], image_shape)
            if images is None:  # a toy set's 2-D points: nothing to show as pictures
                self.gallery.set_samples(np.zeros((0, 1, 1)), [], [], names)
                self._give_matrix_room(True)
                self.gallery_title.setText(f"<b>Misclassified test samples</b>: {len(wrong)} (points, not "
                                           "images: Concepts ▸ 2-D playground draws the decision boundary)")
            else:
                self._give_matrix_room(False)
                self.gallery.set_samples(images, [w["true"] for w in shown], [w["predicted"] for w in shown], names)
                self.gallery_title.setText(f"<b>Misclassified test samples</b> (true → predicted): "
                                           f"{len(shown)} of {len(wrong)} shown")
        else:
            self.gallery.set_samples(np.zeros((0, 1, 1)), [], [], names)
            self.gallery_title.setText("<b>Misclassified test samples</b>: none")
        parts = []
        for key, label in (("train_accuracy", "train"), ("val_accuracy", "validation"),
                           ("test_accuracy", "test")):
            v = result.get(key)
            if v is not None:
                parts.append(f"{label} accuracy {float(v):.2%}")
        if result.get("float16_test_accuracy") is not None:
            parts.append(float16_text(result)[2:])
        if result.get("epochs") is not None:
            parts.append(f"{result['epochs']} full epoch{'s' * (result['epochs'] != 1)}, "
                         f"{result.get('iterations', '?')} iterations")
        if result.get("seconds") is not None:
            parts.append(f"{float(result['seconds']):.1f}\u00a0s")  # never wrapped between number and unit
        best = result.get("best_epoch")
        if result.get("restored_best") and best is not None and best != result.get("epochs"):
            # else the accuracies above contradict the last epoch's line in the log
            parts.append(f"weights of the best epoch ({best}), restored")
        self.summary.setText(", ".join(parts) or "Run finished.")
