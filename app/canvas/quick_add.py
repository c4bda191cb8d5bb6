"""The searchable quick-add popup opened with Tab or a right-click on the canvas."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from ..palette import catalog, matches, op_tooltip
from ..style import op_icon

TYPE_ROLE = Qt.ItemDataRole.UserRole


def match_rank(type_name: str, text: str) -> int:
    """How well ``text`` names ``type_name``: 0 exact, 1 prefix, 2 inside the name, 3 other.

    The best-ranked entry is the one Enter adds, so "Mul" adds Mul (not MatMul) and
    "flat" adds Flatten (not Affine, whose description mentions flattening).
    """
    name, text = type_name.lower(), text.strip().lower()
    if name == text:
        return 0
    if name.startswith(text):
        return 1
    return 2 if text in name else 3


class QuickAddPopup(QFrame):
    """Type to filter, Up/Down to choose, Enter (or a click) to add, Esc to close."""

    chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QuickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit(placeholderText="Add node…")
        self.list = QListWidget()
        self.list.setIconSize(QSize(18, 18))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for type_name, category in catalog():
            item = QListWidgetItem(op_icon(type_name, category), f"{type_name}   ·  {category}")
            item.setData(TYPE_ROLE, type_name)
            item.setToolTip(op_tooltip(type_name))
            self.list.addItem(item)
        # wide enough for the longest entry ("SoftmaxCrossEntropy · losses") and a scroll bar
        widest = self.list.sizeHintForColumn(0) + self.list.verticalScrollBar().sizeHint().width()
        self.resize(max(240, widest + 24), 320)
        self.search.textChanged.connect(self.apply_filter)
        self.search.returnPressed.connect(self.accept_current)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(lambda _item: self.accept_current())
        self.list.itemClicked.connect(lambda _item: self.accept_current())
        self.apply_filter("")

    def visible_types(self) -> list[str]:
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def apply_filter(self, text: str) -> None:
        best, best_rank = None, None
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = item.data(TYPE_ROLE)
            ok = matches(name, item.text().rsplit("·", 1)[-1].strip(), text)
            item.setHidden(not ok)
            rank = match_rank(name, text)
            if ok and (best_rank is None or rank < best_rank):
                best, best_rank = item, rank
        self.list.setCurrentItem(best)

    def popup_at(self, global_pos: QPoint) -> None:
        """Show with the top-left corner at ``global_pos``, kept inside its screen
        (opening above or left of the cursor near the bottom or right edge)."""
        screen = QGuiApplication.screenAt(global_pos) or self.screen()
        area = screen.availableGeometry()
        x, y = global_pos.x(), global_pos.y()
        if x + self.width() > area.right():
            x = max(area.left(), x - self.width())
        if y + self.height() > area.bottom():
            y = max(area.top(), y - self.height())
        self.move(x, y)
        self.show()

    def accept_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            type_name = item.data(TYPE_ROLE)
            self.close()
            self.chosen.emit(type_name)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(obj, event)

    def _step(self, direction: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        pos = rows.index(current) if current in rows else -1
        self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, pos + direction))])
