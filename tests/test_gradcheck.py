"""gradcheck itself: it passes correct ops, catches wrong ones, and handles randomness."""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, Graph, templates
from graph.run.gradcheck import gradcheck, pick_entries, random_feeds, rel_error
from layers.activations import Sigmoid


@pytest.mark.parametrize("name", templates.names())
def test_every_template_passes(name):
    results = gradcheck(templates.build(name), max_entries=8)
    assert results
    bad = [r for r in results if not r.passed]
    assert not bad, bad


def test_reports_locals_then_graph_checks():
    results = gradcheck(templates.build("two_layer_net"), max_entries=4)
    kinds = [r.check for r in results]
    assert kinds == sorted(kinds, key=["local", "graph"].index)
    names = {(r.check, r.node, r.tensor) for r in results}
    assert {("local", "affine1", "input x"), ("local", "affine1", "param W"), ("graph", "affine2", "param b"),
            ("graph", "x", "value")} <= names
    # labels are integers and losses define no gradient for them: not checked
    assert not any(r.tensor == "input t" or r.node == "t" for r in results)


def test_catches_a_wrong_rule(monkeypatch):
    def wrong(self, dout, cache, need_inputs=True):
        return [dout * cache * (1 - cache) * 1.001], {}

    monkeypatch.setattr(Sigmoid, "backward", wrong)
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3])
    g.add_node("Sigmoid", id="sig")
    g.add_node("Sum", id="s")
    g.connect("x", "sig")
    g.connect("sig", "s")
    results = gradcheck(g)
    failed = {(r.check, r.node, r.tensor) for r in results if not r.passed}
    assert failed == {("local", "sig", "input x"), ("graph", "x", "value")}
    assert all(1e-4 < r.max_rel_error < 1e-3 for r in results if not r.passed)


def test_dropout_uses_the_same_mask_each_evaluation():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 20])
    g.add_node("Affine", id="fc", out_features=6)
    g.add_node("Dropout", id="drop", ratio=0.5)
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("x", "fc")
    g.connect("fc", "drop")
    g.connect("drop", "loss", "x")
    g.connect("t", "loss", "t")
    results = gradcheck(g, max_entries=None, train=True)
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    assert any(r.node == "drop" for r in results)


def test_engine_argument_uses_its_weights_and_leaves_it_alone():
    g = templates.build("two_layer_net")
    eng = Engine(g)
    eng.set_param("affine2", "W", np.full((50, 10), 0.25))
    before = {k: eng.param(*k) for k in eng.learnables()}
    results = gradcheck(eng, node="affine2", max_entries=4)
    assert {r.node for r in results} == {"affine2"}
    assert all(r.passed for r in results)
    for key, value in before.items():
        np.testing.assert_array_equal(eng.param(*key), value)


def test_rel_error_is_normwise():
    a = np.array([1.0, 1e-12, 0.0])
    n = np.array([1.0 + 1e-9, 2e-12, 0.0])
    rel, abs_err = rel_error(a, n)
    assert abs_err == pytest.approx(1e-9, rel=1e-3)
    assert rel == pytest.approx(1e-9 / 2, rel=1e-3)     # tiny entries do not dominate
    assert rel_error(np.zeros(3), np.zeros(3)) == (0.0, 0.0)
    assert rel_error(np.array([1.0]), np.array([-1.0]))[0] == 1.0


def test_pick_entries_prefers_large_gradients():
    grad = np.zeros(1000)
    grad[[5, 500, 900]] = [3.0, -4.0, 5.0]
    picks = pick_entries(grad, 8, np.random.default_rng(0))
    assert len(picks) == 8 and len(set(picks)) == 8
    assert {5, 500, 900} <= set(picks)
    assert list(pick_entries(grad[:5], 8, np.random.default_rng(0))) == [0, 1, 2, 3, 4]


def test_random_feeds_give_valid_labels():
    eng = Engine(templates.build("simple_convnet"))
    feeds, notes = random_feeds(eng, batch=5, seed=2)
    assert feeds["x"].shape == (5, 1, 28, 28)
    assert feeds["t"].dtype.kind == "i" and feeds["t"].shape == (5,)
    assert feeds["t"].min() >= 0 and feeds["t"].max() < 10
    assert notes == ["fed x with a random batch of 5 (seed 2)", "fed t with a random batch of 5 (seed 2)"]
    given = {"x": np.zeros((1, 1, 28, 28))}
    feeds, notes = random_feeds(eng, given)
    assert feeds["x"] is given["x"] and notes == ["fed t with a random batch of 1 (seed 0)"]


def test_random_one_hot_labels():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 4])
    g.add_node("Input", id="t", shape=[None, 4], role="label")
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("x", "loss", "x")
    g.connect("t", "loss", "t")
    feeds, _ = random_feeds(Engine(g), batch=3)
    assert feeds["t"].shape == (3, 4)
    np.testing.assert_array_equal(feeds["t"].sum(axis=1), np.ones(3))
    assert all(r.passed for r in gradcheck(g))


# -- audit fixes ------------------------------------------------------------------------------
def test_reported_error_does_not_depend_on_the_tolerance():
    g = templates.build("batchnorm_mlp")
    loose = gradcheck(g, tol=1e-2, seed=1)
    tight = gradcheck(g, tol=1e-8, seed=1)
    assert [r.max_rel_error for r in loose] == [r.max_rel_error for r in tight]
    assert [r.max_abs_error for r in loose] == [r.max_abs_error for r in tight]
    assert all(r.passed for r in loose)


def test_random_feeds_take_the_batch_of_the_fed_arrays():
    eng = Engine(templates.build("two_layer_net"))
    feeds, notes = random_feeds(eng, {"x": np.zeros((3, 784))})
    assert feeds["t"].shape[0] == 3 and notes == ["fed t with a random batch of 3 (seed 0)"]
    feeds, _ = random_feeds(eng, {})
    assert feeds["x"].shape[0] == 1
    feeds, _ = random_feeds(eng, {}, batch=5)
    assert feeds["x"].shape[0] == 5
    results = gradcheck(eng, feeds={"x": np.random.default_rng(0).random((2, 784))}, max_entries=4)
    assert results and all(r.passed for r in results)


def test_round_off_floor_of_the_reported_error_is_independent_of_tol():
    from graph.run.gradcheck import _compare

    def objective():  # a large, flat objective: its numerical gradient is pure round-off
        return 1e6, 1e6

    results = [_compare("graph", "p", "param W", np.zeros(3), np.full(3, 1e-9), objective, 1e-6, None,
                        np.random.default_rng(0), tol) for tol in (1e-2, 1e-6, 1e-10)]
    assert len({r.max_rel_error for r in results}) == 1
    assert all(r.passed for r in results)  # an absolute error at round-off level passes
