"""Menus, toolbar and shortcuts of the editor window."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar, QWidget

Key = QKeySequence.StandardKey


class ActionMap(dict):
    """The window's actions by name; calling it is ``QWidget.actions()`` as usual."""

    def __init__(self, window) -> None:
        super().__init__()
        self._window = window

    def __call__(self) -> list:
        return QWidget.actions(self._window)


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


def build_actions(window):
    """Create every action on ``window``; returns ``(actions, run_menu, recent_menu)``."""
    doc = window.document
    view = window.view
    icons = window.style()
    actions = ActionMap(window)

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
    make("new", "&New", window.new_document, [Key.New], "Start an empty graph", sp.SP_FileIcon)
    make("new_window", "New &Window", window.new_window, ["Ctrl+Shift+N"], "Open another editor window")
    make("open", "&Open…", window.open_dialog, [Key.Open], "Open a graph file", sp.SP_DialogOpenButton)
    make("save", "&Save", window.save, [Key.Save], "Save the graph", sp.SP_DialogSaveButton)
    make("save_as", "Save &As…", window.save_as, [Key.SaveAs, "Ctrl+Shift+S"], "Save under a new name")
    make("quit", "&Quit", window.close, [Key.Quit, "Ctrl+Q"], "Close the window")

    undo = doc.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcuts(key_sequences(Key.Undo))
    undo.setIcon(icons.standardIcon(sp.SP_ArrowBack))
    redo = doc.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts(key_sequences(Key.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
    redo.setIcon(icons.standardIcon(sp.SP_ArrowForward))
    actions["undo"], actions["redo"] = undo, redo
    make("cut", "Cu&t", window.cut_selection, [Key.Cut], "Cut the selected nodes")
    make("copy", "&Copy", window.copy_selection, [Key.Copy], "Copy the selected nodes")
    make("paste", "&Paste", window.paste, [Key.Paste], "Paste nodes")
    make("duplicate", "D&uplicate", window.duplicate_selection, ["Ctrl+D"], "Duplicate the selected nodes")
    make("delete", "&Delete", window.delete_selection, [Key.Delete, "Backspace"],
         "Delete the selected nodes and connections")
    make("select_all", "Select &All", window.select_all, [Key.SelectAll], "Select every node")

    make("zoom_in", "Zoom &In", view.zoom_in, [Key.ZoomIn, "Ctrl+="], "Zoom in")
    make("zoom_out", "Zoom &Out", view.zoom_out, [Key.ZoomOut], "Zoom out")
    make("zoom_reset", "&Actual Size", view.reset_zoom, ["Ctrl+0"], "Zoom to 100 %")
    fit = make("zoom_fit", "&Fit to View", view.fit, ["F"], "Show the whole graph")
    fit.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    view.addAction(fit)
    make("auto_layout", "Auto &Layout", doc.auto_layout, ["Ctrl+L"],
         "Arrange nodes left to right by topological generation")
    make("about", "&About Backprop Studio", window.about, (), "About this app")

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([actions["new"], actions["new_window"], actions["open"]])
    recent_menu = file_menu.addMenu("Open &Recent")
    file_menu.addSeparator()
    file_menu.addActions([actions["save"], actions["save_as"]])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])

    edit = bar.addMenu("&Edit")
    edit.addActions([undo, redo])
    edit.addSeparator()
    edit.addActions([actions[k] for k in ("cut", "copy", "paste", "duplicate", "delete")])
    edit.addSeparator()
    edit.addAction(actions["select_all"])

    view_menu = bar.addMenu("&View")
    view_menu.addActions([actions[k] for k in ("zoom_in", "zoom_out", "zoom_reset", "zoom_fit")])
    view_menu.addSeparator()
    view_menu.addAction(actions["auto_layout"])
    view_menu.addSeparator()
    for dock in (window.palette_dock, window.inspector_dock, window.log_dock):
        view_menu.addAction(dock.toggleViewAction())

    examples = bar.addMenu("E&xamples")
    _fill_examples(window, examples)
    run_menu = bar.addMenu("&Run")
    run_menu.setObjectName("RunMenu")
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions["about"])

    tools = QToolBar("Main", window)
    tools.setObjectName("MainToolBar")
    tools.setIconSize(QSize(18, 18))
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tools.setMovable(False)
    tools.addActions([actions["new"], actions["open"], actions["save"]])
    tools.addSeparator()
    stack = doc.undo_stack
    tools.addActions([_fixed_text(window, undo, "Undo", stack.canUndoChanged, stack.undoTextChanged, stack.undo),
                      _fixed_text(window, redo, "Redo", stack.canRedoChanged, stack.redoTextChanged, stack.redo)])
    tools.addSeparator()
    tools.addActions([actions["zoom_in"], actions["zoom_out"], actions["zoom_fit"], actions["auto_layout"]])
    window.addToolBar(tools)
    window.main_toolbar = tools
    window.examples_menu = examples
    recent_menu.aboutToShow.connect(window._refresh_recent)
    return actions, run_menu, recent_menu


def _fixed_text(window, action: QAction, text: str, can_changed, text_changed, slot) -> QAction:
    """A toolbar twin of an undo/redo action whose label stays short ("Undo", not
    "Undo Move 3 nodes"), so the toolbar does not jump; the tooltip names the step."""
    twin = QAction(action.icon(), text, window)
    twin.setEnabled(action.isEnabled())
    twin.setToolTip(text)
    # bound slots of the twin: Qt drops these connections when the window is destroyed
    can_changed.connect(twin.setEnabled)
    text_changed.connect(twin.setToolTip)
    twin.triggered.connect(slot)
    return twin


def _fill_examples(window, menu) -> None:
    try:
        from graph import templates  # noqa: PLC0415
    except ImportError as exc:
        menu.addAction(f"(examples unavailable: {exc})").setEnabled(False)
        return
    for name in templates.names():
        action = menu.addAction(name.replace("_", " "), lambda n=name: window.open_template(n))
        action.setStatusTip(templates.describe(name))
        action.setToolTip(templates.describe(name))
        action.setObjectName(f"example_{name}")
