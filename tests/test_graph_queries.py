"""Graph queries the editor asks on every hover or keystroke: check_id, can_connect,
target_port, edge_into. They answer what the mutating call would do and change nothing:
no version bump, the topology and shape caches are kept (the same objects come back)."""
from __future__ import annotations

import pytest

from graph import Edge, Graph, GraphShapeError, templates


def _matmul_graph() -> Graph:
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3])
    g.add_node("Constant", id="w", value=[[1.0, 2.0], [3.0, 4.0]])
    g.add_node("Constant", id="w3", value=[[1.0], [2.0], [3.0]])
    g.add_node("MatMul", id="dot")
    g.connect("x", "dot", "a")
    return g


class Untouched:
    """Asserts that the block leaves the graph's version and caches alone."""

    def __init__(self, g: Graph) -> None:
        self.g = g

    def __enter__(self):
        g = self.g
        self.version = g.version
        self.topo = g.topo_order()
        self.shapes, self.errors = g.infer_shapes()
        self.edges = g.edges()
        return self

    def __exit__(self, *exc) -> None:
        g = self.g
        assert g.version == self.version
        assert g.topo_order() is self.topo
        shapes, errors = g.infer_shapes()
        assert shapes is self.shapes and errors is self.errors
        assert g.edges() == self.edges


def test_check_id_reasons_match_what_add_node_raises():
    g = templates.build("apple")
    with Untouched(g):
        assert g.check_id("fresh_name") is None
        assert g.check_id("tax") == "a node with id 'tax' already exists"
        bad = g.check_id("1x")
        assert bad is not None and bad.startswith("invalid node id '1x'")
        assert g.check_id("a b") is not None
    for new_id, reason in (("tax", g.check_id("tax")), ("1x", g.check_id("1x"))):
        with pytest.raises(Exception) as info:
            g.add_node("ReLU", id=new_id)
        assert str(info.value) == reason


def test_can_connect_gives_connects_refusal_without_changing_anything():
    g = _matmul_graph()
    with Untouched(g):
        reason = g.can_connect("w", "dot", "b")
        assert reason is not None and reason.startswith("dot (MatMul) cannot take x (N, 3), w (2, 2): ")
        assert g.can_connect("w3", "dot", "b") is None
        assert g.can_connect("dot", "x") == "x (Input) has no input ports"
        assert g.can_connect("w3", "dot", "a") == "input dot.a is already fed by x"
        assert g.can_connect("w", "dot", "a", replace=True) is None   # dot.b unfed: nothing to check yet
        assert g.can_connect("nope", "dot", "b") == "no node 'nope' in the graph"
        assert g.can_connect("x", "dot", "c").startswith("dot (MatMul) has no input port 'c'")
        assert g.can_connect("x", "w", "b") == "w (Constant) has no input ports"
    with pytest.raises(GraphShapeError) as info:
        g.connect("w", "dot", "b")
    assert str(info.value) == g.can_connect("w", "dot", "b")
    g.connect("w3", "dot", "b")
    with Untouched(g):
        # replacing x (N, 3) on dot.a by w (2, 2) is checked against w3 (3, 1) on dot.b
        assert g.can_connect("w", "dot", "a", replace=True).startswith("dot (MatMul) cannot take w (2, 2), w3 (3, 1)")


def test_can_connect_finds_cycles_and_the_first_free_port():
    g = templates.build("apple")
    with Untouched(g):
        assert g.can_connect("mul_tax", "mul_apple", "a", replace=True) == (
            "connecting mul_tax -> mul_apple would make a cycle (mul_apple already feeds mul_tax)")
        assert g.can_connect("tax", "mul_apple") == "every input of mul_apple (a, b) is already connected"
        assert g.can_connect("tax", "mul_apple", "b", replace=True) is None
        assert g.target_port("mul_apple") == "a"        # all fed: the first one, replaced
        assert g.edge_into("mul_apple", "a") == Edge("apple", "out", "mul_apple", "a")
        assert g.edge_into("apple", "a") is None
        assert g.target_port("apple") is None           # a Constant has no inputs
    g.add_node("Mul", id="m")
    g.connect("tax", "m", "a")
    assert g.target_port("m") == "b"


def test_a_refused_connect_does_not_bump_the_version():
    g = _matmul_graph()
    before = g.version
    with pytest.raises(GraphShapeError):
        g.connect("w", "dot", "b")
    assert g.version == before and g.fed_ports("dot") == {"a": "x"}
    g.connect("w3", "dot", "b")
    assert g.version == before + 1
