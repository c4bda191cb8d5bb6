"""The editor keeps working after hostile graph files and damaged recovery files."""
from __future__ import annotations

import json

import pytest

from gui_helpers import make_window, studio_home, window  # noqa: F401

HOSTILE = {
    "deep.json": "[" * 50000 + "]" * 50000,
    "inf.json": '{"format": "backprop-studio-graph", "version": 1, "nodes": [{"id": "c", "type": "Constant", '
                '"params": {"value": Infinity}}], "edges": []}',
    "bigint.json": '{"format": "backprop-studio-graph", "version": 1, "nodes": [], "edges": [], "meta": {"a": '
                   + "7" * 5000 + "}}",
    "huge.json": json.dumps({"format": "backprop-studio-graph", "version": 1, "edges": [],
                             "nodes": [{"id": "x", "type": "Input", "params": {"shape": [None, 10 ** 18]}}]}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_open_path_shows_one_message_and_keeps_the_document(window, tmp_path, name):
    window.open_template("apple")
    before = sorted(window.document.graph.nodes())
    errors = []
    window.show_error = lambda title, text: errors.append(text)
    path = tmp_path / name
    path.write_text(HOSTILE[name])
    window.maybe_save = lambda: True
    assert not window.open_path(str(path))
    assert len(errors) == 1 and str(path) in errors[0] and "Traceback" not in errors[0]
    assert sorted(window.document.graph.nodes()) == before


def test_damaged_recovery_files_are_quarantined_and_the_next_one_offered(qtbot, studio_home):
    from graph import templates  # noqa: PLC0415
    from graph.model.fileformat import save_graph  # noqa: PLC0415

    folder = studio_home / "recovery"
    folder.mkdir(parents=True)
    good = folder / "999999998-1.recovery.json"
    save_graph(templates.build("apple"), good, meta={"recovery": {"name": 5, "file_path": ["x"]}})
    damaged = folder / "999999999-1.recovery.json"
    damaged.write_text("[" * 100000)
    import os  # noqa: PLC0415
    os.utime(good, (1, 1))                                     # the damaged one is newest
    window = make_window(qtbot)
    offered = []
    window.prompt_restore = lambda path, info: offered.append(info) or True
    assert window.offer_recovery()
    assert not damaged.exists() and len(list((folder / "damaged").iterdir())) == 1
    assert offered == [{}] and len(window.document.graph) > 0       # bad info fields ignored
    assert not window.offer_recovery()


def test_inspector_shows_the_memory_estimate(window):
    window.open_template("two_layer_net")
    window.scene.clearSelection()
    text = window.inspector.info["summary"].text()
    assert "Memory per training step" in text and "KiB" in text
