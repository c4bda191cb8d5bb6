"""GraphDocument and its undo commands, headless: no window, no widget, no QApplication.

Each edit goes through the undo stack; undo and redo are exact mirrors, and every change
reaches the model through a document primitive that emits the signal the scene follows.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from app import commands
from app.document import GraphDocument
from graph import Edge, Graph, templates

APP = Path(__file__).resolve().parents[1] / "app"
SIGNALS = ("node_added", "node_removed", "node_changed", "node_renamed", "edge_added", "edge_removed",
           "shapes_changed", "message")


@pytest.fixture
def doc():
    """The apple example in a document, with every signal it emits recorded in ``doc.seen``."""
    d = GraphDocument(templates.build("apple"))
    d.seen = []
    for name in SIGNALS:
        getattr(d, name).connect(lambda *args, n=name: d.seen.append((n, *args)))
    return d


def emitted(d: GraphDocument, name: str) -> list[tuple]:
    return [s[1:] for s in d.seen if s[0] == name]


def test_add_node_undo_redo(doc):
    node_id = doc.add_node("Mul", position=(10.0, 20.0))
    assert node_id == "mul" and doc.graph.node("mul").type == "Mul"
    assert doc.graph.node("mul").position == (10.0, 20.0)
    assert emitted(doc, "node_added") == [("mul",)] and emitted(doc, "shapes_changed")
    assert doc.is_modified and doc.undo_stack.undoText() == "Add Mul"
    doc.undo_stack.undo()
    assert not doc.graph.has_node("mul") and emitted(doc, "node_removed") == [("mul",)]
    assert not doc.is_modified
    doc.undo_stack.redo()
    assert doc.graph.node("mul").position == (10.0, 20.0)


def test_refused_add_logs_and_pushes_nothing(doc):
    assert doc.add_node("Conv3D") is None
    assert doc.add_node("Conv2D", out_channels=0) is None
    assert doc.undo_stack.count() == 0 and len(doc.graph) == 5
    texts = [m[0] for m in emitted(doc, "message")]
    assert texts[0].startswith("cannot add Conv3D") and texts[1].startswith("cannot add Conv2D")


def test_connect_undo_redo(doc):
    doc.add_node("Mul", node_id="m")
    assert doc.connect("tax", "m")                       # first free port
    edge = Edge("tax", "out", "m", "a")
    assert edge in doc.graph.edges() and emitted(doc, "edge_added") == [(edge,)]
    doc.undo_stack.undo()
    assert edge not in doc.graph.edges() and emitted(doc, "edge_removed") == [(edge,)]
    doc.undo_stack.redo()
    assert doc.graph.fed_ports("m") == {"a": "tax"}


def test_connect_on_a_fed_input_replaces_its_edge_in_one_step(doc):
    old = Edge("apple", "out", "mul_apple", "a")
    assert doc.connect("tax", "mul_apple", "a")
    assert doc.graph.fed_ports("mul_apple") == {"a": "tax", "b": "apple_num"}
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText().startswith("Replace connection")
    doc.undo_stack.undo()
    assert old in doc.graph.edges() and doc.graph.fed_ports("mul_apple")["a"] == "apple"
    doc.undo_stack.redo()
    assert doc.graph.fed_ports("mul_apple")["a"] == "tax"


def test_connection_problem_is_a_query(doc):
    """Hovering a port asks connection_problem; the model's version and caches stay."""
    g = doc.graph
    version, order, (shapes, _) = g.version, g.topo_order(), g.infer_shapes()
    reason, edge, replaced = doc.connection_problem("tax", "mul_apple")
    assert reason is None and edge == Edge("tax", "out", "mul_apple", "a")
    assert replaced == Edge("apple", "out", "mul_apple", "a")
    assert doc.connection_problem("apple", "mul_apple", "a")[0] == "apple already feeds mul_apple.a"
    assert "would make a cycle" in doc.connection_problem("mul_tax", "mul_apple", "a")[0]
    assert doc.connection_problem("tax", "nope")[0] == "no node 'nope' in the graph"
    assert doc.connection_problem("tax", "apple")[0] == "apple (Constant) has no input ports"
    assert g.version == version and g.topo_order() is order and g.infer_shapes()[0] is shapes
    assert doc.seen == [] and doc.undo_stack.count() == 0


def test_refused_connect_logs_and_changes_nothing(doc):
    version = doc.graph.version
    assert not doc.connect("mul_tax", "mul_apple", "a")
    assert doc.graph.version == version and doc.undo_stack.count() == 0
    assert emitted(doc, "message")[0][0].startswith("connection refused: connecting mul_tax -> mul_apple")


def test_rename_undo_redo(doc):
    assert doc.rename("tax", " vat ") is None                  # stripped
    assert doc.graph.has_node("vat") and not doc.graph.has_node("tax")
    assert Edge("vat", "out", "mul_tax", "b") in doc.graph.edges()
    assert emitted(doc, "node_renamed") == [("tax", "vat")]
    doc.undo_stack.undo()
    assert doc.graph.has_node("tax") and Edge("tax", "out", "mul_tax", "b") in doc.graph.edges()
    assert emitted(doc, "node_renamed")[-1] == ("vat", "tax")
    doc.undo_stack.redo()
    assert doc.graph.has_node("vat")


