"""Puts the replayed moment on the canvas: node states, edge labels, pulses, the rule.

For each moment the controller reports, :class:`CanvasOverlay` asks the replay which
nodes and edges changed since the last one and updates only those items
(``NodeItem.set_overlay``, ``EdgeItem.set_labels``), so a step costs little even on a
large graph. The active node glows and shows its local-derivative rule with the numbers
plugged in, in a floating label under it. The edges it sends along get a pulse (a dot
travelling forward in the value colour, backward in the gradient colour) driven by a
``QVariantAnimation`` at display rate; the animation runs on the event loop and never
blocks input.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid

from graph.views.mosaic import thumbnail
from graph.views.replay import DisplayState

from ..canvas.labels import place_node_labels
from ..canvas.node_item import OVERLAY_H, font
from ..style import ACTIVE_COLOR, ERROR_COLOR, DONE_COLOR
from .controller import StepController

PULSE_MS = 650
THUMB_SIDE = 22
RULE_Z = 20.0
BLOCKER_CHARS = 48   # the canvas badge is elided here; its tooltip and the status bar say all


class GlowItem(QtWidgets.QGraphicsItem):
    """An orange halo drawn behind the active node (a child item, so it moves with it).

    Concentric translucent outlines instead of a blur effect: a blur re-renders the
    node on every paint, which costs more than the rest of a step.
    """

    RINGS = 6

    def __init__(self, node_item) -> None:
        super().__init__(node_item)
        self.node_id = ""
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self._box = QtCore.QRectF(0, 0, node_item.width, node_item.height)

    def attach(self, node_item, node_id: str) -> None:
        """Move behind another node's item."""
        if self.parentItem() is not node_item:
            self.prepareGeometryChange()
            self.setParentItem(node_item)
            self._box = QtCore.QRectF(0, 0, node_item.width, node_item.height)
        self.node_id = node_id

    def boundingRect(self) -> QtCore.QRectF:
        pad = 3.0 * self.RINGS + 2
        return self._box.adjusted(-pad, -pad, pad, pad)

    def paint(self, painter, option, widget=None) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        color = QtGui.QColor(ACTIVE_COLOR)
        for i in range(self.RINGS, 0, -1):
            color.setAlpha(int(150 * (1 - i / (self.RINGS + 1)) ** 1.5))
            painter.setPen(QtGui.QPen(color, 3.2))
            grow = 3.0 * i
            painter.drawRoundedRect(self._box.adjusted(-grow, -grow, grow, grow), 6 + grow, 6 + grow)


