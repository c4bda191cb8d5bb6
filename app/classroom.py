"""What makes the editor usable in a classroom, attached after its other parts.

Presentation mode (:mod:`app.presentation`), the Help menu (:mod:`app.help`), a first
window sized to its screen (:mod:`app.screen_fit`) and a mouse wheel that scrolls forms
instead of changing fields (:mod:`app.wheel_guard`).
"""
from __future__ import annotations

from .editor_parts import EditorParts
from .help import build_help
from .presentation import build_presentation
from .screen_fit import fit_window
from .wheel_guard import install_wheel_guard


def attach_classroom(parts: EditorParts) -> None:
    """Add presentation mode and help to ``parts.window``, size it, guard the wheel."""
    window = parts.window
    window.presentation = build_presentation(parts)
    window.help_actions = build_help(parts)
    fit_window(window)   # after the docks exist: small screens get narrower ones
    install_wheel_guard()
