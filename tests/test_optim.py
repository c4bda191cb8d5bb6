"""Optimizers: each rule against a step computed by hand, in place, dtype-preserving."""
from __future__ import annotations

import math

import numpy as np
import pytest

from graph.training.optim import OPTIMIZERS, Adam, global_norm, make_optimizer, optimize_2d

W0 = [1.0, -2.0]
G = [0.5, 0.25]


def _params(dtype=np.float64):
    return {("fc", "W"): np.array(W0, dtype=dtype)}, {("fc", "W"): np.array(G, dtype=dtype)}


def _two_steps(name, **kw):
    opt = make_optimizer(name, **kw)
    params, grads = _params()
    arr = params[("fc", "W")]
    opt.step(params, grads)
    first = arr.copy()
    opt.step(params, grads)
    assert params[("fc", "W")] is arr  # updated in place
    return first, arr.copy()


def test_sgd():
    first, second = _two_steps("sgd", lr=0.1)
    np.testing.assert_allclose(first, [1.0 - 0.05, -2.0 - 0.025])
    np.testing.assert_allclose(second, [1.0 - 0.1, -2.0 - 0.05])


def test_momentum():
    # v1 = -lr g; W1 = W0 + v1; v2 = 0.9 v1 - lr g; W2 = W1 + v2
    first, second = _two_steps("momentum", lr=0.1, momentum=0.9)
    v1 = -0.1 * np.array(G)
    v2 = 0.9 * v1 - 0.1 * np.array(G)
    np.testing.assert_allclose(first, np.array(W0) + v1)
    np.testing.assert_allclose(second, np.array(W0) + v1 + v2)


def test_nesterov_as_in_the_book():
    first, second = _two_steps("nag", lr=0.1, momentum=0.9)
    g = np.array(G)
    v1 = -0.1 * g
    w1 = np.array(W0) + 0.81 * v1 - 1.9 * 0.1 * g
    v2 = 0.9 * v1 - 0.1 * g
    w2 = w1 + 0.81 * v2 - 1.9 * 0.1 * g
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w2)


def test_adagrad():
    first, second = _two_steps("adagrad", lr=1.5)
    g = np.array(G)
    w1 = np.array(W0) - 1.5 * g / (np.sqrt(g * g) + 1e-7)
    w2 = w1 - 1.5 * g / (np.sqrt(2 * g * g) + 1e-7)
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w2)


def test_rmsprop():
    first, second = _two_steps("rmsprop", lr=0.01, decay=0.99)
    g = np.array(G)
    h1 = 0.01 * g * g
    h2 = 0.99 * h1 + 0.01 * g * g
    w1 = np.array(W0) - 0.01 * g / (np.sqrt(h1) + 1e-7)
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w1 - 0.01 * g / (np.sqrt(h2) + 1e-7))


def test_adadelta_needs_no_learning_rate():
    first, second = _two_steps("adadelta", rho=0.95, eps=1e-6)
    g = np.array(G)
    eg1 = 0.05 * g * g
    d1 = np.sqrt(0 + 1e-6) / np.sqrt(eg1 + 1e-6) * g
    ed1 = 0.05 * d1 * d1
    eg2 = 0.95 * eg1 + 0.05 * g * g
    d2 = np.sqrt(ed1 + 1e-6) / np.sqrt(eg2 + 1e-6) * g
    np.testing.assert_allclose(first, np.array(W0) - d1)
    np.testing.assert_allclose(second, np.array(W0) - d1 - d2)
    assert make_optimizer("adadelta").lr == 1.0


def test_adam_with_bias_correction():
    first, second = _two_steps("adam", lr=0.3)
    g = np.array(G)
    m1, v1 = 0.1 * g, 0.001 * g * g
    lr1 = 0.3 * math.sqrt(1 - 0.999) / (1 - 0.9)
    w1 = np.array(W0) - lr1 * m1 / (np.sqrt(v1) + 1e-7)
    m2 = m1 + 0.1 * (g - m1)
    v2 = v1 + 0.001 * (g * g - v1)
    lr2 = 0.3 * math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    np.testing.assert_allclose(first, w1)
    np.testing.assert_allclose(second, w1 - lr2 * m2 / (np.sqrt(v2) + 1e-7))
    # the first bias-corrected step has size lr in every coordinate
    np.testing.assert_allclose(np.abs(first - np.array(W0)), 0.3, rtol=1e-4)  # eps=1e-7 shifts it slightly


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_stays_float32_and_grads_are_untouched(name):
    opt = make_optimizer(name, weight_decay=0.1, clip_norm=0.1)
    params, grads = _params(np.float32)
    g_before = grads[("fc", "W")].copy()
    for _ in range(3):
        opt.step(params, grads)
    assert params[("fc", "W")].dtype == np.float32
    assert all(a.dtype == np.float32 for s in opt.state.values() for a in s.values())
    np.testing.assert_array_equal(grads[("fc", "W")], g_before)


