"""The box drawn for one graph node: title, category colour, ports, output shape.

The item only mirrors the model. Dragging it asks the scene to push ``MoveNodes``
commands; the item moves when the model says the node moved. ``set_overlay`` lets the
step-backprop view put a value above and a gradient below the box.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from layers.base import fmt_num

from ..layout import FOOTER_H, HEADER_H, ROW_H, node_size
from ..style import (ACTIVE_COLOR, DONE_COLOR, ERROR_COLOR, GRAD_COLOR, SELECT_COLOR,
                     VALUE_COLOR, category_color)
from .port_item import PortItem
from .readability import legible

STATES = ("normal", "active", "done", "dimmed")
OVERLAY_H = 18.0
TITLE_PX, MONO_PX = 12, 10   # font sizes in scene units
GRAD_SEP = "   "
_FONTS: dict[str, QFont] = {}


def header_text(node_id: str, label: str) -> str:
    """The title bar: the id (what rules, the timeline and the CLI call the node), with the
    label when it says more: ``apple (price)``, ``mul_apple · × (mul_apple_layer)``."""
    if not label or label.lower() == node_id.lower():
        return node_id
    if label.startswith(node_id):
        return label
    return f"{node_id} · {label}"


def constant_text(node) -> str:
    """``= 100`` for a Constant (its value is known before any run), else ``""``."""
    if node.type != "Constant":
        return ""
    value = np.asarray(node.params.get("value", 0.0))
    if value.size == 1:
        return f"= {fmt_num(value)}"
    if value.size <= 4:
        return "= [" + ", ".join(fmt_num(v) for v in value.reshape(-1)) + "]"
    return f"= {value.size} values"


def font(kind: str) -> QFont:
    """Shared fonts: ``title``, ``small`` and ``mono`` (created after the app exists)."""
    if kind not in _FONTS:
        f = QFont()
        if kind == "title":
            f.setPixelSize(TITLE_PX)
            f.setBold(True)
        elif kind == "mono":
            f.setFamily("DejaVu Sans Mono")
            f.setStyleHint(QFont.StyleHint.Monospace)
            f.setPixelSize(MONO_PX)
        else:
            f.setPixelSize(MONO_PX)
        _FONTS[kind] = f
    return _FONTS[kind]


class NodeItem(QGraphicsItem):
    """One node; ``in_ports``/``out_ports`` map port names to :class:`PortItem`."""

    def __init__(self, node) -> None:
        super().__init__()
        self.node_id = node.id
        self.type_name = node.type
        self.category = node.op.category
        self.color = category_color(self.category)
        self.doc_text = node.op.doc
        self.title = header_text(node.id, node.label)
        self.const_text = constant_text(node)
        self.shape_text = ""
        self.error: str | None = None
        self.overlay_above: str | None = None
        self.overlay_below: str | None = None
        self.grad_beside = False   # the gradient shares the value's line (no room below)
        self.state = "normal"
        self.width, self.height = node_size(len(node.op.inputs), len(node.op.outputs))
        self.in_ports = {name: PortItem(self, name, False) for name in node.op.inputs}
        self.out_ports = {name: PortItem(self, name, True) for name in node.op.outputs}
        for i, port in enumerate(self.in_ports.values()):
            port.setPos(0.0, HEADER_H + ROW_H * (i + 0.5))
        for i, port in enumerate(self.out_ports.values()):
            port.setPos(self.width, HEADER_H + ROW_H * (i + 0.5))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setPos(QPointF(*node.position))
        self._update_tooltip()

    # -- model mirror ------------------------------------------------------------------
    def sync(self, node) -> None:
        """Refresh the title (and a Constant's value) after a rename, relabel or edit."""
        self.node_id = node.id
        self.title = header_text(node.id, node.label)
        self.const_text = constant_text(node)
        self._update_tooltip()
        self.update()

    def set_shape_state(self, shape_text: str, error: str | None) -> None:
        if shape_text != self.shape_text or error != self.error:
            self.shape_text, self.error = shape_text, error
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        lines = [f"{self.title} — {self.type_name} ({self.category})", self.doc_text]
        if self.const_text:
            lines.append(f"value {self.const_text}")
        if self.shape_text:
            lines.append(f"output shape: {self.shape_text}")
        if self.overlay_above:
            lines.append(f"value: {self.overlay_above}")
        if self.overlay_below:
            lines.append(f"gradient: {self.overlay_below}")
        if self.error:
            lines += ["", f"Error: {self.error}"]
        self.setToolTip("\n".join(line for line in lines if line is not None))

    def set_overlay(self, text_above: str | None = None, text_below: str | None = None,
                    state: str = "normal") -> None:
        """Show a value above and a gradient below the node, and a display state.

        ``state`` is ``normal``, ``active`` (the node being computed), ``done`` or
        ``dimmed`` (not reached yet).
        """
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        self.prepareGeometryChange()
        changed = (text_above, text_below) != (self.overlay_above, self.overlay_below)
        self.overlay_above, self.overlay_below, self.state = text_above, text_below, state
        if changed:
            self._update_tooltip()
        self.setOpacity(0.35 if state == "dimmed" else 1.0)
        self.update()

    def set_grad_beside(self, flag: bool) -> None:
        """Draw the gradient on the value's line above the node instead of below it."""
        if flag != self.grad_beside:
            self.prepareGeometryChange()
            self.grad_beside = flag
            self.update()

    def overlay_rects(self) -> tuple[QRectF, QRectF]:
        """``(above, below)`` rectangles (item coordinates) of the overlay texts as drawn;
        empty where there is none. With :attr:`grad_beside` both texts are in ``above``."""
        fm = QFontMetricsF(font("mono"))
        h = OVERLAY_H   # as drawn: text centred in a line of this height, 2 units off the box
        above, below = QRectF(), QRectF()
        top_text = self._top_line()
        if top_text:
            w = fm.horizontalAdvance(top_text) + 6
            above = QRectF(self.width / 2 - w / 2, -h - 2, w, h)
        if self.overlay_below and not self.grad_beside:
            w = fm.horizontalAdvance(self.overlay_below) + 6
            below = QRectF(self.width / 2 - w / 2, self.height + 2, w, h)
        return above, below

    def _top_line(self) -> str:
        parts = [self.overlay_above or ""]
        if self.grad_beside and self.overlay_below:
            parts.append(f"∂ {self.overlay_below}")
        return GRAD_SEP.join(p for p in parts if p)

    # -- geometry ------------------------------------------------------------------------
    def box(self) -> QRectF:
        return QRectF(0.0, 0.0, self.width, self.height)

    def header_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, self.width, HEADER_H)

    def boundingRect(self) -> QRectF:
        top = OVERLAY_H + 4 if self.overlay_above or self.overlay_below else 4.0
        bottom = OVERLAY_H + 4 if self.overlay_below and not self.grad_beside else 4.0
        side = 14.0 + (self.width * 0.5 if self.overlay_above or self.overlay_below else 0.0)
        return self.box().adjusted(-side, -top, side, bottom)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.box(), 6, 6)
        return path

    # -- painting --------------------------------------------------------------------------
    def paint(self, painter, option, widget=None) -> None:
        box = self.box()
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        border = QPen(QColor("#9aa3ad"), 1.0)
        if self.error:
            border = QPen(QColor(ERROR_COLOR), 2.2)
        if self.state == "active":
            border = QPen(QColor(ACTIVE_COLOR), 3.2)
        elif self.state == "done":
            border = QPen(QColor(DONE_COLOR), 2.2)
        if selected:
            border = QPen(QColor(SELECT_COLOR), 2.6)
        painter.setPen(border)
        painter.setBrush(QColor("white"))
        painter.drawRoundedRect(box, 6, 6)
        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)
        header.addRoundedRect(self.header_rect().adjusted(1, 1, -1, 0), 5, 5)
        header.addRect(QRectF(1, HEADER_H / 2, self.width - 2, HEADER_H / 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawPath(header)
        for port in (*self.in_ports.values(), *self.out_ports.values()):
            port.draw(painter)
        if not legible(TITLE_PX, lod):
            # too small to read: a "…" in the title bar says there is text (see the tooltip)
            if legible(TITLE_PX * 3, lod):
                painter.setPen(QColor("white"))
                painter.setFont(font("title"))
                painter.drawText(self.header_rect(), Qt.AlignmentFlag.AlignCenter, "…")
            return
        self._paint_text(painter, legible(MONO_PX, lod))

    def _paint_text(self, painter, small_legible: bool = True) -> None:
        w = self.width
        painter.setFont(font("title"))
        painter.setPen(QColor("white"))
        title_rect = QRectF(9, 0, w - 18, HEADER_H)
        fm = QFontMetricsF(font("title"))
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(self.title, Qt.TextElideMode.ElideRight, title_rect.width()))
        painter.setFont(font("small"))
        if self.title != self.type_name:
            painter.setPen(QColor("#8a949e"))
            painter.drawText(QRectF(0, HEADER_H, w, ROW_H), Qt.AlignmentFlag.AlignCenter, self.type_name)
        painter.setPen(QColor("#3c4650"))
        for i, name in enumerate(self.in_ports):
            painter.drawText(QRectF(12, HEADER_H + ROW_H * i, w / 2 - 12, ROW_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        for i, name in enumerate(self.out_ports):
            painter.drawText(QRectF(w / 2, HEADER_H + ROW_H * i, w / 2 - 12, ROW_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
        foot = QRectF(8, self.height - FOOTER_H, w - 16, FOOTER_H - 2)
        painter.setPen(QPen(QColor("#e3e7ec"), 1))
        painter.drawLine(QPointF(1, foot.top()), QPointF(w - 1, foot.top()))
        fm = QFontMetricsF(font("mono"))
        painter.setFont(font("mono"))
        if self.error:
            painter.setPen(QColor(ERROR_COLOR))
            text = "⚠ " + self.error.split(":", 1)[-1].strip() if ":" in self.error else "⚠ " + self.error
        else:
            painter.setPen(QColor("#56616c"))
            text = f"→ {self.shape_text}" if self.shape_text else ""
            if self.const_text:
                text = f"{self.const_text}   {text}"
        painter.drawText(foot, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, foot.width()) if small_legible
                         else ("…" if text else ""))
        if small_legible:
            self._paint_overlay(painter)
        else:
            self._paint_collapsed_overlay(painter)

    def _paint_collapsed_overlay(self, painter) -> None:
        """Value and gradient as "…" where they would be too small to read (hover: full text)."""
        span = QRectF(0, 0, self.width, OVERLAY_H)
        painter.setFont(font("title"))
        if self.overlay_above or (self.grad_beside and self.overlay_below):
            painter.setPen(QColor(VALUE_COLOR))
            painter.drawText(span.translated(0, -OVERLAY_H - 2), Qt.AlignmentFlag.AlignCenter, "…")
        if self.overlay_below and not self.grad_beside:
            painter.setPen(QColor(GRAD_COLOR))
            painter.drawText(span.translated(0, self.height + 2), Qt.AlignmentFlag.AlignCenter, "…")

    def _paint_overlay(self, painter) -> None:
        fm = QFontMetricsF(font("mono"))
        span = QRectF(-self.width * 0.5, 0, self.width * 2, OVERLAY_H)
        painter.setFont(font("mono"))
        above = span.translated(0, -OVERLAY_H - 2)
        if self.grad_beside and self.overlay_below:
            # value in its colour, then the gradient in its own, centred together
            value = self.overlay_above or ""
            grad = f"{GRAD_SEP if value else ''}∂ {self.overlay_below}"
            left = self.width / 2 - (fm.horizontalAdvance(value) + fm.horizontalAdvance(grad)) / 2
            painter.setPen(QColor(VALUE_COLOR))
            painter.drawText(QPointF(left, above.center().y() + fm.ascent() / 2 - 1), value)
            painter.setPen(QColor(GRAD_COLOR))
            painter.drawText(QPointF(left + fm.horizontalAdvance(value), above.center().y() + fm.ascent() / 2 - 1),
                             grad)
            return
        if self.overlay_above:
            painter.setPen(QColor(VALUE_COLOR))
            painter.drawText(above, Qt.AlignmentFlag.AlignCenter,
                             fm.elidedText(self.overlay_above, Qt.TextElideMode.ElideRight, above.width()))
        if self.overlay_below:
            painter.setPen(QColor(GRAD_COLOR))
            rect = span.translated(0, self.height + 2)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                             fm.elidedText(self.overlay_below, Qt.TextElideMode.ElideRight, rect.width()))

    # -- interaction: moving goes through the model --------------------------------------
    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(1.0 if value else 0.0)
        return super().itemChange(change, value)

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self.scene() is not None:
            self.scene().begin_move(event.scenePos())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.scene() is not None:
            self.scene().drag_move(event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if self.scene() is not None:
            self.scene().end_move()

    def mouseDoubleClickEvent(self, event) -> None:
        if self.header_rect().contains(event.pos()) and self.scene() is not None:
            self.scene().title_edit_requested.emit(self.node_id)
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)
