"""How small canvas text may get on screen, and the zoom at which node titles are readable.

Canvas fonts are sized in scene units, so zooming out shrinks them. Below
:func:`min_text_px` pixels on screen a label is drawn as "…" (its full text is in the
item's tooltip) instead of as unreadable specks. Presentation mode raises the scale: the
minimum grows with it and examples open at :func:`readable_zoom`.
"""
from __future__ import annotations

BASE_MIN_PX = 7.0         # on-screen pixel height below which a label collapses to "…"
READABLE_TITLE_PX = 11.0  # on-screen size of a node title that reads comfortably
_state = {"scale": 1.0}


def set_scale(scale: float) -> None:
    """1.0 normally; 1.5 or 2.0 in presentation mode."""
    _state["scale"] = float(scale)


def scale() -> float:
    return _state["scale"]


def min_text_px() -> float:
    return BASE_MIN_PX * _state["scale"]


def readable_zoom(title_px: float = 12.0) -> float:
    """The zoom at which a ``title_px`` scene-unit title is READABLE_TITLE_PX·scale on screen."""
    return READABLE_TITLE_PX * _state["scale"] / title_px


def legible(font_px: float, lod: float) -> bool:
    """Is text of ``font_px`` scene units at least :func:`min_text_px` on screen at ``lod``?"""
    return font_px * lod >= min_text_px()
