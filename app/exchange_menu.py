"""File ▸ Export… (PyTorch, NumPy or ONNX) and File ▸ Import ONNX…, thin over :mod:`graph.exchange`.

``build_exchange(parts)`` adds both actions to the File menu above Quit. Exports work on
a copy of the document's graph (the exporter initialises missing weights, and only undo
commands may change the document); an import replaces the document like File ▸ Open.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtWidgets
from PySide6.QtGui import QAction

from graph.exchange.common import ExchangeError
from graph.exchange.numpy_export import export_numpy
from graph.exchange.onnx_export import export_onnx
from graph.exchange.onnx_import import import_onnx
from graph.exchange.pytorch_train import export_pytorch
from graph.model.errors import GraphError

from .editor_parts import EditorParts

FORMATS = {"pytorch": "PyTorch: model.py, weights and train.py (folder)",
           "numpy": "NumPy: book-style layers, net.py and weights.npz (folder)",
           "onnx": "ONNX: one .onnx file (opset 17)"}


class ExportDialog(QtWidgets.QDialog):
    """Choose a format and where the export goes (a folder, or a file for ONNX)."""

    def __init__(self, name: str, start_dir: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.name, self.start_dir = name, start_dir
        self.format_box = QtWidgets.QComboBox()
        for key, text in FORMATS.items():
            self.format_box.addItem(text, key)
        self.path_edit = QtWidgets.QLineEdit()
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Save to", row)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.format_box.currentIndexChanged.connect(self._suggest)
        self._suggest()

    def fmt(self) -> str:
        return self.format_box.currentData()

    def values(self) -> tuple[str, str]:
        """``(format, path)`` as chosen."""
        return self.fmt(), self.path_edit.text().strip()

    def _suggest(self) -> None:
        """A default path next to the last folder used, named after the graph and format."""
        fmt = self.fmt()
        target = f"{self.name}.onnx" if fmt == "onnx" else f"{self.name}-{fmt}"
        self.path_edit.setText(str(Path(self.start_dir) / target))

    def _browse(self) -> None:
        if self.fmt() == "onnx":
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export ONNX", self.path_edit.text(),
                                                            "ONNX models (*.onnx)")
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Export into folder", self.start_dir)
        if path:
            self.path_edit.setText(path)


@dataclass
class ExchangeUI:
    """The two File menu actions and the commands behind them (tests call these directly).

    ``training`` is the training panel: its current settings (when it has a dataset
    loaded) are what the exported ``train.py`` uses, else the file's saved ones.
    """

    parts: EditorParts
    export_action: QAction
    import_action: QAction
    training: object = None

    def export_meta(self) -> dict:
        """The document's meta, with ``training`` from the Training dock's settings when set up."""
        meta = dict(self.parts.document.meta)
        settings = getattr(self.training, "settings", None)
        if settings is not None and settings.splits is not None:
            values = settings.values()
            meta["training"] = {"config": {k: v for k, v in values.items() if k != "dataset"},
                                "dataset": values["dataset"]}
        return meta

    @property
    def window(self):
        return self.parts.window

    def start_dir(self) -> str:
        """The open file's folder, else the home folder."""
        path = self.parts.document.file_path
        return str(Path(path).parent) if path else str(Path.home())

    def ask_export(self) -> tuple[str, str] | None:
        """The export dialog's ``(format, path)``, or ``None`` when cancelled or headless."""
        if self.window.headless():
            return None
        dialog = ExportDialog(self.parts.document.name, self.start_dir(), self.window)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return dialog.values()

    def export_dialog(self) -> bool:
        choice = self.ask_export()
        return self.export_to(*choice) if choice and choice[1] else False

    def export_to(self, fmt: str, path: str) -> bool:
        """Export the document's graph; the files written go to the Messages log."""
        doc = self.parts.document
        g, name = doc.graph.copy(), doc.name
        try:
            if fmt == "onnx":
                export_onnx(g, path, self.export_meta())
                lines = [f"{path}: ONNX opset 17"]
            elif fmt == "numpy":
                lines = export_numpy(g, path, name)
            else:
                lines = export_pytorch(g, path, self.export_meta(), name)
        except (ExchangeError, GraphError, OSError, ValueError) as exc:
            self.window.show_error("Export failed", f"Could not export to {path}: {exc}")
            return False
        for line in lines:
            self.parts.log.message(line, "success" if "not written" not in line else "warning")
        return True

    def import_dialog(self) -> bool:
        if not self.window.maybe_save() or self.window.headless():
            return False
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import ONNX", self.start_dir(),
                                                        "ONNX models (*.onnx);;All files (*)")
        return self.import_path(path) if path else False

    def import_path(self, path: str) -> bool:
        """Replace the document with the ONNX model at ``path`` (unsaved, named after it)."""

        try:
            g, meta = import_onnx(path)
        except (ExchangeError, GraphError, OSError) as exc:
            self.window.show_error("Import failed", str(exc))
            return False
        self.parts.document.reset(g, name=Path(path).stem, modified=True, meta=meta)
        self.parts.log.message(f"Imported {path}: {len(g)} nodes, {g.total_params():,} learnable parameters",
                               "success")
        self.parts.view.fit()
        return True


def build_exchange(parts: EditorParts, training=None) -> ExchangeUI:
    """Add File ▸ Export… and File ▸ Import ONNX… above Quit; ``training``: the training panel."""
    window = parts.window
    export = QAction("&Export…", window)
    export.setShortcut("Ctrl+E")
    export.setStatusTip("Export the graph as PyTorch code (with a multi-GPU train.py), NumPy code or ONNX")
    imp = QAction("&Import ONNX…", window)
    imp.setStatusTip("Open an ONNX model as a graph you can step through and train")
    ui = ExchangeUI(parts, export, imp, training)
    export.triggered.connect(lambda _checked=False: ui.export_dialog())
    imp.triggered.connect(lambda _checked=False: ui.import_dialog())
    quit_action = parts.action_set["quit"]
    parts.menus.file.insertActions(quit_action, [export, imp])
    parts.menus.file.insertSeparator(quit_action)
    parts.action_set["export"], parts.action_set["import_onnx"] = export, imp
    return ui
