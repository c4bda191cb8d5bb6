"""Files, clipboard, unsaved-changes prompts, recent files and crash recovery in the editor."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtTest import QTest

from gui_helpers import click, drop_node, make_window, studio_home, title_pos, window  # noqa: F401


def as_dict(g):
    from graph.model.fileformat import graph_to_dict  # noqa: PLC0415

    return graph_to_dict(g)


def test_copy_paste_within_and_between_documents(window, qtbot):
    doc, scene = window.document, window.scene
    a = drop_node(window, "Constant", (150, 200))
    doc.set_params(a, value=2.5)
    r = drop_node(window, "ReLU", (550, 200))
    doc.connect(a, r)
    scene.select_nodes([a, r])
    window.action_set["copy"].trigger()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasFormat("application/x-backprop-studio-graph")
    assert json.loads(mime.text())["format"] == "backprop-studio-graph"
    window.action_set["paste"].trigger()
    g = doc.graph
    assert len(g) == 4 and len(g.edges()) == 2
    new = scene.selected_node_ids()
    assert len(new) == 2 and not set(new) & {a, r}
    pasted_const = next(n for n in new if g.node(n).type == "Constant")
    assert g.node(pasted_const).params["value"] == 2.5
    assert g.node(pasted_const).position == (g.node(a).position[0] + 40, g.node(a).position[1] + 40)
    window.document.undo_stack.undo()
    assert g.nodes() == [a, r]

    other = make_window(qtbot)
    other.action_set["paste"].trigger()
    assert sorted(other.document.graph.nodes()) == sorted([a, r])
    assert len(other.document.graph.edges()) == 1
    assert other.document.graph.node(a).params["value"] == 2.5


def test_cut_and_duplicate(window):
    doc, scene = window.document, window.scene
    a = drop_node(window, "Constant", (150, 200))
    b = drop_node(window, "Sigmoid", (550, 200))
    doc.connect(a, b)
    QGuiApplication.clipboard().clear()
    scene.select_nodes([a, b])
    window.action_set["duplicate"].trigger()
    assert len(doc.graph) == 4 and len(doc.graph.edges()) == 2
    mime = QGuiApplication.clipboard().mimeData()
    assert mime is None or not mime.hasFormat("application/x-backprop-studio-graph")
    scene.select_nodes([a])
    window.action_set["cut"].trigger()
    assert a not in doc.graph.nodes() and len(doc.graph.edges()) == 1
    window.action_set["paste"].trigger()
    assert a in doc.graph.nodes()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert a in doc.graph.nodes() and len(doc.graph.edges()) == 2


def test_save_and_reopen_gives_the_identical_graph(window, tmp_path):
    from graph import Engine  # noqa: PLC0415

    assert window.open_template("two_layer_net")
    doc = window.document
    Engine(doc.graph)                                        # initialises weights into the graph
    assert any(doc.graph.node(n).weights for n in doc.graph.nodes())
    window.document.move_nodes({doc.graph.nodes()[0]: (-123.5, 77.0)})
    path = tmp_path / "net.json"
    window.prompt_save_path = lambda: str(path)
    window.action_set["save"].trigger()                         # untitled: Save asks for a path
    assert path.exists() and not doc.is_modified
    assert window.windowTitle() == "net.json — Backprop Studio"
    saved = as_dict(doc.graph)
    window.new_document()
    assert len(window.document.graph) == 0
    assert window.open_path(str(path))
    assert as_dict(window.document.graph) == saved
    for n in window.document.graph.nodes():
        for k, w in window.document.graph.node(n).weights.items():
            assert w.dtype == np.float64
    assert window.recent.paths()[0] == str(path.resolve())
    assert window.windowTitle() == "net.json — Backprop Studio"
    assert window.scene.nodes.keys() == set(window.document.graph.nodes())


def test_unsaved_changes_prompt_on_open_and_close(window, tmp_path):
    drop_node(window, "Constant", (200, 200))
    asked = []
    window.prompt_unsaved = lambda: asked.append(1) or "cancel"
    assert not window.open_template("apple")
    assert asked and len(window.document.graph) == 1
    event = QCloseEvent()
    window.closeEvent(event)
    assert not event.isAccepted()
    path = tmp_path / "kept.json"
    window.prompt_save_path = lambda: str(path)
    window.prompt_unsaved = lambda: "save"
    assert window.open_template("apple")
    assert path.exists() and window.document.name == "apple" and not window.document.is_modified
    event = QCloseEvent()
    window.closeEvent(event)
    assert event.isAccepted()


def test_opening_a_bad_file_reports_the_error(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-studio-graph", "version": 1, "nodes": [{"id": "x"}], "edges": []}')
    shown = []
    window.show_error = lambda title, text: shown.append(text)
    assert not window.open_path(str(bad))
    assert shown and "bad.json" in shown[0] and "missing key 'type'" in shown[0]
    assert not window.open_path(str(tmp_path / "missing.json"))
    assert "no such file" in shown[-1]
    assert len(window.document.graph) == 0


def test_examples_menu_lists_every_template(window):
    from graph import templates  # noqa: PLC0415

    names = [a.objectName() for a in window.menus.examples.actions()]
    assert names == [f"example_{n}" for n in templates.names()]
    window.menus.examples.actions()[0].trigger()
    assert window.document.name == templates.names()[0]
    assert len(window.scene.nodes) == len(window.document.graph)


def test_autosave_writes_a_recovery_file_only_while_unsaved(window, tmp_path):
    window.autosave_now()
    assert not window.recovery.path.exists()
    drop_node(window, "Constant", (200, 200))
    window.autosave_now()
    assert window.recovery.path.exists()
    assert window.recovery.path.name.endswith(".recovery.json")
    window.prompt_save_path = lambda: str(tmp_path / "saved.json")
    window.save()
    assert not window.recovery.path.exists()
    assert window.autosave_timer.interval() == 30_000 and window.autosave_timer.isActive()


CRASHING_SESSION = textwrap.dedent("""
    import os
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from app.main_window import MainWindow
    w = MainWindow(restore_layout=False)
    w.quiet = True
    w.open_template("apple")
    doc = w.document
    doc.set_params("apple", value=150.0)
    doc.add_node("Constant", (0, 300), node_id="extra", value=7.0)
    w.autosave_now()
    print(w.recovery.path, flush=True)
    os._exit(3)                 # a crash: no close event, no cleanup
