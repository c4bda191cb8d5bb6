"""``build_training(parts)``: the Training docks, the Train menu's actions, toolbar actions and
the edit lock, attached to the editor described by an :class:`app.editor_parts.EditorParts`.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .. import wheel_guard
from ..editor_parts import EditorParts
from .dock import TrainingPanel
from .dock_widget import TrainingDock
from .outcome import default_dataset
from .views_dock import TrainingViewsDock


class _CanvasGuard(QtCore.QObject):
    """Event filter letting the user look at the canvas (wheel zoom, middle-button pan, F)
    but not change it (no selecting, dragging, wiring, drops, quick-add or renaming)."""

    VIEW_KEYS = {QtCore.Qt.Key.Key_F, QtCore.Qt.Key.Key_Plus, QtCore.Qt.Key.Key_Minus, QtCore.Qt.Key.Key_Equal}
    MOUSE = {QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease,
             QtCore.QEvent.Type.MouseButtonDblClick, QtCore.QEvent.Type.MouseMove}
    BLOCK = {QtCore.QEvent.Type.ContextMenu, QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.DragMove,
             QtCore.QEvent.Type.Drop}

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        t = event.type()
        if t in self.BLOCK:
            return True
        if t in self.MOUSE:
            if t == QtCore.QEvent.Type.MouseMove:
                # hovering and middle-button panning pass; left/right drags do not
                return bool(event.buttons() & (QtCore.Qt.MouseButton.LeftButton | QtCore.Qt.MouseButton.RightButton))
            return event.button() != QtCore.Qt.MouseButton.MiddleButton
        if t == QtCore.QEvent.Type.KeyPress:
            return event.key() not in self.VIEW_KEYS
        return False


class EditLock:
    """Locks the editor while a run is active and shows why.

    It filters the canvas's input (looking stays possible, editing does not), disables the
    palette, the inspector and the edit/file actions (undo, redo, cut, paste, duplicate,
    delete, auto layout, new, open, examples, recent files), shows a banner over the
    canvas and in the status bar, and has the wheel guard watch fields one by one.
    """

    ACTION_NAMES = ("undo", "redo", "cut", "paste", "duplicate", "delete", "auto_layout", "new", "open")

    def __init__(self, parts: EditorParts) -> None:
        self.parts = parts
        self.locked = False
        self._disabled: list = []
        self._was_enabled: dict = {}
        self._guard = _CanvasGuard()
        self.banner = QtWidgets.QLabel(parts.view)
        self.banner.setObjectName("canvasLockBanner")
        self.banner.setStyleSheet("background: rgba(255, 243, 205, 235); color: #7a5a00; "
                                  "border: 1px solid #e0c36a; border-radius: 4px; padding: 4px 10px;")
        self.banner.hide()

    def __call__(self, locked: bool, reason: str) -> None:
        if locked == self.locked:
            return
        self.locked = locked
        self._apply(locked)
        self.banner.setText(reason)
        self.banner.adjustSize()
        self.banner.move(12, 8)
        self.banner.setVisible(locked)
        self.banner.raise_()
        if locked:
            self.parts.window.statusBar().showMessage(reason)
        else:
            self.parts.window.statusBar().clearMessage()

    def _targets(self) -> tuple[list, list]:
        p = self.parts
        acts = [p.action_set[k] for k in self.ACTION_NAMES]
        acts += [p.menus.examples.menuAction(), p.menus.recent.menuAction()]
        return acts, [p.palette_dock, p.inspector_dock]

    def _apply(self, locked: bool) -> None:
        view, stack, action_set = self.parts.view, self.parts.document.undo_stack, self.parts.action_set
        acts, widgets = self._targets()
        if locked:
            wheel_guard.suspend()   # per field while training runs (see app.wheel_guard)
            view.installEventFilter(self._guard)
            view.viewport().installEventFilter(self._guard)
            # every target, enabled or not: an action disabled now (Undo on an empty stack)
            # is enabled by its stack when a step is pushed during the run
            self._was_enabled = {x: x.isEnabled() for x in acts + widgets}
            self._disabled = acts + widgets
            for x in self._disabled:
                x.setEnabled(False)
            # the stack re-enables its own undo/redo actions whenever its state changes
            # (after the stack's own connections, which enable its actions on these signals)
            for signal in (stack.indexChanged, stack.canUndoChanged, stack.canRedoChanged):
                signal.connect(self._redisable)
        else:
            wheel_guard.restore()
            view.removeEventFilter(self._guard)
            view.viewport().removeEventFilter(self._guard)
            for signal in (stack.indexChanged, stack.canUndoChanged, stack.canRedoChanged):
                signal.disconnect(self._redisable)
            for x in self._disabled:
                x.setEnabled(self._was_enabled.get(x, True))
            self._disabled, self._was_enabled = [], {}
            # give undo/redo back the state the stack says they should have
            action_set["undo"].setEnabled(stack.canUndo())
            action_set["redo"].setEnabled(stack.canRedo())

    def _redisable(self, *_args) -> None:
        for x in self._disabled:
            x.setEnabled(False)


def build_training(parts: EditorParts) -> TrainingPanel:
    """Add the Training and Training views docks, the Train menu's actions and toolbar
    actions to the editor ``parts``; returns the :class:`TrainingPanel`."""
    window, inspector, log_dock = parts.window, parts.inspector_dock, parts.log_dock
    dock = TrainingDock(window)
    views = TrainingViewsDock(window)
    Area = QtCore.Qt.DockWidgetArea
    window.addDockWidget(Area.RightDockWidgetArea, dock)
    window.tabifyDockWidget(inspector, dock)
    inspector.raise_()
    window.addDockWidget(Area.BottomDockWidgetArea, views)
    window.splitDockWidget(log_dock, views, QtCore.Qt.Orientation.Horizontal)
    views.hide()
    lock = EditLock(parts)
    panel = TrainingPanel(parts.document, parts.log, dock, views, lock=lock, parent=window)

    menu = parts.menus.train
    train = QtGui.QAction("&Train…", window)
    train.setObjectName("actionTrain")
    train.setToolTip("Open the Training dock and start training the graph")
    train.setShortcut(QtGui.QKeySequence("Ctrl+T"))

    def show_docks() -> None:
        dock.show()
        dock.raise_()
        if views.isHidden():
            views.show()
            width, height = window.width(), window.height()
            if log_dock.isVisible():
                window.resizeDocks([log_dock, views], [int(width * 0.3), int(width * 0.7)],
                                   QtCore.Qt.Orientation.Horizontal)
            window.resizeDocks([views], [max(300, int(height * 0.42))], QtCore.Qt.Orientation.Vertical)

    def train_now() -> None:
        show_docks()
        if not panel.running:
            panel.start(fresh=True)

    train.triggered.connect(train_now)
    actions = {"train": train}
    for key, text, slot in (("continue", "&Continue training", lambda: panel.start(fresh=False)),
                            ("pause", "&Pause", panel.pause), ("resume", "&Resume", panel.resume),
                            ("stop", "&Stop", panel.stop)):
        act = QtGui.QAction(text, window)
        act.setObjectName(f"actionTrain{key.title()}")
        act.triggered.connect(slot)
        actions[key] = act
    menu.addAction(train)
    menu.addAction(actions["continue"])
    menu.addSeparator()
    for key in ("pause", "resume", "stop"):
        menu.addAction(actions[key])
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    menu.addAction(views.toggleViewAction())
    bar = parts.toolbar
    bar.addSeparator()
    bar.addAction(train)
    bar.addAction(actions["stop"])

    def sync_actions(*_args) -> None:
        running = panel.running
        paused = running and panel.run.paused
        train.setEnabled(not running)
        actions["continue"].setEnabled(dock.continue_button.isEnabled())
        actions["pause"].setEnabled(running and not paused)
        actions["resume"].setEnabled(paused)
        actions["stop"].setEnabled(running)

    for sig in (panel.run_started, panel.run_ended, panel.lock_changed, panel.buttons_changed):
        sig.connect(sync_actions)
    panel.run_started.connect(show_docks)
    sync_actions()
    panel.actions.update(actions)

    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)

    def first_show(visible: bool) -> None:
        # the dataset (a quarter of a second to decode) and the views' plots are made when
        # the dock is first shown, not with every window
        if visible and panel.settings.splits is None:
            panel.settings.load(default_dataset(panel.graph))
            views.ensure_built()

    dock.visibilityChanged.connect(first_show)
    return panel
