"""What :class:`app.main_window.MainWindow` hands to the parts it builds after the editor.

The training panel (:func:`app.training.assemble.build_training`) and the stepping UI
(:func:`app.stepping.assemble.build_stepping`) take one :class:`EditorParts`: the typed
pieces of the editor they attach to, so no part looks the window's attributes up by name.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar

from .actions import Menus
from .canvas import GraphScene, GraphView
from .document import GraphDocument
from .message_log import MessageLog


@dataclass(frozen=True)
class EditorParts:
    """The editor a part attaches to.

    ``window`` hosts docks and toolbars; ``menus.run`` and ``menus.train`` are empty menus
    for the stepping and training parts; ``action_set`` maps action names ("undo", "delete",
    ...) to the window's ``QAction`` objects; ``toolbar`` is the main toolbar.
    """

    window: QMainWindow
    document: GraphDocument
    scene: GraphScene
    view: GraphView
    log: MessageLog
    palette_dock: QDockWidget
    inspector_dock: QDockWidget
    log_dock: QDockWidget
    action_set: dict[str, QAction]
    menus: Menus
    toolbar: QToolBar