def test_weight_decay_only_on_W():
    opt = make_optimizer("sgd", lr=0.1, weight_decay=0.5)
    params = {("fc", "W"): np.array([2.0]), ("fc", "b"): np.array([2.0]), ("bn", "gamma"): np.array([2.0])}
    grads = {k: np.array([1.0]) for k in params}
    opt.step(params, grads)
    assert params[("fc", "W")][0] == pytest.approx(2.0 - 0.1 * (1.0 + 0.5 * 2.0))
    assert params[("fc", "b")][0] == pytest.approx(1.9)
    assert params[("bn", "gamma")][0] == pytest.approx(1.9)


def test_gradient_clipping_uses_the_global_norm():
    opt = make_optimizer("sgd", lr=1.0, clip_norm=1.0)
    params = {"a": np.array([0.0, 0.0]), "b": np.array([0.0])}
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([4.0])}  # global norm 5
    opt.step(params, grads)
    assert opt.last_grad_norm == pytest.approx(5.0)
    np.testing.assert_allclose(params["a"], [-0.6, 0.0], rtol=1e-9)
    np.testing.assert_allclose(params["b"], [-0.8], rtol=1e-9)
    assert global_norm([np.array([3.0, 4.0], np.float32)]) == pytest.approx(5.0)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_round_trip_continues_identically(name):
    a = make_optimizer(name, lr=0.05)
    params, grads = _params()
    a.step(params, grads)
    state = a.state_dict()
    b = make_optimizer(name, lr=0.05)
    b.load_state_dict(state)
    pa = {k: v.copy() for k, v in params.items()}
    pb = {k: v.copy() for k, v in params.items()}
    a.step(pa, grads)
    b.step(pb, grads)
    np.testing.assert_array_equal(pa[("fc", "W")], pb[("fc", "W")])
    with pytest.raises(ValueError, match="not"):
        make_optimizer("sgd" if name != "sgd" else "adam").load_state_dict(state)


def test_unknown_names_and_options():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs")
    with pytest.raises(ValueError, match="no option beta3"):
        Adam(beta3=0.5)
    with pytest.raises(ValueError, match="learning rate"):
        make_optimizer("sgd", lr=-1)


def test_optimizer_race_on_the_books_function():
    paths = {name: optimize_2d(name, lr) for name, lr in
             (("sgd", 0.95), ("momentum", 0.1), ("adagrad", 1.5), ("adam", 0.3))}
    for path in paths.values():
        assert path.shape == (31, 2)
        np.testing.assert_array_equal(path[0], [-7.0, 2.0])
    # the book's first SGD step: (x, y) - 0.95 * (x/10, 2y)
    np.testing.assert_allclose(paths["sgd"][1], [-7 + 0.95 * 0.7, 2 - 0.95 * 4])
    # SGD zig-zags in y (the sign of y flips every step); AdaGrad heads straight in
    assert np.all(np.sign(paths["sgd"][1:6, 1]) == [-1, 1, -1, 1, -1])
    assert np.all(np.diff(np.abs(paths["adagrad"][:, 1])) <= 1e-12)
    for path in paths.values():
        f0 = path[0, 0] ** 2 / 20 + path[0, 1] ** 2
        f_end = path[-1, 0] ** 2 / 20 + path[-1, 1] ** 2
        assert f_end < 0.1 * f0


@pytest.mark.parametrize("name, options", [("adam", {}), ("momentum", {"momentum": 0.5}), ("rmsprop", {}),
                                           ("adam", {"beta1": 0.3})])
def test_decaying_state_never_becomes_subnormal(name, options):
    """A weight whose gradient stays 0 has its state decay geometrically; subnormal float32
    values would make every later step many times slower, so they are flushed to 0."""
    opt = make_optimizer(name, lr=0.01, **options)
    p = {"w": np.ones(64, dtype=np.float32)}
    g = np.zeros(64, dtype=np.float32)
    g[:32] = 1.0
    opt.step(p, {"w": g})
    g[:32] = 0.0
    tiny = np.finfo(np.float32).tiny
    for _ in range(3000):
        opt.step(p, {"w": g})
        for arr in opt.state["w"].values():
            assert not np.any((arr != 0) & (np.abs(arr) < tiny)), f"subnormal state after step {opt.t}"


def test_flushing_leaves_ordinary_state_alone():
    opt = Adam(lr=0.01)
    ref = Adam(lr=0.01)
    ref._flush_tiny_state = lambda: None  # never flushes anything
    rng = np.random.default_rng(0)
    pa, pb = {"w": np.ones(50, dtype=np.float32)}, {"w": np.ones(50, dtype=np.float32)}
    for _ in range(300):
        g = rng.standard_normal(50).astype(np.float32)
        opt.step(pa, {"w": g})
        ref.step(pb, {"w": g})
    np.testing.assert_array_equal(pa["w"], pb["w"])


def test_float16_state_is_never_flushed():
    opt = make_optimizer("adagrad", lr=1e-3)
    p = {"w": np.ones(4, dtype=np.float16)}
    g = {"w": np.ones(4, dtype=np.float16)}
    for _ in range(256):
        opt.step(p, g)
    np.testing.assert_array_equal(opt.state["w"]["h"], np.full(4, 256, dtype=np.float16))
