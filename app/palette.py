"""The node palette: op types grouped by category, with icons, search and tooltips.

Types come from the op registry, so ops added later appear without changes here.
Dragging an entry carries :data:`app.clipboard.OP_MIME`; double-clicking asks the
window to add the type at the centre of the view.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from layers import get_op_class, op_types
from layers.base import CATEGORIES

from .clipboard import OP_MIME, op_mime
from .style import CATEGORY_TITLES, op_icon

TYPE_ROLE = Qt.ItemDataRole.UserRole


def op_tooltip(type_name: str) -> str:
    """What the op computes, its ports and its local-derivative rule (plain text)."""
    cls = get_op_class(type_name)
    lines = [f"{type_name} ({cls.category})", cls.doc or (cls.__doc__ or "").strip().split("\n")[0]]
    ins = ", ".join(cls.inputs) if cls.inputs else "none"
    lines.append(f"inputs: {ins}    outputs: {', '.join(cls.outputs)}")
    if cls.param_spec:
        lines.append("parameters: " + ", ".join(s.name for s in cls.param_spec))
    if cls.learnable:
        lines.append("learnable: " + ", ".join(cls.learnable))
    if cls.rule:
        lines.append(f"backward: {cls.rule}")
    return "\n".join(lines)


def catalog() -> list[tuple[str, str]]:
    """``(type name, category)`` for every registered op, in palette order."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    entries = [(t, get_op_class(t).category) for t in op_types()]
    return sorted(entries, key=lambda e: order.get(e[1], len(order)))


def matches(type_name: str, category: str, text: str) -> bool:
    """Case-insensitive match on the type name, category, or the op's doc line."""
    text = text.strip().lower()
    if not text:
        return True
    doc = (get_op_class(type_name).doc or "").lower()
    return text in type_name.lower() or text in category.lower() or text in doc


class _OpTree(QTreeWidget):
    """A tree whose drags carry op type names."""

    def mimeData(self, items):
        names = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return op_mime(names[0]) if names else None

    def mimeTypes(self):
        return [OP_MIME]


class PaletteWidget(QWidget):
    """Search box above a category tree of op types."""

    add_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _OpTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(22, 22))
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.apply_filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.populate()

    def populate(self) -> None:
        """(Re)build the tree from the registry."""
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for type_name, category in catalog():
            group = groups.get(category)
            if group is None:
                group = QTreeWidgetItem([CATEGORY_TITLES.get(category, category.title())])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                groups[category] = group
            item = QTreeWidgetItem(group, [type_name])
            item.setIcon(0, op_icon(type_name, category))
            item.setData(0, TYPE_ROLE, type_name)
            item.setToolTip(0, op_tooltip(type_name))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()
        self.apply_filter(self.search.text())

    def preferred_width(self) -> int:
        """Width that shows the longest type name unelided ("SoftmaxCrossEntropy")."""
        margins = self.layout().contentsMargins()
        return (self.tree.sizeHintForColumn(0) + self.tree.verticalScrollBar().sizeHint().width()
                + margins.left() + margins.right() + 2 * self.tree.frameWidth() + 12)

    def item_for(self, type_name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, TYPE_ROLE) == type_name:
                    return group.child(j)
        return None

    def visible_types(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            out += [group.child(j).data(0, TYPE_ROLE) for j in range(group.childCount())
                    if not group.child(j).isHidden()]
        return out

    def apply_filter(self, text: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                name = child.data(0, TYPE_ROLE)
                ok = matches(name, get_op_class(name).category, text)
                child.setHidden(not ok)
                shown += ok
            group.setHidden(shown == 0)

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)
