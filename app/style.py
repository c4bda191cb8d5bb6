"""Colours, fonts and generated icons shared by the editor widgets.

Icons are painted in code (a rounded tile in the category colour with a short glyph),
so the palette needs no image files and every registered op gets one automatically.
"""
from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

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
    "Tanh": "th", "ReLU": "⟋", "LeakyReLU": "⟋", "Softmax": "S", "Identity": "=",
    "Affine": "Wx", "Conv2D": "▦", "MaxPool2D": "⊞", "AvgPool2D": "⊟", "Flatten": "≡",
    "BatchNorm": "β", "Dropout": "∅",
}

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, OTHER_COLOR))


def glyph(type_name: str) -> str:
    """A one- or two-character symbol for an op type (its initials when unknown)."""
    if type_name in _GLYPHS:
        return _GLYPHS[type_name]
    caps = "".join(c for c in type_name if c.isupper())
    return (caps or type_name)[:2]


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
        p.setPen(QColor("white"))
        text = glyph(type_name)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(size * (0.55 if len(text) == 1 else 0.42)))
        p.setFont(font)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        icon.addPixmap(px)
    return icon


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
