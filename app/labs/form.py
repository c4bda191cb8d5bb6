"""A settings form generated from a lab's settings dataclass (book defaults filled in)."""
from __future__ import annotations

from PySide6 import QtWidgets

from graph.training.labs.base import LabError


class SettingsForm(QtWidgets.QWidget):
    """One row per field: a combo for choices, a check box for flags, a line edit otherwise.

    Optional fields (``None`` = the lab picks, e.g. the race course's learning rate) show
    "auto" as placeholder. :meth:`values` returns the text of each field; the lab's own
    ``from_dict`` parses and checks it, so the form and the CLI accept the same input.
    """

    def __init__(self, settings_cls, skip: tuple = (), parent=None) -> None:
        super().__init__(parent)
        self.settings_cls = settings_cls
        self.fields = [f for f in settings_cls.describe_fields() if f["name"] not in skip]
        self.editors: dict[str, QtWidgets.QWidget] = {}
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for f in self.fields:
            editor = self._editor(f)
            editor.setObjectName(f"lab_{f['name']}")
            editor.setToolTip(f["help"])
            self.editors[f["name"]] = editor
            form.addRow(f["label"] or f["name"].replace("_", " "), editor)

    def _editor(self, f: dict) -> QtWidgets.QWidget:
        if f["type"] == "bool":
            box = QtWidgets.QCheckBox()
            box.setChecked(bool(f["default"]))
            return box
        if f["choices"]:
            combo = QtWidgets.QComboBox()
            combo.addItems(list(f["choices"]))
            combo.setCurrentText(str(f["default"]))
            return combo
        edit = QtWidgets.QLineEdit("" if f["default"] is None else _text(f["default"]))
        if f["optional"]:
            edit.setPlaceholderText("auto")
        return edit

    def values(self) -> dict:
        out = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QtWidgets.QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QtWidgets.QComboBox):
                out[name] = editor.currentText()
            else:
                out[name] = editor.text().strip() or None
        return out

    def set_value(self, name: str, value) -> None:
        editor = self.editors[name]
        if isinstance(editor, QtWidgets.QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QtWidgets.QComboBox):
            editor.setCurrentText(str(value))
        else:
            editor.setText("" if value is None else _text(value))

    def settings(self):
        """The parsed settings; raises :class:`LabError` with a message for the user."""
        values = {k: v for k, v in self.values().items() if v is not None}
        s = self.settings_cls.from_dict(values)
        s.validate()
        return s

    def set_enabled(self, enabled: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(enabled)


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


__all__ = ["LabError", "SettingsForm"]
