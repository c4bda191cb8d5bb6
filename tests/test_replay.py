"""Replay of recorded steps (headless): the book's apple numbers at every moment."""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, Graph
from graph.views.mosaic import grid_shape, thumbnail, tile, tile_at
from graph.views.replay import Replay, fmt_value


def apple_graph(orange: bool = False) -> Graph:
    """buy_apple (and buy_apple_orange) from the book, built by hand."""
    g = Graph()
    g.add_node("Constant", id="apple", value=100)
    g.add_node("Constant", id="apple_num", value=2)
    g.add_node("Mul", id="mul_apple")
    g.connect("apple", "mul_apple")
    g.connect("apple_num", "mul_apple")
    price = "mul_apple"
    if orange:
        g.add_node("Constant", id="orange", value=150)
        g.add_node("Constant", id="orange_num", value=3)
        g.add_node("Mul", id="mul_orange")
        g.connect("orange", "mul_orange")
        g.connect("orange_num", "mul_orange")
        g.add_node("Add", id="add_apple_orange")
        g.connect("mul_apple", "add_apple_orange")
        g.connect("mul_orange", "add_apple_orange")
        price = "add_apple_orange"
    g.add_node("Constant", id="tax", value=1.1)
    g.add_node("Mul", id="mul_tax")
    g.connect(price, "mul_tax")
    g.connect("tax", "mul_tax")
    return g


def moment(replay: Replay, phase: str, node: str) -> int:
    """Index of the event of ``node`` in ``phase``."""
    return next(e.index for e in replay.events if e.phase == phase and e.node == node)


@pytest.fixture
def apple():
    g = apple_graph()
    return Replay(g, list(Engine(g).steps()))


def test_fmt_value_like_the_book():
    assert [fmt_value(v) for v in (220.00000000000003, 2.2, 110.0, np.float64(1.1))] == ["220", "2.2", "110", "1.1"]
    assert fmt_value(np.ones((1, 30, 24, 24))) == "norm 131"   # the shape is on the node and edge
    assert fmt_value(None) == ""


def test_nothing_run(apple):
    s = apple.state(-1)
    assert s.active is None and s.phase == ""
    assert all(d.state == "normal" and not d.value for d in s.nodes.values())
    assert all(not d.value and not d.grad for d in s.edges.values())


def test_forward_then_backward_labels(apple):
    n = len(apple)
    assert n == 10 and apple.last_forward == 4
    fwd = apple.state(apple.last_forward)
    assert fwd.nodes["mul_tax"].value == "220"
    assert fwd.edges[("mul_apple", "mul_tax", "a")].value == "200"
    assert all(not d.grad for d in fwd.edges.values())
    end = apple.state(n - 1)
    grads = {k: d.grad for k, d in end.edges.items()}
    assert grads == {
        ("apple", "mul_apple", "a"): "2.2",
        ("apple_num", "mul_apple", "b"): "110",
        ("mul_apple", "mul_tax", "a"): "1.1",
        ("tax", "mul_tax", "b"): "200",
    }
    assert end.nodes["mul_tax"].grad == "1"
    assert end.nodes["apple"].grad == "2.2"


def test_states_dimmed_active_done(apple):
    s = apple.state(0)
    assert s.active == "apple" and s.nodes["apple"].state == "active"
    assert s.nodes["mul_tax"].state == "dimmed" and s.nodes["mul_tax"].value == ""
    s = apple.state(moment(apple, "forward", "mul_apple"))
    assert s.nodes["apple"].state == "done" and s.nodes["mul_apple"].state == "active"
    assert s.edges[("mul_apple", "mul_tax", "a")].flow == "forward"


def test_active_rule_has_numbers_and_node_names(apple):
    s = apple.state(moment(apple, "backward", "mul_tax"))
    assert s.phase == "backward" and s.active == "mul_tax"
    assert "∂L/∂mul_apple = ∂L/∂out × tax = 1 × 1.1 = 1.1" in s.rule
    assert "∂L/∂tax = ∂L/∂out × mul_apple = 1 × 200 = 200" in s.rule
    assert s.edges[("tax", "mul_tax", "b")].flow == "backward"
    assert apple.state(moment(apple, "forward", "mul_apple")).rule == "mul_apple = Mul(apple = 100, apple_num = 2) = 200"


def test_step_back_restores_exactly(apple):
    states = [apple.state(k) for k in range(-1, len(apple))]
    for k in range(len(apple) - 1, -2, -1):
        assert apple.state(k) == states[k + 1]
    assert apple.state(99) == states[-1] and apple.state(-7) == states[0]


def test_changed_covers_every_difference(apple):
    for a in range(-1, len(apple)):
        for b in range(-1, len(apple)):
            nodes, edges = apple.changed(a, b)
            sa, sb = apple.state(a), apple.state(b)
            assert {n for n in sa.nodes if sa.nodes[n] != sb.nodes[n]} <= nodes
            assert {e for e in sa.edges if sa.edges[e] != sb.edges[e]} <= edges


def test_apple_orange_numbers():
    g = apple_graph(orange=True)
    r = Replay(g, list(Engine(g).steps()))
    end = r.state(len(r) - 1)
    assert end.nodes["mul_tax"].value == "715"
    grads = {k[0]: d.grad for k, d in end.edges.items() if k[1] in ("mul_apple", "mul_orange")}
    assert grads == {"apple": "2.2", "apple_num": "110", "orange": "3.3", "orange_num": "165"}
    assert end.edges[("tax", "mul_tax", "b")].grad == "650"


def test_arrays_show_shapes_and_keep_values():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3], value=[[1.0, -2.0, 3.0]])
    g.add_node("ReLU", id="relu")
    g.add_node("Sum", id="s")
    g.connect("x", "relu")
    g.connect("relu", "s")
    r = Replay(g, list(Engine(g).steps()))
    end = r.state(len(r) - 1)
    edge = end.edges[("x", "relu", "x")]
    # the value is drawn as a preview (no text); the nodes carry the norms
    assert edge.value == "" and edge.grad == ""
    assert end.nodes["relu"].grad == "norm 1.73" and end.nodes["x"].value == "norm 3.74"
    np.testing.assert_array_equal(edge.value_array, [[1.0, -2.0, 3.0]])


def test_mosaic_tiles_with_gaps():
    a = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    m = tile(a)
    assert m.shape == (2 * 5 - 1, 3 * 6 - 1)
    np.testing.assert_array_equal(m[5:9, 6:11], a[1, 1])
    assert np.isnan(m[4]).all()
    assert tile_at(a.shape, 6, 7) == 4 and tile_at(a.shape, 4, 0) is None
    assert grid_shape(30) == (5, 6)
    n = tile(np.random.default_rng(0).normal(size=(1, 30, 6, 6)), normalize=True)
    assert np.nanmin(n) == 0.0 and np.nanmax(n) == 1.0 and n.shape == (5 * 7 - 1, 6 * 7 - 1)


def test_thumbnail_small_uint8():
    t = thumbnail(np.random.default_rng(0).normal(size=(1, 30, 24, 24)), max_side=24)
    assert t.dtype == np.uint8 and max(t.shape) <= 24
    assert thumbnail(np.array([np.nan, np.inf])).tolist() == [[0, 0]]
