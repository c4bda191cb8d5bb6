"""The Training dock's widget: the settings form, the run buttons, progress and status.

:class:`app.training.dock.TrainingPanel` drives it; this module only lays it out.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .settings import TrainingSettings

LOCK_REASON = "Editing is locked while training runs — Stop to edit"
NO_RUN_STATUS = "Choose a dataset and press Start."
STATUS_LINES = 4


class TrainingDock(QtWidgets.QDockWidget):
    """Settings, run buttons and progress."""

    def __init__(self, parent=None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("TrainingDock")
        self.setMinimumWidth(330)
        body = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        self.banner = QtWidgets.QLabel(LOCK_REASON)
        self.banner.setObjectName("trainingLockBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fff3cd; color:#7a5a00; border:1px solid #e0c36a; "
                                  "border-radius:3px; padding:4px;")
        self.banner.hide()
        self.settings = TrainingSettings()
        # the lock banner heads the form it explains, in its scroll area: above it, it grew the
        # dock's minimum as a run started (the window outgrew a 720p screen in presentation mode)
        form = QtWidgets.QWidget()
        form_lay = QtWidgets.QVBoxLayout(form)
        form_lay.setContentsMargins(0, 0, 0, 0)
        form_lay.addWidget(self.banner)
        form_lay.addWidget(self.settings)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # a form wider than the dock (presentation mode) must not take the banner's words
        # past the visible edge: the banner wraps at the viewport's width
        scroll.viewport().installEventFilter(self)
        self._viewport = scroll.viewport()
        self.form_scroll = scroll
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setToolTip("Train from freshly initialised weights (seeded)")
        self.continue_button = QtWidgets.QPushButton("Continue training")
        self.continue_button.setToolTip("Train on from the graph's current (trained or loaded) weights")
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.resume_button = QtWidgets.QPushButton("Resume")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the best weights so far are kept")
        grid = QtWidgets.QGridLayout()
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.continue_button, 0, 1, 1, 2)
        grid.addWidget(self.pause_button, 1, 0)
        grid.addWidget(self.resume_button, 1, 1)
        grid.addWidget(self.stop_button, 1, 2)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status = QtWidgets.QLabel(NO_RUN_STATUS)
        self.status.setWordWrap(True)
        # room for a few lines up front, so the buttons above do not jump as the text changes
        self.status.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing() * STATUS_LINES + 4)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(scroll, 1)
        lay.addLayout(grid)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        self.setWidget(body)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if obj is self._viewport and event.type() == QtCore.QEvent.Type.Resize:
            self.banner.setMaximumWidth(max(event.size().width(), 1))
        return super().eventFilter(obj, event)

    def show_lock(self, locked: bool) -> None:
        """Show or hide the lock banner; shown, the form scrolls back to it (the buttons that
        start a run sit outside the scroll area, so the form may be scrolled anywhere)."""
        self.banner.setVisible(locked)
        if locked:
            self.form_scroll.verticalScrollBar().setValue(0)
