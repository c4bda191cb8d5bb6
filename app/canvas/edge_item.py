"""A connection drawn as a bezier curve from an output port to an input port.

The tensor shape sits on the curve's midpoint. ``set_labels`` adds a value above and a
gradient below it, and ``pulse`` draws a dot travelling along the curve (forward: from
the source, backward: from the destination) for the step-backprop animation.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from ..style import GRAD_COLOR, SELECT_COLOR, VALUE_COLOR
from .node_item import MONO_PX, font
from .readability import legible

LABEL_GAP = 3.0


def bezier(p0: QPointF, p1: QPointF) -> QPainterPath:
    """A horizontal S-curve from ``p0`` to ``p1`` (the same shape for live drags)."""
    dx = max(40.0, abs(p1.x() - p0.x()) * 0.5)
    path = QPainterPath(p0)
    path.cubicTo(QPointF(p0.x() + dx, p0.y()), QPointF(p1.x() - dx, p1.y()), p1)
    return path


def compact_shape(shape) -> str:
    """``(None, 30, 24, 24)`` -> ``N×30×24×24``; a scalar ``()`` -> ``scalar``."""
    if not shape:
        return "scalar"
    return "×".join("N" if d is None else str(d) for d in shape)


class EdgeItem(QGraphicsItem):
    """The curve for one :class:`graph.Edge` between two port items."""

    def __init__(self, edge, src_port, dst_port) -> None:
        super().__init__()
        self.edge = edge
        self.src_port, self.dst_port = src_port, dst_port
        self.shape_text = ""
        self.value_text: str | None = None
        self.grad_text: str | None = None
        self.value_pixmap = None
        self.pulse_at: float | None = None
        self.pulse_backward = False
        self.detached = False
        self._path = QPainterPath()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1.0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.update_path()

    # -- geometry ----------------------------------------------------------------------
    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = bezier(self.src_port.anchor(), self.dst_port.anchor())
        self._bounds = self._path.boundingRect().united(self._label_rects()).adjusted(-6, -6, 6, 6)

    def midpoint(self) -> QPointF:
        return self._path.pointAtPercent(0.5)

    def _text_rect(self, text: str | None, below: bool, extra: float = 0.0) -> QRectF:
        if not text:
            return QRectF()
        fm = QFontMetricsF(font("mono"))
        w, h = fm.horizontalAdvance(text) + 10, fm.height() + 4
        mid = self.midpoint()
        y = mid.y() + LABEL_GAP + extra if below else mid.y() - LABEL_GAP - h - extra
        return QRectF(mid.x() - w / 2, y, w, h)

    def _label_rects(self) -> QRectF:
        shape_rect = self._text_rect(self.shape_text, below=False)
        offset = shape_rect.height() + LABEL_GAP if self.shape_text else 0.0
        rect = shape_rect.united(self._text_rect(self.value_text, False, offset))
        rect = rect.united(self._text_rect(self.grad_text, True))
        return rect.united(self._pixmap_rect())

    def _pixmap_rect(self) -> QRectF:
        """The value preview: centred under the curve, below the gradient tag, so it covers
        neither the tags nor the ports."""
        if self.value_pixmap is None:
            return QRectF()
        mid = self.midpoint()
        grad = self._text_rect(self.grad_text, True)
        top = (grad.bottom() if self.grad_text else mid.y()) + LABEL_GAP
        w, h = self.value_pixmap.width(), self.value_pixmap.height()
        return QRectF(mid.x() - w / 2, top, w, h)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10.0)
        return stroker.createStroke(self._path)

    # -- labels and animation hooks -------------------------------------------------------
    def set_shape_text(self, text: str) -> None:
        if text != self.shape_text:
            self.shape_text = text
            self.update_path()
            self.update()

    def set_labels(self, value_text: str | None = None, grad_text: str | None = None,
                   value_pixmap=None) -> None:
        """Show a forward value above and a gradient below the curve (``None`` hides)."""
        self.value_text, self.grad_text, self.value_pixmap = value_text, grad_text, value_pixmap
        self.update_path()
        self.update()

    def pulse(self, progress: float | None, backward: bool = False) -> None:
        """Draw a dot at ``progress`` (0..1) along the curve; ``None`` removes it."""
        self.pulse_at = None if progress is None else min(max(float(progress), 0.0), 1.0)
        self.pulse_backward = bool(backward)
        self.update()

    def set_detached(self, flag: bool) -> None:
        """Draw faintly while the user drags this connection to another port."""
        self.detached = flag
        self.update()

    # -- painting --------------------------------------------------------------------------
    def paint(self, painter, option, widget=None) -> None:
        color = QColor(SELECT_COLOR) if self.isSelected() else QColor("#7b8794")
        if self.detached:
            color.setAlpha(70)
        pen = QPen(color, 2.4 if self.isSelected() else 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.pulse_at is not None:
            t = 1.0 - self.pulse_at if self.pulse_backward else self.pulse_at
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(GRAD_COLOR if self.pulse_backward else VALUE_COLOR))
            painter.drawEllipse(self._path.pointAtPercent(t), 5.5, 5.5)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if not legible(MONO_PX, lod):
            return   # the tags would be unreadable specks; the nodes' tooltips have the values
        painter.setFont(font("mono"))
        shape_rect = self._text_rect(self.shape_text, below=False)
        if self.shape_text:
            self._draw_tag(painter, shape_rect, self.shape_text, QColor("#56616c"), QColor(255, 255, 255, 215))
        if self.value_text:
            offset = shape_rect.height() + LABEL_GAP if self.shape_text else 0.0
            self._draw_tag(painter, self._text_rect(self.value_text, False, offset), self.value_text,
                           QColor(VALUE_COLOR), QColor(232, 241, 252, 235))
        if self.grad_text:
            self._draw_tag(painter, self._text_rect(self.grad_text, True), self.grad_text,
                           QColor(GRAD_COLOR), QColor(253, 236, 236, 235))
        if self.value_pixmap is not None:
            frame = self._pixmap_rect()
            painter.drawPixmap(frame.topLeft(), self.value_pixmap)
            painter.setPen(QPen(QColor("#9aa3ad"), 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(frame.adjusted(-0.5, -0.5, 0.5, 0.5))

    @staticmethod
    def _draw_tag(painter, rect: QRectF, text: str, fg: QColor, bg: QColor) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(fg)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
