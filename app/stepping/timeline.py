"""The timeline dock: every recorded event in order; a click jumps to that moment."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..style import GRAD_COLOR, VALUE_COLOR
from .controller import StepController

START_TEXT = "start · nothing computed"
EMPTY_TEXT = "Not run yet: Step (F10) or Play (F5) records a run."


class TimelineDock(QtWidgets.QDockWidget):
    """Lists ``"forward · mul_apple"``, ``"backward · tax"``...; the current moment is
    selected. Row 0 is the start (moment ``-1``); row ``k + 1`` is event ``k``."""

    def __init__(self, controller: StepController, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Timeline", parent)
        self.setObjectName("timeline_dock")
        self.controller = controller
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("timeline_list")
        self.list.setUniformItemSizes(True)
        self.list.setToolTip("Every step of the run; click one to jump there")
        self.list.currentRowChanged.connect(self._row_clicked)
        self.setWidget(self.list)
        controller.run_changed.connect(self.rebuild)
        controller.state_changed.connect(self.show_moment)
        self.rebuild()

    def rebuild(self) -> None:
        """Refill the list from the controller's recorded run."""
        c = self.controller
        with QtCore.QSignalBlocker(self.list):
            self.list.clear()
            if not c.count:
                item = QtWidgets.QListWidgetItem(EMPTY_TEXT)
                item.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
                self.list.addItem(item)
                return
            self.list.addItem(START_TEXT)
            fwd, bwd = QtGui.QColor(VALUE_COLOR), QtGui.QColor(GRAD_COLOR)
            for k, label in enumerate(c.replay.event_labels()):
                item = QtWidgets.QListWidgetItem(f"{k + 1:>3}. {label}")
                item.setForeground(fwd if c.events[k].phase == "forward" else bwd)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, k)
                self.list.addItem(item)
        self.show_moment(c.index)

    def show_moment(self, k: int) -> None:
        """Highlight moment ``k`` without jumping."""
        if not self.controller.count:
            if self.labels() != [EMPTY_TEXT]:
                self.rebuild()
            return
        with QtCore.QSignalBlocker(self.list):
            self.list.setCurrentRow(k + 1)
        item = self.list.item(k + 1)
        if item is not None:
            self.list.scrollToItem(item)

    def _row_clicked(self, row: int) -> None:
        if row >= 0 and self.controller.count:
            self.controller.jump(row - 1)

    def labels(self) -> list[str]:
        """The texts shown, in order (for tests and the screenshot)."""
        return [self.list.item(i).text() for i in range(self.list.count())]
