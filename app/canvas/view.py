"""The canvas view: grid, zoom around the cursor, panning, drops, quick add, renaming."""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGraphicsView, QLineEdit, QMenu

from ..clipboard import op_from_mime
from ..layout import HEADER_H, NODE_WIDTH
from ..style import CANVAS_BG, GRID_MAJOR, GRID_MINOR
from .edge_item import EdgeItem
from .node_item import NodeItem
from .readability import readable_zoom
from .quick_add import QuickAddPopup

MIN_SCALE, MAX_SCALE = 0.08, 4.0
OPEN_SLACK = 0.8   # fit_readable keeps the fitted zoom down to this share of the readable one
GRID = 20.0
MIN_GRID_PX = 10.0  # closer grid lines turn the zoomed-out canvas into grey noise
CASCADE = 30.0


def grid_step(zoom: float) -> float:
    """Scene distance between grid lines: 20, 100, 500 ... so lines stay ``MIN_GRID_PX`` apart."""
    step = GRID
    while step * zoom < MIN_GRID_PX:
        step *= 5
    return step


class _TitleEditor(QLineEdit):
    """The inline title editor; Escape cancels."""

    cancelled = Signal()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class GraphView(QGraphicsView):
    """Shows a :class:`GraphScene`; edits go to ``scene.document``."""

    zoom_changed = Signal(float)

    def __init__(self, scene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.node_menu_actions: list = []
        self.quick_add: QuickAddPopup | None = None
        self._quick_add_at = QPointF()
        self.title_editor: QLineEdit | None = None
        self._space_down = False
        self._pan_from: QPoint | None = None
        scene.title_edit_requested.connect(self.edit_title)
        self.centerOn(0, 0)

    @property
    def document(self):
        return self.scene().document

    # -- zoom and pan ---------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, view_pos: QPoint | None = None) -> None:
        """Scale by ``factor`` keeping the scene point under ``view_pos`` in place."""
        current = self.zoom()
        target = min(max(current * factor, MIN_SCALE), MAX_SCALE)
        if math.isclose(target, current):
            return
        if view_pos is None:
            view_pos = self.viewport().rect().center()
        before = self.mapToScene(view_pos)
        self.scale(target / current, target / current)
        after = self.mapToScene(view_pos)
        self.translate(after.x() - before.x(), after.y() - before.y())
        self.zoom_changed.emit(self.zoom())

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def reset_zoom(self) -> None:
        self.zoom_by(1.0 / self.zoom())

    def fit(self) -> None:
        """Fit every node into the view (never zooming in past 125 %)."""
        rect = self.scene().nodes_rect()
        if rect.isNull():
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.25:
            self.zoom_by(1.25 / self.zoom())
        self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    def fit_readable(self) -> None:
        """Fit the graph, but never below the zoom where node titles are readable
        (:func:`readability.readable_zoom`): a wide graph then opens at its start (its
        left end), and Fit to View (F) still shows all of it."""
        self.fit()
        rect = self.scene().nodes_rect()
        want = readable_zoom()
        if rect.isNull() or self.zoom() >= OPEN_SLACK * want:
            return   # nearly readable and all in view: better than a cut-off graph
        self.zoom_by(want / self.zoom())
        half = self.mapToScene(self.viewport().rect()).boundingRect().width() / 2
        self.centerOn(rect.left() + half - 20, rect.center().y())
        self.zoom_changed.emit(self.zoom())

    def pan_by(self, dx: float, dy: float) -> None:
        """Scroll the canvas by ``(dx, dy)`` viewport pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def center_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015 ** delta, event.position().toPoint())
        event.accept()

    # -- grid --------------------------------------------------------------------------
    def drawBackground(self, painter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor(CANVAS_BG))
        step = grid_step(self.zoom())
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor, major = [], []
        x = left
        while x < rect.right():
            (major if round(x / step) % 5 == 0 else minor).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y / step) % 5 == 0 else minor).append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pen = QPen(QColor(GRID_MINOR), 0)
        painter.setPen(pen)
        painter.drawLines(minor)
        pen.setColor(QColor(GRID_MAJOR))
        painter.setPen(pen)
        painter.drawLines(major)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    # -- mouse and keys ------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down)
        if panning:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(-delta.x(), -delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.open_quick_add(self._cursor_view_pos())
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        key, mods = event.key(), event.modifiers()
        plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_F and plain:
            self.fit()
        elif key == Qt.Key.Key_F2:
            ids = self.scene().selected_node_ids()
            if ids:
                self.edit_title(ids[0])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal) and plain:
            self.zoom_in()
        elif key == Qt.Key.Key_Minus and plain:
            self.zoom_out()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            # A pan under way ends with its mouse button, not here: some X servers (Xvfb,
            # remote desktops) report key auto-repeat as real release/press pairs.
            self._space_down = False
            if self._pan_from is None:
                self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def _cursor_view_pos(self) -> QPoint:
        from PySide6.QtGui import QCursor  # noqa: PLC0415

        pos = self.viewport().mapFromGlobal(QCursor.pos())
        return pos if self.viewport().rect().contains(pos) else self.viewport().rect().center()

    # -- adding nodes --------------------------------------------------------------------
    def free_scene_pos(self, scene_pos: QPointF, height: float = 90.0) -> QPointF:
        """The spot nearest ``scene_pos`` (in ``CASCADE`` steps, within the view) where a
        node added with its title bar centred there would cover no other node; repeated
        double-clicks in the palette would otherwise pile nodes on top of each other."""
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        reach = 20
        offsets = sorted(((dx, dy) for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)),
                         key=lambda d: (d[0] ** 2 + d[1] ** 2, -d[1], -d[0]))
        for dx, dy in offsets:
            pos = scene_pos + QPointF(dx * CASCADE, dy * CASCADE)
            box = QRectF(pos.x() - NODE_WIDTH / 2, pos.y() - HEADER_H / 2, NODE_WIDTH, height)
            if not seen.contains(box) and (dx or dy):
                continue
            if not any(isinstance(i, NodeItem) for i in self.scene().items(box.adjusted(-8, -8, 8, 8))):
                return pos
        return QPointF(scene_pos)

    def add_node_at(self, type_name: str, scene_pos: QPointF) -> str | None:
        """Add ``type_name`` with its title bar centred on ``scene_pos``; selects it."""
        pos = (round(scene_pos.x() - NODE_WIDTH / 2), round(scene_pos.y() - HEADER_H / 2))
        node_id = self.document.add_node(type_name, pos)
        if node_id is not None:
            self.scene().select_nodes([node_id])
        return node_id

    def open_quick_add(self, view_pos: QPoint) -> QuickAddPopup:
        """Show the searchable add menu at ``view_pos``; the node goes where it opened."""
        popup = self.quick_add
        if popup is None:
            popup = self.quick_add = QuickAddPopup(self)
            popup.chosen.connect(lambda name: self.add_node_at(name, self._quick_add_at))
        self._quick_add_at = self.mapToScene(view_pos)
        popup.search.clear()
        popup.popup_at(self.viewport().mapToGlobal(view_pos))
        popup.search.setFocus()
        return popup

    def dragEnterEvent(self, event) -> None:
        if op_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if op_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        type_name = op_from_mime(event.mimeData())
        if type_name is None:
            super().dropEvent(event)
            return
        self.add_node_at(type_name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()

    def contextMenuEvent(self, event) -> None:
        item = self.itemAt(event.pos())
        while item is not None and not isinstance(item, (NodeItem, EdgeItem)):
            item = item.parentItem()
        if item is None:
            self.open_quick_add(event.pos())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        menu = QMenu(self)
        if isinstance(item, NodeItem):
            menu.addAction("Rename", lambda: self.edit_title(item.node_id))
        for action in self.node_menu_actions:
            menu.addAction(action)
        menu.exec(event.globalPos())

    # -- renaming in place -------------------------------------------------------------------
    def edit_title(self, node_id: str) -> QLineEdit | None:
        """Open an inline editor over the node's title (its label if set, else its id)."""
        scene = self.scene()
        if node_id not in scene.nodes:
            return None
        self._close_title_editor()
        item = scene.nodes[node_id]
        node = self.document.graph.node(node_id)
        rect = self.mapFromScene(item.mapToScene(item.header_rect())).boundingRect()
        editor = _TitleEditor(node.label or node.id, self.viewport())
        editor.cancelled.connect(self._close_title_editor)
        editor.setObjectName("TitleEditor")
        editor.setGeometry(rect.adjusted(2, 2, -2, -2))
        editor.selectAll()
        editor.show()
        editor.setFocus()
        editing_label = bool(node.label)

        def commit() -> None:
            if self.title_editor is not editor:
                return
            text = editor.text().strip()
            self._close_title_editor()
            current = item.node_id
            if editing_label:
                self.document.set_label(current, text)
            elif text and text != current:
                self.document.rename(current, text)

        editor.editingFinished.connect(commit)
        self.title_editor = editor
        return editor

    def _close_title_editor(self) -> None:
        editor, self.title_editor = self.title_editor, None
        if editor is not None:
            editor.hide()
            editor.deleteLater()
            self.setFocus()
