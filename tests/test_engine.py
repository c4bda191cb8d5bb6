"""The engine through its Python API: the book's numbers, fan-out, stepping, modes, dtypes."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import cupy_standin
import graph.run.backend as backend
from graph import Engine, FeedError, Graph, GraphError, templates
from layers.base import fmt_num

APPLE = {"mul_tax": ("value", 220), "apple": ("grad", 2.2), "apple_num": ("grad", 110), "tax": ("grad", 200)}
APPLE_ORANGE = {
    "mul_tax": ("value", 715), "apple": ("grad", 2.2), "apple_num": ("grad", 110), "orange": ("grad", 3.3),
    "orange_num": ("grad", 165), "tax": ("grad", 650),
}
APPLE_DISPLAY = {"mul_tax": "220", "apple": "2.2", "apple_num": "110", "tax": "200"}
APPLE_ORANGE_DISPLAY = {"mul_tax": "715", "apple": "2.2", "apple_num": "110", "orange": "3.3",
                        "orange_num": "165", "tax": "650"}


def run(name: str, **kw) -> Engine:
    eng = Engine(templates.build(name), **kw)
    eng.forward()
    eng.backward()
    return eng


@pytest.mark.parametrize("name, expected", [("apple", APPLE), ("apple_orange", APPLE_ORANGE)])
def test_book_numbers_exact(name, expected):
    eng = run(name)
    for id, (what, number) in expected.items():
        got = eng.value(id) if what == "value" else eng.grad(id)
        assert float(got) == pytest.approx(number, rel=1e-12), (id, what)


@pytest.mark.parametrize("name, expected", [("apple", APPLE_DISPLAY), ("apple_orange", APPLE_ORANGE_DISPLAY)])
def test_book_numbers_display(name, expected):
    eng = run(name)
    spec = APPLE if name == "apple" else APPLE_ORANGE
    for id, text in expected.items():
        got = eng.value(id) if spec[id][0] == "value" else eng.grad(id)
        assert fmt_num(got) == text


def test_apple_orange_intermediate_gradients():
    eng = run("apple_orange")
    assert float(eng.value("mul_apple")) == 200 and float(eng.value("mul_orange")) == 450
    assert float(eng.value("add_apple_orange")) == 650
    # the add node passes 1.1 through to both branches; the final mul is seeded with 1
    for id in ("add_apple_orange", "mul_apple", "mul_orange"):
        assert float(eng.grad(id)) == pytest.approx(1.1, rel=1e-12)
    assert float(eng.grad("mul_tax")) == 1.0


def test_fan_out_gradients_are_summed():
    g = Graph()
    g.add_node("Constant", id="x", value=3.0)
    g.add_node("Mul", id="sq")
    g.add_node("Add", id="f")
    g.connect("x", "sq", "a")
    g.connect("x", "sq", "b")
    g.connect("sq", "f", "a")
    g.connect("x", "f", "b")
    eng = Engine(g)
    eng.forward()
    eng.backward()
    assert float(eng.value("f")) == 12.0          # x² + x
    assert float(eng.grad("x")) == 7.0            # 2x + 1: three paths summed


def test_steps_event_order_and_content():
    g = templates.build("apple")
    eng = Engine(g)
    events = list(eng.steps())
    order = g.topo_order()
    n = len(order)
    assert [e.phase for e in events] == ["forward"] * n + ["backward"] * n
    assert [e.node for e in events[:n]] == order
    assert [e.node for e in events[n:]] == order[::-1]
    assert [e.index for e in events] == list(range(2 * n))
    fwd = {e.node: e for e in events[:n]}
    assert fwd["mul_apple"].type == "Mul"
    assert [float(v) for v in fwd["mul_apple"].inputs] == [100.0, 2.0]
    assert float(fwd["mul_apple"].output) == 200.0
    assert fwd["mul_apple"].upstream is None
    back = {e.node: e for e in events[n:]}
    mt = back["mul_tax"]
    assert float(mt.upstream) == 1.0
    assert [float(v) for v in mt.input_grads] == pytest.approx([1.1, 200.0], rel=1e-12)
    assert "1 × 1.1 = 1.1" in mt.rule and "1 × 200 = 200" in mt.rule
    ma = back["mul_apple"]
    assert float(ma.upstream) == pytest.approx(1.1, rel=1e-12)
    assert [float(v) for v in ma.input_grads] == pytest.approx([2.2, 110.0], rel=1e-12)
    for e in events:
        assert e.output is None or isinstance(e.output, np.ndarray)
    # stepping leaves the engine in the same state as forward + backward
    assert float(eng.grad("tax")) == pytest.approx(200, rel=1e-12)


def test_steps_carry_param_grads():
    eng = Engine(templates.build("two_layer_net"))
    x = np.random.default_rng(0).standard_normal((3, 784))
    events = list(eng.steps({"x": x, "t": np.array([1, 2, 3])}))
    back = {e.node: e for e in events if e.phase == "backward"}
    assert set(back["affine1"].param_grads) == {"W", "b"}
    assert back["affine1"].param_grads["W"].shape == (784, 50)
    np.testing.assert_array_equal(back["affine1"].param_grads["W"], eng.param_grad("affine1", "W"))
    assert set(back["affine1"].params) == {"W", "b"}


def test_train_and_eval_modes():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 1000])
    g.add_node("Dropout", id="drop", ratio=0.5)
    g.connect("x", "drop")
    eng = Engine(g, seed=1)
    x = np.ones((2, 1000))
    eng.forward({"x": x}, train=False)
    np.testing.assert_array_equal(eng.value("drop"), x)
    eng.forward({"x": x}, train=True)
    out = eng.value("drop")
    assert set(np.unique(out)) == {0.0, 2.0}       # survivors scaled by 1 / (1 - ratio)
    assert 0.4 < (out == 0).mean() < 0.6
    assert eng.train_mode is True
    eng.set_train(False)
    eng.forward({"x": x})
    np.testing.assert_array_equal(eng.value("drop"), x)


def test_batchnorm_running_statistics_update_only_in_training():
    eng = Engine(templates.build("batchnorm_mlp"))
    rng = np.random.default_rng(0)
    feeds = {"x": rng.standard_normal((8, 784)), "t": rng.integers(0, 10, 8)}
    before = eng.param("batchnorm1", "running_mean")
    eng.forward(feeds, train=False)
    np.testing.assert_array_equal(eng.param("batchnorm1", "running_mean"), before)
    eng.forward(feeds, train=True)
    assert not np.array_equal(eng.param("batchnorm1", "running_mean"), before)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_dtypes(dtype):
    eng = Engine(templates.build("two_layer_net"), dtype=dtype)
    x = np.random.default_rng(0).standard_normal((2, 784))
    eng.forward({"x": x, "t": np.array([3, 7])})
    eng.backward()
    for id in ("x", "affine1", "relu1", "affine2", "loss"):
        assert eng.value(id).dtype == np.dtype(dtype), id
    for id in ("affine1", "affine2"):
        assert eng.grad(id).dtype == np.dtype(dtype)
        assert eng.param(id, "W").dtype == np.dtype(dtype)
        assert eng.param_grad(id, "W").dtype == np.dtype(dtype)
    assert np.isfinite(eng.loss())


def test_apple_in_float32_and_float16():
    for dtype, rel in (("float32", 1e-6), ("float16", 1e-2)):
        eng = run("apple", dtype=dtype)
        assert float(eng.value("mul_tax")) == pytest.approx(220, rel=rel)
        assert float(eng.grad("tax")) == pytest.approx(200, rel=rel)


def test_unknown_dtype():
    with pytest.raises(GraphError, match="unknown dtype 'int8'; choose one of float64, float32, float16"):
        Engine(templates.build("apple"), dtype="int8")


def test_set_param_and_param_grad():
    g = templates.build("two_layer_net")
    eng = Engine(g)
    x = np.random.default_rng(0).standard_normal((4, 784))
    t = np.array([0, 1, 2, 3])
    eng.set_param("affine1", "W", np.zeros((784, 50)))
    eng.set_param("affine1", "b", np.arange(50.0))
    eng.forward({"x": x, "t": t})
    np.testing.assert_array_equal(eng.value("affine1"), np.tile(np.arange(50.0), (4, 1)))
    np.testing.assert_array_equal(g.node("affine1").weights["b"], np.arange(50.0))
    eng.backward()
    dw = eng.param_grad("affine1", "W")
    assert dw.shape == (784, 50)
    # Affine: dW = xᵀ · dout
    np.testing.assert_allclose(dw, x.T @ eng.grad("affine1"), rtol=1e-12)
    np.testing.assert_allclose(eng.param_grad("affine1", "b"), eng.grad("affine1").sum(axis=0), rtol=1e-12)


def test_set_param_errors():
    eng = Engine(templates.build("two_layer_net"))
    with pytest.raises(GraphError, match=r"affine1.W has shape \(784, 50\), got \(3, 3\)"):
        eng.set_param("affine1", "W", np.zeros((3, 3)))
    with pytest.raises(GraphError, match=r"affine1 has no parameter 'Q' \(it has: W, b\)"):
        eng.param("affine1", "Q")
    with pytest.raises(GraphError, match="no gradient for affine1.W yet: run backward first"):
        eng.param_grad("affine1", "W")


def test_order_errors():
    eng = Engine(templates.build("apple"))
    with pytest.raises(GraphError, match="no value for 'apple' yet: run forward first"):
        eng.value("apple")
    with pytest.raises(GraphError, match="run forward before backward"):
        eng.backward()
    with pytest.raises(GraphError, match="no node 'pear' in the graph"):
        eng.value("pear")


def test_feed_errors():
    eng = Engine(templates.build("two_layer_net"))
    with pytest.raises(FeedError, match=r"Input 'x' needs a value: feed it \(e.g. --feed x=FILE.npy\)"):
        eng.forward({"t": np.array([1])})
    with pytest.raises(FeedError, match=r"Input 'x' expects shape \(N, 784\), got \(2, 5\)"):
        eng.forward({"x": np.zeros((2, 5)), "t": np.array([1, 2])})


def test_values_and_grads_are_host_arrays(monkeypatch):
    """On a device backend (the CuPy stand-in: an ndarray subclass "on the GPU") every
    node's value and gradient comes back as a plain host array with the NumPy numbers."""
    monkeypatch.setitem(sys.modules, "cupy", cupy_standin.make_module())
    backend.clear_cache()
    try:
        dev = Engine(templates.build("apple_orange"), backend="cupy")
        dev.forward()
        dev.backward()
    finally:
        monkeypatch.undo()
        backend.clear_cache()
    ref = run("apple_orange")
    for id in ref.graph.nodes():
        for got, want in ((dev.value(id), ref.value(id)), (dev.grad(id), ref.grad(id))):
            assert type(got) is np.ndarray, id
            np.testing.assert_array_equal(got, want)