""")


def test_recovery_file_restored_after_a_crash(qtbot, studio_home, repo_root):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BACKPROP_STUDIO_HOME=str(studio_home),
               PYTHONPATH=str(repo_root))
    proc = subprocess.run([sys.executable, "-c", CRASHING_SESSION], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    recovery = proc.stdout.strip().splitlines()[-1]
    assert os.path.exists(recovery)

    window = make_window(qtbot)
    offered = []
    window.prompt_restore = lambda path, info: offered.append(info) or True
    assert window.offer_recovery()
    assert offered and offered[0]["name"] == "apple"
    g = window.document.graph
    assert g.node("apple").params["value"] == 150.0 and g.node("extra").params["value"] == 7.0
    assert window.document.is_modified and window.windowTitle() == "apple* — Backprop Studio"
    assert not os.path.exists(recovery)
    assert set(window.scene.nodes) == set(g.nodes())
    assert not window.offer_recovery()                       # offered once only


def test_declining_recovery_deletes_the_file(qtbot, studio_home):
    from graph import templates  # noqa: PLC0415
    from graph.model.fileformat import save_graph  # noqa: PLC0415

    folder = studio_home / "recovery"
    folder.mkdir(parents=True)
    stale = folder / "999999999-1.recovery.json"               # a pid that cannot be running
    save_graph(templates.build("apple"), stale, meta={"recovery": {"name": "apple", "file_path": ""}})
    window = make_window(qtbot)
    window.prompt_restore = lambda path, info: False
    assert not window.offer_recovery()
    assert not stale.exists() and len(window.document.graph) == 0


def test_inspector_and_delete_shortcuts_do_not_clash(window):
    n = drop_node(window, "Constant", (200, 200))
    click(window.view, title_pos(window.view, n))
    editor = window.inspector.param_widgets["value"]
    editor.setFocus()
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Delete)                # edits the text, keeps the node
    assert n in window.document.graph.nodes() and editor.text() == ""


def test_new_window_and_view_position_saved_with_the_file(window, tmp_path):
    other = window.new_window()
    try:
        assert other is not window and other.isVisible() and len(other.document.graph) == 0
    finally:
        other.close()
    window.open_template("apple")
    window.view.zoom_by(1.5 / window.view.zoom())
    window.view.centerOn(100, 50)
    path = tmp_path / "apple.json"
    assert window.save_to(str(path))
    window.view.fit()
    assert window.open_path(str(path))
    assert abs(window.view.zoom() - 1.5) < 1e-3
    center = window.view.center_scene_pos()
    assert abs(center.x() - 100) < 2 and abs(center.y() - 50) < 2
