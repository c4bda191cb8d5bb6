"""A node's port: a small circle that starts and ends connection drags."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem

from ..layout import PORT_RADIUS
from ..style import DONE_COLOR, SELECT_COLOR

HIT_RADIUS = PORT_RADIUS + 4.0


class PortItem(QGraphicsItem):
    """An input (left edge) or output (right edge) port of a :class:`NodeItem`.

    ``highlight`` is ``None``, ``"ok"`` (a compatible target while dragging),
    ``"hover"`` (the target under the mouse) or ``"off"`` (incompatible, drawn faint).
    """

    def __init__(self, node_item, name: str, is_output: bool) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.is_output = is_output
        self.connected = False
        self.highlight: str | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        # The node paints its ports into its own cached pixmap: a thousand separate port
        # paints per frame would dominate the cost of drawing a large graph.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def anchor(self) -> QPointF:
        """The port centre in scene coordinates (where edges attach)."""
        return self.mapToScene(QPointF(0.0, 0.0))

    def boundingRect(self) -> QRectF:
        r = HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_highlight(self, value: str | None) -> None:
        if value != self.highlight:
            self.highlight = value
            self.node_item.update()

    def set_connected(self, value: bool) -> None:
        if value != self.connected:
            self.connected = value
            self.node_item.update()

    def paint(self, painter, option, widget=None) -> None:
        """Not called (no contents); the node calls :meth:`draw` in its coordinates."""

    def draw(self, painter) -> None:
        painter.save()
        painter.translate(self.pos())
        self._draw(painter)
        painter.restore()

    def _draw(self, painter) -> None:
        color = self.node_item.color
        r = PORT_RADIUS
        if self.highlight == "hover":
            r += 2.5
        pen = QPen(color.darker(120), 1.6)
        fill = QColor(color) if self.connected else QColor("white")
        if self.highlight in ("ok", "hover"):
            painter.setPen(Qt.PenStyle.NoPen)
            halo = QColor(DONE_COLOR if self.highlight == "ok" else SELECT_COLOR)
            halo.setAlpha(90)
            painter.setBrush(halo)
            painter.drawEllipse(QPointF(0, 0), r + 4, r + 4)
            pen = QPen(QColor(DONE_COLOR if self.highlight == "ok" else SELECT_COLOR), 2.2)
        elif self.highlight == "off":
            fill.setAlpha(70)
            pen.setColor(QColor("#c4c9d0"))
        painter.setPen(pen)
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(QPointF(0, 0), r, r)

    # -- connection drags are handled by the scene ------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.scene() is not None:
            self.scene().begin_connection(self)
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event) -> None:
        self.scene().update_connection(event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        self.scene().end_connection(event.scenePos())