def test_refused_rename_is_checked_without_touching_the_model(doc):
    version, shapes = doc.graph.version, doc.graph.infer_shapes()[0]
    assert doc.rename("tax", "apple") == "a node with id 'apple' already exists"
    assert doc.rename("tax", "1x").startswith("invalid node id '1x'")
    assert doc.rename("tax", "tax") is None
    assert doc.undo_stack.count() == 0
    assert doc.graph.version == version and doc.graph.infer_shapes()[0] is shapes
    assert [m[0] for m in emitted(doc, "message")][0] == "rename refused: a node with id 'apple' already exists"


def test_delete_nodes_undo_redo_restores_params_weights_and_edges(doc):
    doc.set_label("mul_apple", "apples")
    edges = doc.graph.edges()
    doc.remove_nodes(["tax", "mul_apple"])
    assert not doc.graph.has_node("tax") and not doc.graph.has_node("mul_apple")
    assert doc.graph.edges() == []
    assert {e for (e,) in emitted(doc, "edge_removed")} == set(edges)
    assert doc.undo_stack.undoText() == "Delete 2 nodes"
    doc.undo_stack.undo()
    assert set(doc.graph.nodes()) == {"apple", "apple_num", "mul_apple", "tax", "mul_tax"}
    assert set(doc.graph.edges()) == set(edges)
    assert doc.graph.node("tax").params == {"value": 1.1} and doc.graph.node("mul_apple").label == "apples"
    doc.undo_stack.redo()
    assert len(doc.graph) == 3


def test_delete_a_connection_alone(doc):
    edge = Edge("tax", "out", "mul_tax", "b")
    doc.remove_nodes([], [edge])
    assert edge not in doc.graph.edges() and len(doc.graph) == 5
    assert doc.undo_stack.undoText() == "Delete connection"
    doc.undo_stack.undo()
    assert edge in doc.graph.edges()


def _affine_doc() -> GraphDocument:
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3])
    g.add_node("Affine", id="fc", out_features=2)
    g.connect("x", "fc")
    return GraphDocument(g)


def test_apply_weights_undo_redo():
    d = _affine_doc()
    changed = []
    d.node_changed.connect(changed.append)
    trained = {"fc": {"W": np.ones((3, 2), dtype=np.float32), "b": np.full(2, 0.5)}, "gone": {"W": np.ones(1)}}
    d.apply_weights(trained, "Train on mnist (1 epoch, 10 iterations)")
    w = d.graph.node("fc").weights
    assert w["W"].dtype == np.float64 and np.array_equal(w["W"], np.ones((3, 2)))
    assert w["W"] is not trained["fc"]["W"]                     # a copy: the run's arrays stay its own
    assert changed == ["fc"] and d.is_modified
    assert d.undo_stack.undoText() == "Train on mnist (1 epoch, 10 iterations)"
    d.undo_stack.undo()
    assert d.graph.node("fc").weights == {} and changed == ["fc", "fc"] and not d.is_modified
    d.undo_stack.redo()
    assert np.array_equal(d.graph.node("fc").weights["b"], [0.5, 0.5])


def test_apply_weights_twice_undoes_to_the_first_weights():
    d = _affine_doc()
    d.apply_weights({"fc": {"W": np.ones((3, 2)), "b": np.zeros(2)}})
    d.apply_weights({"fc": {"W": np.full((3, 2), 2.0), "b": np.ones(2)}})
    d.undo_stack.undo()
    assert np.array_equal(d.graph.node("fc").weights["W"], np.ones((3, 2)))


def test_set_params_undo_restores_stale_weights():
    d = _affine_doc()
    d.apply_weights({"fc": {"W": np.ones((3, 2)), "b": np.zeros(2)}})
    assert d.set_params("fc", out_features=4) is None
    assert d.graph.node("fc").params["out_features"] == 4 and d.graph.node("fc").weights == {}
    d.undo_stack.undo()
    assert d.graph.node("fc").params["out_features"] == 2
    assert np.array_equal(d.graph.node("fc").weights["W"], np.ones((3, 2)))


def test_moves_of_one_drag_merge_and_auto_layout_is_one_step(doc):
    start = doc.graph.node("tax").position
    doc.move_nodes({"tax": (1.0, 2.0)}, merge_key=7)
    doc.move_nodes({"tax": (3.0, 4.0), "apple": (5.0, 6.0)}, merge_key=7)
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Move 1 node"
    doc.undo_stack.undo()
    assert doc.graph.node("tax").position == start
    doc.undo_stack.redo()
    assert doc.graph.node("apple").position == (5.0, 6.0)
    doc.auto_layout()
    assert doc.undo_stack.count() == 2 and doc.undo_stack.undoText() == "Auto layout"
    laid_out = {n: doc.graph.node(n).position for n in doc.graph.nodes()}
    doc.undo_stack.undo()
    assert doc.graph.node("apple").position == (5.0, 6.0)
    doc.undo_stack.redo()
    assert {n: doc.graph.node(n).position for n in doc.graph.nodes()} == laid_out


def test_every_undo_command_lives_in_app_commands():
    """Undo commands are the only writers of the model, and they are all in one module."""
    found = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any("QUndoCommand" in ast.unparse(b) for b in node.bases):
                found.append((path.relative_to(APP).as_posix(), node.name))
    assert found and {p for p, _ in found} == {"commands.py"}
    assert "ApplyWeights" in {n for _, n in found} and commands.ApplyWeights