class RuleItem(QtWidgets.QGraphicsItem):
    """A floating card with the active node's rule (several lines, monospace)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.setZValue(RULE_Z)
        self._font = QtGui.QFont("DejaVu Sans Mono")
        self._font.setStyleHint(QtGui.QFont.StyleHint.Monospace)
        self._font.setPixelSize(11)
        self._rect = QtCore.QRectF()

    def set_text(self, text: str) -> None:
        """Show ``text`` (lines separated by newlines) and resize the card."""
        self.prepareGeometryChange()
        self.text = text
        fm = QtGui.QFontMetricsF(self._font)
        lines = text.splitlines() or [""]
        w = max(fm.horizontalAdvance(line) for line in lines) + 16
        # + descent: the last line's underscores sit below the line spacing at small sizes
        h = fm.lineSpacing() * len(lines) + fm.descent() + 10
        self._rect = QtCore.QRectF(-w / 2, 0, w, h)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter, option, widget=None) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QPen(QtGui.QColor(ACTIVE_COLOR), 1.4))
        painter.setBrush(QtGui.QColor(255, 248, 225, 240))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setFont(self._font)
        painter.setPen(QtGui.QColor("#3b2f00"))
        painter.drawText(self._rect.adjusted(8, 5, -8, -5),
                         QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop
                         | QtCore.Qt.TextFlag.TextDontClip, self.text)


RULE_GAP = 8.0


def node_rect(item) -> QtCore.QRectF:
    """What a node item shows, in scene coordinates: its box and the value / gradient
    texts above and below it (tighter than ``sceneBoundingRect``, which reserves room for
    the widest possible text)."""
    box = QtCore.QRectF(0.0, 0.0, item.width, item.height)
    rect = QtCore.QRectF(box)
    fm = QtGui.QFontMetricsF(font("mono"))
    for text, y in ((getattr(item, "overlay_above", None), -OVERLAY_H - 2),
                    (getattr(item, "overlay_below", None), item.height + 2)):
        if text:
            w = min(fm.horizontalAdvance(text) + 8, item.width * 2)
            rect = rect.united(QtCore.QRectF(box.center().x() - w / 2, y, w, OVERLAY_H))
    return item.mapRectToScene(rect)


def _obstacles(scene) -> list[QtCore.QRectF]:
    """Scene rectangles the rule card must not cover: every node and every edge label."""
    rects = [node_rect(item) for item in scene.nodes.values() if item.isVisible()]
    for edge in scene.edges.values():
        labels = getattr(edge, "_label_rects", None)
        r = labels() if labels is not None else QtCore.QRectF()
        if not r.isEmpty():
            rects.append(edge.mapRectToScene(r))
    return rects


def rule_position(scene, item, card: QtCore.QRectF) -> QtCore.QPointF:
    """Where the rule card (local bounding rect ``card``) goes for the active node ``item``.

    Tried in turn: below the node (under its gradient text), above it (over its value
    text), right of it, left of it; the first whose rectangle touches no node and no edge
    label wins. When all are taken, it goes above everything on the canvas.
    """
    box = item.mapRectToScene(QtCore.QRectF(0.0, 0.0, item.width, item.height))
    w, h = card.width(), card.height()
    text_room = OVERLAY_H + RULE_GAP
    candidates = [
        QtCore.QPointF(box.left(), box.bottom() + text_room),            # below
        QtCore.QPointF(box.left(), box.top() - text_room - h),           # above
        QtCore.QPointF(box.right() + 3 * RULE_GAP, box.top()),           # right
        QtCore.QPointF(box.left() - 3 * RULE_GAP - w, box.top()),        # left
    ]
    obstacles = _obstacles(scene)
    for top_left in candidates:
        rect = QtCore.QRectF(top_left, card.size()).adjusted(-2, -2, 2, 2)
        if not any(rect.intersects(o) for o in obstacles):
            return top_left - card.topLeft()
    top = min((o.top() for o in obstacles), default=box.top())
    return QtCore.QPointF(box.left(), top - RULE_GAP - h) - card.topLeft()


def gray_pixmap(img: np.ndarray) -> QtGui.QPixmap:
    """A ``uint8`` 2-D array as a pixmap, scaled up so tiny arrays stay visible; a one-row
    strip (an MLP's (1, 50) activations) gets the height of a band, not of a 1-pixel line."""
    a = np.ascontiguousarray(img)
    qimg = QtGui.QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QtGui.QImage.Format.Format_Grayscale8)
    scale = max(1, THUMB_SIDE // max(a.shape))
    width, height = a.shape[1] * scale, a.shape[0] * scale
    band = THUMB_SIDE // 3
    pix = QtGui.QPixmap.fromImage(qimg.copy())
    if scale > 1 or height < band or width < band:
        pix = pix.scaled(max(width, band), max(height, band))
    return pix


class CanvasOverlay(QtCore.QObject):
    """Applies :class:`graph.views.replay.DisplayState` to the scene's node and edge items.

    Parameters
    ----------
    controller : StepController
    scene_source : callable
        Returns the current :class:`app.canvas.scene.GraphScene` (``nodes`` maps ids to
        ``NodeItem``; ``edges`` maps ``(dst, dst_port)`` to ``EdgeItem``).
    """

    def __init__(self, controller: StepController, scene_source: Callable, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._scene_source = scene_source
        self.shown = -1
        self.state: DisplayState | None = None
        self.badges: dict[str, tuple[bool, str]] = {}
        self._badge_items: dict[str, QtWidgets.QGraphicsSimpleTextItem] = {}
        self._blocker: QtWidgets.QGraphicsSimpleTextItem | None = None
        self._pixmaps: dict[tuple, QtGui.QPixmap] = {}
        self.glow: GlowItem | None = None
        self._pulsing: list = []
        self.rule_item: RuleItem | None = None
        self.animation = QtCore.QVariantAnimation(self)
        self.animation.setStartValue(0.0)
        self.animation.setEndValue(1.0)
        self.animation.setDuration(PULSE_MS)
        self.animation.setEasingCurve(QtCore.QEasingCurve.Type.InOutSine)
        self.animation.valueChanged.connect(self._animate)
        self.animation.finished.connect(self._stop_pulses)
        controller.state_changed.connect(self.apply)
        controller.run_changed.connect(self._run_changed)

    @property
    def scene(self):
        """The window's current scene."""
        return self._scene_source()

    # -- applying moments ----------------------------------------------------------------
    def _run_changed(self) -> None:
        self._pixmaps.clear()
        self.apply(self.controller.index, full=True)

    def apply(self, k: int, full: bool = False) -> None:
        """Show moment ``k`` of the controller's run (``-1`` or no run: clear)."""
        scene = self.scene
        replay = self.controller.replay
        self._stop_pulses()
        if scene is None:
            return
        if replay is None or k < 0:
            self._clear(scene)
            return
        new = replay.state(k)
        if full or self.state is None or self.shown < 0:
            nodes, edges = set(new.nodes), set(new.edges)
        else:
            nodes, edges = replay.changed(self.shown, k)
        placed = []
        for n in nodes:
            item = scene.nodes.get(n)
            d = new.nodes.get(n)
            if item is not None and d is not None:
                item.set_overlay(d.value or None, d.grad or None, d.state)
                placed.append(item)
        place_node_labels(scene, placed)
        for key in edges:
            item = scene.edges.get((key[1], key[2]))
            d = new.edges.get(key)
            if item is None or d is None:
                continue
            item.set_labels(d.value or None, d.grad or None, self._pixmap(key, d.value_array))
        self.shown, self.state = k, new
        self._show_active(scene, new)
        self._start_pulses(scene, new)

    def _clear(self, scene) -> None:
        scene.clear_overlays()
        self._set_glow(scene, None)
        if self.rule_item is not None and isValid(self.rule_item):
            self.rule_item.hide()
        self.shown, self.state = -1, None

    def _pixmap(self, key: tuple, arr) -> QtGui.QPixmap | None:
        """A tiny heatmap of an array value (scalars get none)."""
        if arr is None or np.asarray(arr).size <= 1:
            return None
        pix = self._pixmaps.get(key)
        if pix is None:
            pix = self._pixmaps[key] = gray_pixmap(thumbnail(arr, THUMB_SIDE))
        return pix

    # -- the active node: glow and rule ---------------------------------------------------
    def _set_glow(self, scene, node: str | None) -> None:
        """Put the halo behind ``node``'s item (``None``: hide it)."""
        item = scene.nodes.get(node) if node is not None else None
        if self.glow is None or not isValid(self.glow):
            self.glow = None
            if item is None:
                return
            self.glow = GlowItem(item)
        if item is None:
            self.glow.hide()
            return
        self.glow.attach(item, node)
        self.glow.show()

    def _show_active(self, scene, state: DisplayState) -> None:
        self._set_glow(scene, state.active)
        if self.rule_item is None or not isValid(self.rule_item) or self.rule_item.scene() is not scene:
            self.rule_item = RuleItem()
            scene.addItem(self.rule_item)
        item = scene.nodes.get(state.active)
        if item is None or not state.rule:
            self.rule_item.hide()
            return
        label = "forward" if state.phase == "forward" else "backward: local gradient"
        self.rule_item.set_text(f"{label} at {state.active}\n{state.rule}")
        self.rule_item.setPos(rule_position(scene, item, self.rule_item.boundingRect()))
        self.rule_item.show()

    # -- pulses ---------------------------------------------------------------------------
    def set_pulse_duration(self, ms: int) -> None:
        """Length of one pulse (shorter when playing fast)."""
        self.animation.setDuration(max(60, int(ms)))

    def _start_pulses(self, scene, state: DisplayState) -> None:
        self._pulsing = [(scene.edges[(k[1], k[2])], d.flow == "backward")
                         for k, d in state.edges.items() if d.flow and (k[1], k[2]) in scene.edges]
        if self._pulsing:
            self.animation.stop()
            self.animation.start()

    def _animate(self, value) -> None:
        for item, backward in self._pulsing:
            if isValid(item):
                item.pulse(float(value), backward)

    def _stop_pulses(self) -> None:
        if self.animation.state() == QtCore.QAbstractAnimation.State.Running:
            self.animation.stop()
        for item, _ in self._pulsing:
            if isValid(item) and item.scene() is not None:
                item.pulse(None)
        self._pulsing = []

    # -- why the graph cannot run ---------------------------------------------------------
    def set_blocker(self, node: str | None, text: str = "") -> None:
        """Put "⚠ cannot run" over ``node`` with ``text`` as tooltip (``None``: remove it)."""
        old, self._blocker = self._blocker, None
        if old is not None and isValid(old) and old.scene() is not None:
            old.scene().removeItem(old)
        scene = self.scene
        item = scene.nodes.get(node) if scene is not None and node else None
        if item is None:
            return
        reason = text.split(": ", 1)[1] if text.startswith(f"{node}: ") else text
        if len(reason) > BLOCKER_CHARS:
            reason = reason[:BLOCKER_CHARS - 1] + "…"
        badge = QtWidgets.QGraphicsSimpleTextItem(f"⚠ cannot run: {reason}", item)
        f = QtGui.QFont(font("title"))
        badge.setFont(f)
        badge.setBrush(QtGui.QColor(ERROR_COLOR))
        badge.setPos(0, -OVERLAY_H - 6 - f.pixelSize())
        badge.setToolTip(text)
        badge.setZValue(3)
        self._blocker = badge

    # -- gradient-check badges -----------------------------------------------------------
    def set_badge(self, node: str, passed: bool | None, text: str = "") -> None:
        """Mark a node ✓ (passed) or ✗ (failed) with ``text`` as tooltip; ``None`` removes."""
        scene = self.scene
        old = self._badge_items.pop(node, None)
        if old is not None and isValid(old) and old.scene() is not None:
            old.scene().removeItem(old)
        if passed is None:
            self.badges.pop(node, None)
            return
        self.badges[node] = (bool(passed), text)
        item = scene.nodes.get(node) if scene is not None else None
        if item is None:
            return
        badge = QtWidgets.QGraphicsSimpleTextItem("✓" if passed else "✗", item)
        f = QtGui.QFont()
        f.setPixelSize(15)
        f.setBold(True)
        badge.setFont(f)
        badge.setBrush(QtGui.QColor(DONE_COLOR if passed else ERROR_COLOR))
        badge.setPos(item.width - 4, -18)
        badge.setToolTip(text)
        badge.setZValue(2)
        self._badge_items[node] = badge

    def clear_badges(self) -> None:
        """Remove every gradient-check badge."""
        for node in list(self.badges):
            self.set_badge(node, None)
