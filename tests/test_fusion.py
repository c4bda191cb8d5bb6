"""The engine's Conv2D → [ReLU] → MaxPool2D fusion gives the unfused results.

Each test runs the same graph, weights and batch through two engines, one with
``fuse = False``, and compares every value, gradient and parameter gradient; each runs
with the compiled kernels and without.
"""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, Graph, GraphError, templates
from graph.run.fusion import find_conv_pool_groups
from layers import kernels, parallel


@pytest.fixture(autouse=True, params=["compiled", "numpy"])
def kernel_path(request, monkeypatch):
    """Every test runs on both fused paths: compiled kernels (for any size) and plain NumPy."""
    if request.param == "compiled" and kernels.compiled() is None:
        pytest.skip(f"no compiled kernels: {kernels.status()}")
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    old = kernels.set_enabled(request.param == "compiled")
    yield request.param
    kernels.set_enabled(old)


def conv_pool_graph(conv: dict, pool: dict, relu: bool = True, hw=(12, 12), channels: int = 2) -> Graph:
    """x (N, C, H, W) -> Conv2D -> [ReLU] -> MaxPool2D -> Affine 3 -> softmax cross-entropy."""
    g = Graph()
    g.add_node("Input", id="x", shape=[None, channels, *hw], role="data")
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("Conv2D", id="conv", **conv)
    g.add_node("MaxPool2D", id="pool", **pool)
    g.add_node("Affine", id="fc", out_features=3)
    g.add_node("SoftmaxCrossEntropy", id="loss")
    chain = ["x", "conv"] + (["relu"] if relu else []) + ["pool", "fc"]
    if relu:
        g.add_node("ReLU", id="relu")
    for a, b in zip(chain, chain[1:]):
        g.connect(a, b)
    g.connect("fc", "loss", "x")
    g.connect("t", "loss", "t")
    return g


def twin_engines(graph: Graph, dtype: str = "float64"):
    fused = Engine(graph, dtype=dtype, seed=3)
    plain = Engine(graph, dtype=dtype, seed=3)
    plain.fuse = False
    return fused, plain


def run_both(fused, plain, feeds, prune: bool = False, train: bool = True):
    for eng in (fused, plain):
        eng.forward(feeds, train=train)
        eng.backward(prune=prune)


def feeds_for(graph: Graph, n: int = 5, seed: int = 0, image=None):
    shape = graph.node("x").params["shape"]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *shape[1:])) if image is None else image
    return {"x": x, "t": rng.integers(0, 3, n)}


def assert_same(fused, plain, graph: Graph, grad_rtol: float = 1e-12):
    for id in graph.topo_order():
        np.testing.assert_array_equal(fused.value(id), plain.value(id), err_msg=f"value of {id}")
        np.testing.assert_allclose(fused.grad(id), plain.grad(id), rtol=grad_rtol, atol=1e-300,
                                   err_msg=f"grad of {id}")
    for id, name in plain.learnables():
        np.testing.assert_allclose(fused.param_grad(id, name), plain.param_grad(id, name), rtol=grad_rtol,
                                   atol=grad_rtol * np.abs(plain.param_grad(id, name)).max(),
                                   err_msg=f"grad of {id}.{name}")


def test_simple_convnet_has_one_group_covering_conv_relu_pool():
    g = templates.build("simple_convnet")
    groups = find_conv_pool_groups(g, g.infer_shapes()[0])
    assert [(grp.conv, grp.relu, grp.pool, grp.k) for grp in groups.values()] == [("conv1", "relu1", "pool1", 2)]


@pytest.mark.parametrize("conv, pool, relu", [
    ({"out_channels": 4, "kernel_size": 3, "padding": 1}, {"kernel_size": 2, "stride": 2}, True),
    ({"out_channels": 3, "kernel_size": 2, "padding": 2, "stride": 2}, {"kernel_size": 2, "stride": 2}, True),
    ({"out_channels": 3, "kernel_size": 1}, {"kernel_size": 3, "stride": 3}, True),
    ({"out_channels": 3, "kernel_size": 3, "padding": 1}, {"kernel_size": 2, "stride": 2}, False),
    ({"out_channels": 2, "kernel_size": 5, "bias": False}, {"kernel_size": 4, "stride": 4}, True),
])
def test_fused_matches_unfused(conv, pool, relu):
    g = conv_pool_graph(conv, pool, relu)
    assert "pool" in find_conv_pool_groups(g, g.infer_shapes()[0])
    fused, plain = twin_engines(g)
    feeds = feeds_for(g)
    run_both(fused, plain, feeds)
    assert fused._fused_caches and not plain._fused_caches
    assert_same(fused, plain, g)


def test_ties_and_non_positive_windows_send_gradients_to_the_same_entries():
    """A blank image makes every window a tie (the conv output is the bias everywhere);
    with a negative bias every window's maximum is negative, so the ReLU blocks all."""
    g = conv_pool_graph({"out_channels": 3, "kernel_size": 3, "padding": 1}, {"kernel_size": 2, "stride": 2})
    for bias in (0.5, 0.0, -0.5):
        fused, plain = twin_engines(g)
        for eng in (fused, plain):
            eng.set_param("conv", "b", np.full(3, bias))
        image = np.zeros((4, 2, 12, 12))
        image[1, :, 3:5, 3:5] = 1.0  # one sample with a few equal non-zero entries
        run_both(fused, plain, feeds_for(g, 4, image=image))
        assert_same(fused, plain, g)


