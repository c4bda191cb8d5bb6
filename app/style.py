"""Colours, fonts and generated icons shared by the editor widgets.

Icons are painted in code (a rounded tile in the category colour with a short glyph),
so the palette needs no image files and every registered op gets one automatically.
"""
from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QIcon, QPainter, QPainterPath, QPen, QPixmap

CATEGORY_COLORS = {
    "sources": "#3a9d5d",
    "arithmetic": "#3b7dd8",
    "layers": "#8a5cc7",
    "activations": "#e0962b",
    "losses": "#d0463c",
}
CATEGORY_TITLES = {
    "sources": "Sources",
    "arithmetic": "Arithmetic",
    "layers": "Layers",
    "activations": "Activations",
    "losses": "Losses",
}
OTHER_COLOR = "#7d8590"
ERROR_COLOR = "#d32f2f"
SELECT_COLOR = "#1e88e5"
ACTIVE_COLOR = "#ff9800"
DONE_COLOR = "#43a047"
GRAD_COLOR = "#c62828"
VALUE_COLOR = "#1565c0"
CANVAS_BG = "#f7f8fa"
GRID_MINOR = "#e9ecf1"
GRID_MAJOR = "#d9dee6"

_GLYPHS = {
    "Input": "x", "Constant": "c", "Parameter": "θ", "Add": "+", "Sub": "−", "Mul": "×",
    "Div": "÷", "MatMul": "@", "Sum": "Σ", "Mean": "μ", "Step": "⌐", "Sigmoid": "σ",
    "Tanh": "th", "Softmax": "S", "Identity": "=",
    "Affine": "Wx", "Conv2D": "▦", "MaxPool2D": "⊞", "AvgPool2D": "⊟", "Flatten": "≡",
    "BatchNorm": "β", "Dropout": "∅",
}

# Drawn as their graph instead of a glyph (no common font has a good "hinge" symbol):
# the slope of the left half, 0 for ReLU.
_HINGES = {"ReLU": 0.0, "LeakyReLU": 0.2}

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, OTHER_COLOR))


def glyph(type_name: str) -> str:
    """A one- or two-character symbol for an op type (its initials when unknown)."""
    return _GLYPHS.get(type_name) or glyph_fallback(type_name)


@functools.lru_cache(maxsize=256)
def op_icon(type_name: str, category: str, size: int = 32) -> QIcon:
    """A rounded tile in the category colour with the op's glyph, drawn at ``size`` px."""
    icon = QIcon()
    for scale in (1, 2):
        px = QPixmap(size * scale, size * scale)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(scale, scale)
        rect = QRectF(1.5, 1.5, size - 3, size - 3)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(category_color(category))
        p.drawRoundedRect(rect, size * 0.22, size * 0.22)
        if type_name in _HINGES:
            _draw_hinge(p, rect, _HINGES[type_name])
        else:
            _draw_glyph(p, rect, type_name, size)
        p.end()
        icon.addPixmap(px)
    return icon


def icon_text(type_name: str, font: QFont) -> str | None:
    """The text an op's icon shows in ``font``: its symbol, or its initials when the
    font lacks the symbol (it would be drawn as an empty box); None when drawn as a graph."""
    if type_name in _HINGES:
        return None
    text = glyph(type_name)
    if all(QFontMetricsF(font).inFontUcs4(ord(c)) for c in text):
        return text
    return glyph_fallback(type_name)


def _draw_glyph(p: QPainter, rect: QRectF, type_name: str, size: int) -> None:
    font = QFont()
    font.setBold(True)
    text = icon_text(type_name, font) or ""
    font.setPixelSize(int(size * (0.55 if len(text) == 1 else 0.42)))
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _draw_hinge(p: QPainter, rect: QRectF, left_slope: float) -> None:
    """A ReLU-style graph: flat (or slightly rising) left half, rising right half."""
    m = rect.width() * 0.24
    inner = rect.adjusted(m, m, -m, -m)
    knee = QPointF(inner.center().x(), inner.bottom() - inner.height() * 0.12)
    path = QPainterPath(QPointF(inner.left(), knee.y() + inner.width() / 2 * left_slope))
    path.lineTo(knee)
    path.lineTo(QPointF(inner.right(), inner.top()))
    pen = QPen(QColor("white"), max(1.5, rect.width() * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def glyph_fallback(type_name: str) -> str:
    """The type's capitals (or first letters): what an icon shows when its symbol is missing."""
    caps = "".join(c for c in type_name if c.isupper())
    return (caps or type_name)[:2]


def app_icon() -> QIcon:
    """The window icon: a small graph of three nodes."""
    icon = QIcon()
    for size in (16, 32, 64, 128):
        px = QPixmap(size, size)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 32.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(SELECT_COLOR))
        p.drawRoundedRect(QRectF(0, 0, size, size), 6 * s, 6 * s)
        pen_color = QColor("white")
        p.setPen(pen_color)
        p.drawLine(int(9 * s), int(10 * s), int(23 * s), int(16 * s))
        p.drawLine(int(9 * s), int(22 * s), int(23 * s), int(16 * s))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("white"))
        for x, y in ((9, 10), (9, 22), (23, 16)):
            p.drawEllipse(QRectF((x - 3.5) * s, (y - 3.5) * s, 7 * s, 7 * s))
        p.end()
        icon.addPixmap(px)
    return icon


def stylesheet() -> str:
    """The application stylesheet (``resources/style/app.qss``), or '' when missing."""
    path = RESOURCES / "style" / "app.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
