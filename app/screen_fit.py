"""The first window fits the screen it opens on, with docks sized for small screens too.

At 1280×720 or 1024×768 a fixed 1360×840 window put the inspector, its tabs and the status
bar off-screen. :func:`initial_size` picks the size from the available screen area and
:func:`dock_widths` shares the width between the palette, the canvas and the right docks.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication

PREFERRED = QSize(1360, 840)
SMALL_WIDTH = 1300   # below this the side docks get narrower


def initial_size(available: QSize | None, preferred: QSize = PREFERRED) -> QSize:
    """``preferred`` (or 85 % of a larger screen), never more than the available screen
    area less room for the frame."""
    if available is None or available.isEmpty():
        return QSize(preferred)
    # a big screen (a projector at 1920×1080) gets most of it; a small one all of it
    width = min(available.width() - 16, max(preferred.width(), int(available.width() * 0.85)))
    height = min(available.height() - 40, max(preferred.height(), int(available.height() * 0.85)))
    return QSize(max(640, width), max(480, height))


def dock_widths(window_width: int, palette_preferred: int) -> tuple[int, int]:
    """``(palette, right docks)`` widths: the palette as wide as its longest name (at most
    280), the right docks 300 on large windows and 250 on small ones, so at 1024 wide the
    canvas keeps more than half of the window."""
    palette = min(max(210, palette_preferred), 280)
    return palette, 300 if window_width >= SMALL_WIDTH else 250


def fit_window(window) -> None:
    """Size ``window`` for its screen and spread the palette and inspector docks."""
    screen = window.screen()
    available = screen.availableGeometry().size() if screen is not None else None
    if QGuiApplication.platformName() == "offscreen":
        available = None   # no real screen (tests, --screenshot): its nominal 800×600 says nothing
    size = initial_size(available)
    window.resize(size)
    palette, right = dock_widths(size.width(), window.node_palette.preferred_width())
    window.resizeDocks([window.palette_dock, window.inspector_dock], [palette, right], Qt.Orientation.Horizontal)
    if size.height() < 800:
        window.resizeDocks([window.log_dock], [90], Qt.Orientation.Vertical)