def test_refresh_after_graph_edit_keeps_weights():
    """Weights that differ from the seeded initialisation survive the rebuild an edit causes
    (re-initialising from the same seed would give the old, seeded ones back)."""
    g = templates.build("two_layer_net")
    eng = Engine(g)
    seeded = eng.param("affine2", "W")
    w = np.random.default_rng(7).standard_normal(seeded.shape)
    eng.set_param("affine2", "W", w)
    assert not np.allclose(w, seeded)
    g.set_position("affine2", (5, 5))
    g.set_label("affine2", "renamed")
    g.add_node("Constant", id="unused", value=1.0)
    x = np.zeros((1, 784))
    eng.forward({"x": x, "t": np.array([0])})
    np.testing.assert_array_equal(eng.param("affine2", "W"), w)


def test_perceptron_truth_tables():
    expected = {"and_gate": [0, 0, 0, 1], "nand_gate": [1, 1, 1, 0], "or_gate": [0, 1, 1, 1],
                "xor_two_layer": [0, 1, 1, 0]}
    for name, want in expected.items():
        eng = Engine(templates.build(name))
        eng.forward()
        assert eng.value("y").reshape(-1).tolist() == want, name


def test_integer_data_takes_the_engine_dtype_and_labels_stay_integers():
    eng = Engine(templates.build("two_layer_net"), dtype="float32")
    eng.forward({"x": np.full((2, 784), 200, dtype=np.uint8), "t": np.array([1, 2])})
    assert eng.value("x").dtype == np.float32 and float(eng.value("x")[0, 0]) == 200.0
    assert eng.value("t").dtype.kind == "i"
    assert eng.value("loss").dtype == np.float32


