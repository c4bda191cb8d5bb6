"""File ▸ Export and File ▸ Import ONNX in the editor (pytest-qt, offscreen)."""
from __future__ import annotations

import numpy as np
import pytest

from gui_helpers import studio_home, window  # noqa: F401
from graph import Engine
from app.exchange_menu import ExportDialog

pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")


def test_file_menu_has_export_and_import_above_quit(window):
    texts = [a.text() for a in window.menus.file.actions()]
    assert texts.index("&Export…") < texts.index("&Import ONNX…") < texts.index("&Quit")
    assert window.action_set["export"].shortcut().toString() == "Ctrl+E"


def test_export_dialog_suggests_a_path_per_format(qtbot, tmp_path):
    dialog = ExportDialog("simple_convnet", str(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.values() == ("pytorch", str(tmp_path / "simple_convnet-pytorch"))
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("onnx"))
    assert dialog.values() == ("onnx", str(tmp_path / "simple_convnet.onnx"))


def test_export_menu_writes_onnx_and_pytorch_without_touching_the_document(window, tmp_path, monkeypatch):
    window.open_template("simple_convnet", ask=False)
    before = window.document.undo_stack.count()
    onnx_path = tmp_path / "net.onnx"
    monkeypatch.setattr(window.exchange, "ask_export", lambda: ("onnx", str(onnx_path)))
    window.action_set["export"].trigger()
    assert onnx_path.is_file()
    monkeypatch.setattr(window.exchange, "ask_export", lambda: ("pytorch", str(tmp_path / "pt")))
    window.action_set["export"].trigger()
    assert (tmp_path / "pt" / "model.py").is_file() and (tmp_path / "pt" / "train.py").is_file()
    assert any("model.py" in text for _, text in window.log.entries)
    assert window.document.undo_stack.count() == before and not window.document.is_modified


def test_import_onnx_opens_a_graph_that_runs_and_steps(window, tmp_path):
    window.open_template("two_layer_net", ask=False)
    path = tmp_path / "mlp.onnx"
    assert window.exchange.export_to("onnx", str(path))
    window.open_template("apple", ask=False)
    assert window.exchange.import_path(str(path))
    g = window.document.graph
    assert {"affine1", "relu1", "affine2", "loss", "t"} <= set(g.nodes())
    assert window.document.name == "mlp" and window.document.is_modified
    assert len(window.scene.items()) > 0
    feeds = {"x": np.random.default_rng(0).random((2, 784)), "t": np.array([1, 2])}
    events = list(Engine(g).steps(feeds))
    assert [e.phase for e in events].count("forward") == len(g)
    assert {e.node for e in events if e.phase == "backward"} >= {"loss", "affine2", "relu1", "affine1"}


def test_import_of_a_corrupt_file_is_one_error_and_keeps_the_document(window, tmp_path):
    window.open_template("apple", ask=False)
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx model at all")
    assert not window.exchange.import_path(str(bad))
    level, text = window.log.entries[-1]
    assert level == "error" and "broken.onnx" in text and "\n" not in text
    assert "mul_tax" in window.document.graph.nodes()


def test_pytorch_export_uses_the_training_dock_settings(window, tmp_path):
    window.open_template("toy_mlp", ask=False)
    settings = window.training.settings
    assert settings.load("circle")
    settings.epochs.setValue(7)
    assert window.exchange.export_to("pytorch", str(tmp_path / "toy"))
    text = (tmp_path / "toy" / "train.py").read_text()
    assert "'epochs': 7," in text and "'name': 'circle'" in text
    assert (tmp_path / "toy" / "data" / "dataset.npz").is_file()
