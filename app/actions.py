"""Menus, toolbar and shortcuts of the editor window.

:func:`build_actions` makes the window's actions (``action_set``: name -> ``QAction``), every
menu of the menu bar (:class:`Menus`, in their order on the bar) and the main toolbar. The
parts that :class:`app.main_window.MainWindow` builds afterwards fill their own menu
(stepping: ``menus.run``, training: ``menus.train``, labs: ``menus.labs``). A new menu is a
new :class:`Menus` field made in :func:`_build_menus`, at its place on the bar.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle, QToolBar

from graph import templates

from .canvas import GraphView
from .document import GraphDocument

Key = QKeySequence.StandardKey


class EditorSlots(Protocol):
    """The window methods the actions call (``MainWindow`` has them all)."""

    def new_document(self) -> bool: ...
    def new_window(self) -> QMainWindow: ...
    def open_dialog(self) -> bool: ...
    def open_template(self, name: str, ask: bool = True) -> bool: ...
    def save(self) -> bool: ...
    def save_as(self) -> bool: ...
    def close(self) -> bool: ...
    def cut_selection(self) -> None: ...
    def copy_selection(self) -> bool: ...
    def paste(self) -> list[str]: ...
    def duplicate_selection(self) -> list[str]: ...
    def delete_selection(self) -> None: ...
    def select_all(self) -> None: ...
    def about(self) -> None: ...
    def refresh_recent(self) -> None: ...


@dataclass
class Menus:
    """The menu bar's menus, in their order on the bar (``recent`` is File's submenu)."""

    file: QMenu
    recent: QMenu
    edit: QMenu
    view: QMenu
    examples: QMenu
    run: QMenu
    train: QMenu
    labs: QMenu
    concepts: QMenu
    help: QMenu


def key_sequences(*keys) -> list[QKeySequence]:
    """One sequence per standard key (its primary binding) or string, without repeats.

    A standard key can be the very binding we add by hand (``SaveAs`` is Ctrl+Shift+S
    on Linux, ``Quit`` is Ctrl+Q, ``Redo`` may be Ctrl+Y); an action holding a sequence
    twice makes Qt report an "ambiguous shortcut overload" and ignore the key. Only the
    primary binding is used: the secondary ones clash (on X11 ``Delete`` also means Ctrl+D).
    """
    out: list[QKeySequence] = []
    for key in keys:
        seq = QKeySequence(key)
        if not seq.isEmpty() and seq not in out:
            out.append(seq)
    return out


def build_actions(window: QMainWindow, slots: EditorSlots, document: GraphDocument, view: GraphView,
                  docks: list[QDockWidget]) -> tuple[dict[str, QAction], Menus, QToolBar]:
    """Create every action, menu and the main toolbar on ``window``.

    ``slots`` are the window's own commands (``window`` itself for a ``MainWindow``),
    ``docks`` the docks whose show/hide toggles the View menu lists. Returns
    ``(action_set, menus, toolbar)``.
    """
    icons = window.style()
    actions: dict[str, QAction] = {}

    def make(name, text, slot, shortcuts=(), tip="", icon=None):
        action = QAction(text, window)
        if shortcuts:
            action.setShortcuts(key_sequences(*shortcuts))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                              if shortcuts else tip)
        if icon is not None:
            action.setIcon(icons.standardIcon(icon))
        action.triggered.connect(lambda _checked=False: slot())
        actions[name] = action
        return action

    sp = QStyle.StandardPixmap
    make("new", "&New", slots.new_document, [Key.New], "Start an empty graph", sp.SP_FileIcon)
    make("new_window", "New &Window", slots.new_window, ["Ctrl+Shift+N"], "Open another editor window")
    make("open", "&Open…", slots.open_dialog, [Key.Open], "Open a graph file", sp.SP_DialogOpenButton)
    make("save", "&Save", slots.save, [Key.Save], "Save the graph", sp.SP_DialogSaveButton)
    make("save_as", "Save &As…", slots.save_as, [Key.SaveAs, "Ctrl+Shift+S"], "Save under a new name")
    make("quit", "&Quit", slots.close, [Key.Quit, "Ctrl+Q"], "Close the window")

    undo = document.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcuts(key_sequences(Key.Undo))
    undo.setIcon(icons.standardIcon(sp.SP_ArrowBack))
    redo = document.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts(key_sequences(Key.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
    redo.setIcon(icons.standardIcon(sp.SP_ArrowForward))
    actions["undo"], actions["redo"] = undo, redo
    make("cut", "Cu&t", slots.cut_selection, [Key.Cut], "Cut the selected nodes")
    make("copy", "&Copy", slots.copy_selection, [Key.Copy], "Copy the selected nodes")
    make("paste", "&Paste", slots.paste, [Key.Paste], "Paste nodes")
    make("duplicate", "D&uplicate", slots.duplicate_selection, ["Ctrl+D"], "Duplicate the selected nodes")
    make("delete", "&Delete", slots.delete_selection, [Key.Delete, "Backspace"],
         "Delete the selected nodes and connections")
    make("select_all", "Select &All", slots.select_all, [Key.SelectAll], "Select every node")

    make("zoom_in", "Zoom &In", view.zoom_in, [Key.ZoomIn, "Ctrl+="], "Zoom in")
    make("zoom_out", "Zoom &Out", view.zoom_out, [Key.ZoomOut], "Zoom out")
    make("zoom_reset", "&Actual Size", view.reset_zoom, ["Ctrl+0"], "Zoom to 100 %")
    fit = make("zoom_fit", "&Fit to View", view.fit, ["F"], "Show the whole graph")
    fit.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    view.addAction(fit)
    make("auto_layout", "Auto &Layout", document.auto_layout, ["Ctrl+L"],
         "Arrange nodes left to right by topological generation")
    make("about", "&About Backprop Studio", slots.about, (), "About this app")

    menus = _build_menus(window, slots, actions, docks)
    tools = QToolBar("Main", window)
    tools.setObjectName("MainToolBar")
    tools.setIconSize(QSize(18, 18))
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tools.setMovable(False)
    tools.addActions([actions["new"], actions["open"], actions["save"]])
    tools.addSeparator()
    stack = document.undo_stack
    tools.addActions([_fixed_text(window, undo, "Undo", stack.undoTextChanged, stack.undo),
                      _fixed_text(window, redo, "Redo", stack.redoTextChanged, stack.redo)])
    tools.addSeparator()
    tools.addActions([actions["zoom_in"], actions["zoom_out"], actions["zoom_fit"], actions["auto_layout"]])
    window.addToolBar(tools)
    return actions, menus, tools


def _build_menus(window: QMainWindow, slots: EditorSlots, actions: dict[str, QAction],
                 docks: list[QDockWidget]) -> Menus:
    """Every menu of the bar, in order; Run, Train, Labs and Concepts start empty (their parts fill them)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([actions["new"], actions["new_window"], actions["open"]])
    recent_menu = file_menu.addMenu("Open &Recent")
    recent_menu.aboutToShow.connect(slots.refresh_recent)
    file_menu.addSeparator()
    file_menu.addActions([actions["save"], actions["save_as"]])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])

    edit = bar.addMenu("&Edit")
    edit.addActions([actions["undo"], actions["redo"]])
    edit.addSeparator()
    edit.addActions([actions[k] for k in ("cut", "copy", "paste", "duplicate", "delete")])
    edit.addSeparator()
    edit.addAction(actions["select_all"])

    view_menu = bar.addMenu("&View")
    view_menu.addActions([actions[k] for k in ("zoom_in", "zoom_out", "zoom_reset", "zoom_fit")])
    view_menu.addSeparator()
    view_menu.addAction(actions["auto_layout"])
    view_menu.addSeparator()
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())

    examples = bar.addMenu("E&xamples")
    _fill_examples(slots, examples)
    run_menu = bar.addMenu("&Run")
    run_menu.setObjectName("RunMenu")
    train_menu = bar.addMenu("&Train")
    train_menu.setObjectName("trainMenu")
    labs_menu = bar.addMenu("&Labs")
    labs_menu.setObjectName("labsMenu")
    concepts_menu = bar.addMenu("&Concepts")
    concepts_menu.setObjectName("conceptsMenu")
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions["about"])
    return Menus(file=file_menu, recent=recent_menu, edit=edit, view=view_menu, examples=examples,
                 run=run_menu, train=train_menu, concepts=concepts_menu, labs=labs_menu, help=help_menu)


def _fixed_text(window, action: QAction, text: str, text_changed, slot) -> QAction:
    """A toolbar twin of an undo/redo action whose label stays short ("Undo", not
    "Undo Move 3 nodes"), so the toolbar does not jump; the tooltip names the step.

    The twin is enabled exactly when ``action`` is: the stack's own state, and whatever
    disables the action (the edit lock while training runs; it once left the toolbar's
    Undo working mid-run)."""
    twin = QAction(action.icon(), text, window)
    twin.setEnabled(action.isEnabled())
    twin.setToolTip(text)
    # bound slots of the twin: Qt drops these connections when the window is destroyed
    action.enabledChanged.connect(twin.setEnabled)
    text_changed.connect(twin.setToolTip)
    twin.triggered.connect(slot)
    return twin


def _fill_examples(slots: EditorSlots, menu: QMenu) -> None:
    for name in templates.names():
        action = menu.addAction(name.replace("_", " "), lambda n=name: slots.open_template(n))
        action.setStatusTip(templates.describe(name))
        action.setToolTip(templates.describe(name))
        action.setObjectName(f"example_{name}")