# -- audit fixes ------------------------------------------------------------------------------
def test_feeding_a_node_that_is_not_an_input_names_it_and_the_inputs():
    eng = Engine(templates.build("two_layer_net"))
    x = np.zeros((1, 784))
    with pytest.raises(FeedError, match=r"'affine1'.*not an Input node \(inputs: x, t\)"):
        eng.forward({"x": x, "t": np.array([0]), "affine1": x})
    with pytest.raises(FeedError, match="'nope'"):
        eng.forward({"nope": 1.0})


def test_a_fed_array_of_strings_is_a_feed_error_naming_the_input():
    eng = Engine(templates.build("two_layer_net"))
    with pytest.raises(FeedError, match=r"Input 'x': cannot use the fed array of dtype <U1 as numbers"):
        eng.forward({"x": np.full((1, 784), "a"), "t": np.array([0])})
    with pytest.raises(FeedError, match=r"Input 't': cannot use the fed array of dtype <U1 as numbers"):
        eng.forward({"x": np.zeros((1, 784)), "t": np.array(["a"])})


def test_unknown_op_type_is_a_typed_graph_error():
    from graph import UnknownOpTypeError

    with pytest.raises(UnknownOpTypeError, match="Afine") as info:
        Graph().add_node("Afine")
    assert isinstance(info.value, GraphError)
