"""The run toolbar and its actions: Run forward, Run backward, Step, Step back, Play/Pause,
a speed slider and Reset, each with a shortcut and a tooltip naming it."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .controller import MAX_SPEED, MIN_SPEED, StepController

SP = QtWidgets.QStyle.StandardPixmap

# (attribute, text, shortcut, standard icon, tooltip)
ACTIONS = (
    ("run_forward", "Run forward", "F8", SP.SP_MediaSeekForward,
     "Compute every node's value (jump to the end of the forward pass)"),
    ("run_backward", "Run backward", "Shift+F8", SP.SP_MediaSkipForward,
     "Backpropagate to every node (jump to the end of the backward pass)"),
    ("step_back", "Step back", "Shift+F10", SP.SP_ArrowBack,
     "Show the previous event again, exactly as it was"),
    ("step", "Step", "F10", SP.SP_ArrowForward, "Run the next event: one node, forward or backward"),
    ("play", "Play", "F5", SP.SP_MediaPlay, "Play the events one after another; again to pause"),
    ("reset", "Reset", "Shift+F5", SP.SP_BrowserReload, "Back to the start: nothing computed"),
)

SLIDER_STEPS_PER_UNIT = 2


class StepActions(QtCore.QObject):
    """The stepping actions, wired to a :class:`StepController`.

    Attributes ``run_forward``, ``run_backward``, ``step``, ``step_back``, ``play`` and
    ``reset`` are ``QAction`` objects; ``speed`` is the speed slider once
    :meth:`make_toolbar` has built it.
    """

    def __init__(self, controller: StepController, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.controller = controller
        style = parent.style()
        self.actions: list[QtGui.QAction] = []
        for name, text, key, icon, tip in ACTIONS:
            act = QtGui.QAction(style.standardIcon(icon), text, parent)
            act.setShortcut(QtGui.QKeySequence(key))
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            act.setToolTip(f"{text} ({key}): {tip}")
            act.setStatusTip(tip)
            setattr(self, name, act)
            self.actions.append(act)
        self._play_icon = style.standardIcon(SP.SP_MediaPlay)
        self._pause_icon = style.standardIcon(SP.SP_MediaPause)
        self.run_forward.triggered.connect(controller.run_forward)
        self.run_backward.triggered.connect(controller.run_backward)
        self.step.triggered.connect(controller.step)
        self.step_back.triggered.connect(controller.step_back)
        self.play.triggered.connect(controller.toggle_play)
        self.reset.triggered.connect(controller.reset)
        controller.playing_changed.connect(self._show_playing)
        controller.state_changed.connect(self._update_enabled)
        controller.run_changed.connect(self._update_enabled)
        self.speed: QtWidgets.QSlider | None = None
        self.speed_label: QtWidgets.QLabel | None = None
        self.position_label: QtWidgets.QLabel | None = None
        self._update_enabled()

    def _show_playing(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")
        self.play.setIcon(self._pause_icon if playing else self._play_icon)

    def _update_enabled(self, *_args) -> None:
        c = self.controller
        self.step_back.setEnabled(c.index >= 0)
        if self.position_label is not None:
            total = c.count
            ev = c.current_event()
            where = f"{ev.phase} · {ev.node}" if ev else "not run"
            self.position_label.setText(f" {c.index + 1}/{total} {where} " if total else " not run ")

    def make_toolbar(self, parent: QtWidgets.QWidget) -> QtWidgets.QToolBar:
        """A toolbar with every action, the speed slider and the position read-out."""
        bar = QtWidgets.QToolBar("Run", parent)
        bar.setObjectName("step_toolbar")
        bar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in self.actions:
            bar.addAction(act)
        bar.addSeparator()
        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.speed.setObjectName("step_speed")
        self.speed.setRange(int(MIN_SPEED * SLIDER_STEPS_PER_UNIT), int(MAX_SPEED * SLIDER_STEPS_PER_UNIT))
        self.speed.setValue(int(self.controller.speed * SLIDER_STEPS_PER_UNIT))
        self.speed.setFixedWidth(110)
        self.speed.setToolTip("Play speed: events per second")
        self.speed.valueChanged.connect(self._speed_changed)
        self.speed_label = QtWidgets.QLabel()
        bar.addWidget(QtWidgets.QLabel(" Speed "))
        bar.addWidget(self.speed)
        bar.addWidget(self.speed_label)
        self.position_label = QtWidgets.QLabel()
        self.position_label.setObjectName("step_position")
        bar.addSeparator()
        bar.addWidget(self.position_label)
        self._speed_changed(self.speed.value())
        self._update_enabled()
        return bar

    def _speed_changed(self, value: int) -> None:
        self.controller.set_speed(value / SLIDER_STEPS_PER_UNIT)
        if self.speed_label is not None:
            self.speed_label.setText(f" {self.controller.speed:g} ev/s")