def test_float32_training_step_matches_unfused_within_rounding():
    g = templates.build("simple_convnet")
    fused, plain = twin_engines(g, "float32")
    rng = np.random.default_rng(1)
    feeds = {"x": rng.random((8, 1, 28, 28)), "t": rng.integers(0, 10, 8)}
    run_both(fused, plain, feeds, prune=True)
    assert fused.loss() == plain.loss()
    for id, name in plain.learnables():
        ref = plain.param_grad(id, name)
        np.testing.assert_allclose(fused.param_grad(id, name), ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_array_equal(fused.value("relu1"), plain.value("relu1"))


def test_fusion_is_bit_identical_on_one_or_two_threads():
    g = templates.build("simple_convnet")
    rng = np.random.default_rng(2)
    feeds = {"x": rng.random((100, 1, 28, 28)), "t": rng.integers(0, 10, 100)}
    results = []
    for threads in (1, 2):
        old = parallel.set_threads(threads)
        try:
            eng = Engine(g, dtype="float32", seed=0)
            eng.forward(feeds, train=True)
            eng.backward(prune=True)
            results.append({k: eng.param_grad(*k) for k in eng.learnables()})
        finally:
            parallel.set_threads(old)
    for key in results[0]:
        np.testing.assert_array_equal(results[0][key], results[1][key], err_msg=str(key))


@pytest.mark.parametrize("edit", ["relu_feeds_two", "conv_feeds_two", "stride_not_kernel", "not_tiling", "padding"])
def test_chains_that_cannot_fuse_are_left_alone(edit):
    conv = {"out_channels": 2, "kernel_size": 3, "padding": 1}
    pool = {"kernel_size": 2, "stride": 2}
    hw = (12, 12)
    if edit == "stride_not_kernel":
        pool = {"kernel_size": 2, "stride": 1}
    elif edit == "not_tiling":
        hw = (11, 12)
    elif edit == "padding":
        pool = {"kernel_size": 2, "stride": 2, "padding": 1}
    g = conv_pool_graph(conv, pool, hw=hw)
    if edit in ("relu_feeds_two", "conv_feeds_two"):
        src = "relu" if edit == "relu_feeds_two" else "conv"
        g.add_node("Sum", id="extra")
        g.connect(src, "extra")
    assert find_conv_pool_groups(g, g.infer_shapes()[0]) == {}
    fused, plain = twin_engines(g)
    run_both(fused, plain, feeds_for(g))
    assert not fused._fused_caches
    assert_same(fused, plain, g)


def test_steps_never_fuse_and_agree_with_forward():
    g = templates.build("simple_convnet")
    eng = Engine(g, seed=0)
    feeds = {"x": np.random.default_rng(0).random((2, 1, 28, 28)), "t": np.array([3, 7])}
    events = list(eng.steps(feeds))
    assert not eng._fused_caches
    recorded = {ev.node: ev.output for ev in events if ev.phase == "forward"}
    grads = {ev.node: ev.upstream for ev in events if ev.phase == "backward"}
    eng.forward(feeds)
    eng.backward()
    assert eng._fused_caches
    for id in ("conv1", "relu1", "pool1"):
        np.testing.assert_array_equal(eng.value(id), recorded[id])
        np.testing.assert_allclose(eng.grad(id), grads[id], rtol=1e-12, atol=1e-300)


def test_a_nan_in_the_filters_is_named_at_the_conv():
    g = templates.build("simple_convnet")
    eng = Engine(g, dtype="float32", seed=0)
    w = eng.param("conv1", "W")
    w[0, 0, 0, 0] = np.nan
    eng.set_param("conv1", "W", w)
    feeds = {"x": np.random.default_rng(0).random((2, 1, 28, 28)), "t": np.array([1, 2])}
    with np.errstate(invalid="ignore"):
        eng.forward(feeds, train=True)
        assert eng.first_nonfinite() == ("conv1", "value")


@pytest.mark.parametrize("fuse", [True, False])
def test_an_empty_batch_runs_forward_and_backward(fuse):
    g = conv_pool_graph({"out_channels": 3, "kernel_size": 3, "padding": 1}, {"kernel_size": 2, "stride": 2})
    g.remove_node("loss")
    g.remove_node("t")
    g.add_node("Sum", id="sum")
    g.connect("fc", "sum")
    eng = Engine(g, seed=0)
    eng.fuse = fuse
    eng.forward({"x": np.zeros((0, 2, 12, 12))})
    eng.backward()
    assert eng.grad("conv").shape == (0, 3, 12, 12) and eng.grad("x").shape == (0, 2, 12, 12)
    assert eng.param_grad("conv", "W").shape == (3, 2, 3, 3)


def test_output_of_a_node_not_run_is_a_graph_error():
    eng = Engine(templates.build("simple_convnet"), seed=0)
    with pytest.raises(GraphError, match="run forward first"):
        eng.output_of("relu1")


def test_value_sample_works_out_a_fused_inner_output_for_the_first_samples_only():
    g = templates.build("simple_convnet")
    eng = Engine(g, dtype="float32", seed=0)
    rng = np.random.default_rng(5)
    eng.forward({"x": rng.random((12, 1, 28, 28)), "t": rng.integers(0, 10, 12)}, train=True)
    assert "conv1" in eng._lazy_values and "relu1" in eng._lazy_values
    few = {nid: eng.value_sample(nid, 3) for nid in ("conv1", "relu1", "pool1")}
    # nothing was kept: the full values are still worked out on request
    assert "conv1" in eng._lazy_values and "relu1" in eng._lazy_values
    assert few["conv1"].shape == (3, 30, 24, 24) and few["pool1"].shape == (12, 30, 12, 12)
    np.testing.assert_array_equal(few["conv1"], eng.value("conv1")[:3])
    np.testing.assert_array_equal(few["relu1"], eng.value("relu1")[:3])
    # once worked out, the whole value is what it returns
    assert eng.value_sample("relu1", 3).shape == (12, 30, 24, 24)
