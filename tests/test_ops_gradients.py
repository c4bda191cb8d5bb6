"""Tier 1: every op's backward against central-difference gradients (float64, random inputs).

Also forward values against slow reference implementations (direct convolution and
pooling loops) and max-pool's tie rule: the gradient lands on the first maximum.
"""
from __future__ import annotations

import numpy as np
import pytest

from layers import make_op
from numgrad import check_gradients, distinct, init

R = np.random.default_rng(42)


def rand(*shape):
    return R.standard_normal(shape)


def away_from_zero(*shape):
    """Random values with |x| >= 0.1, so kinks at 0 sit far from every finite-difference probe."""
    x = rand(*shape)
    return np.sign(x) * (np.abs(x) + 0.1)


# -- arithmetic and sources -------------------------------------------------------------
@pytest.mark.parametrize("type_name", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((), (3,)),
                                    ((2, 1), (1, 5))])
def test_binary_gradients(type_name, sa, sb):
    a = rand(*sa)
    b = 1.5 + R.random(sb) if type_name == "Div" else rand(*sb)
    check_gradients(make_op(type_name), [a, b])


@pytest.mark.parametrize("sa, sb", [((4, 3), (3, 5)), ((3,), (3, 2)), ((2, 4, 3), (3, 5))])
def test_matmul_gradients(sa, sb):
    check_gradients(make_op("MatMul"), [rand(*sa), rand(*sb)])


@pytest.mark.parametrize("type_name", ["Sum", "Mean"])
@pytest.mark.parametrize("axis", [-999, 0, 1, -1])
def test_reduce_gradients(type_name, axis):
    check_gradients(make_op(type_name, axis=axis), [rand(3, 4, 5)])


def test_parameter_gradient():
    op = make_op("Parameter", shape=[3, 2])
    check_gradients(op, [], init(op))


# -- activations ----------------------------------------------------------------------
@pytest.mark.parametrize("type_name, config", [
    ("Sigmoid", {}), ("Tanh", {}), ("ReLU", {}), ("LeakyReLU", {}), ("LeakyReLU", {"alpha": 0.2}),
    ("Identity", {}), ("Step", {}),
])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 2)])
def test_activation_gradients(type_name, config, shape):
    check_gradients(make_op(type_name, **config), [away_from_zero(*shape) * 3])


def test_step_gradient_is_zero():
    (dx,), _ = make_op("Step").backward(np.ones(4), make_op("Step").forward([rand(4)], {}, True)[1])
    assert np.array_equal(dx, np.zeros(4))


@pytest.mark.parametrize("shape", [(6,), (4, 5), (2, 3, 4)])
def test_softmax_gradients(shape):
    check_gradients(make_op("Softmax"), [rand(*shape) * 2])


def test_sigmoid_extremes_are_finite():
    out, _ = make_op("Sigmoid").forward([np.array([-1000.0, 0.0, 1000.0])], {}, True)
    assert np.allclose(out, [0.0, 0.5, 1.0]) and np.all(np.isfinite(out))


# -- losses ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (1, 3), (2, 3, 4)])
def test_softmax_cross_entropy_labels(shape):
    labels = R.integers(0, shape[-1], shape[:-1])
    (dx, dt), _ = check_gradients(make_op("SoftmaxCrossEntropy"), [rand(*shape) * 2, labels], skip_inputs=(1,))
    assert dt is None


@pytest.mark.parametrize("soft", [False, True])
def test_softmax_cross_entropy_one_hot_and_soft(soft):
    x = rand(4, 5) * 2
    t = R.random((4, 5)) if soft else np.eye(5)[R.integers(0, 5, 4)]
    if soft:
        t /= t.sum(axis=1, keepdims=True)
    check_gradients(make_op("SoftmaxCrossEntropy"), [x, t], skip_inputs=(1,))


def test_softmax_cross_entropy_labels_equal_one_hot():
    op = make_op("SoftmaxCrossEntropy")
    x, labels = rand(6, 4), R.integers(0, 4, 6)
    a, ca = op.forward([x, labels], {}, True)
    b, cb = op.forward([x, np.eye(4)[labels]], {}, True)
    naive = -np.mean(np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))[np.arange(6), labels])
    assert a.shape == () and float(a) == pytest.approx(naive) and float(b) == pytest.approx(naive)
    np.testing.assert_allclose(op.backward(np.array(1.0), ca)[0][0], op.backward(np.array(1.0), cb)[0][0])


def test_softmax_cross_entropy_is_stable():
    op = make_op("SoftmaxCrossEntropy")
    out, cache = op.forward([np.array([[1000.0, 0.0, -1000.0]]), np.array([2])], {}, True)
    assert float(out) == pytest.approx(2000.0)
    (dx, _), _ = op.backward(np.array(1.0), cache)
    np.testing.assert_allclose(dx, [[1.0, 0.0, -1.0]])


@pytest.mark.parametrize("type_name", ["MSE", "SSE", "SigmoidBCE"])
@pytest.mark.parametrize("shape", [(4,), (3, 2), (2, 2, 3)])
def test_regression_loss_gradients(type_name, shape):
    t = R.random(shape) if type_name == "SigmoidBCE" else rand(*shape)
    check_gradients(make_op(type_name), [rand(*shape) * 2, t])


def test_loss_values_match_the_book():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.eye(10)[2]
    sse, _ = make_op("SSE").forward([y, t], {}, True)
    mse, _ = make_op("MSE").forward([y, t], {}, True)
    assert float(sse) == pytest.approx(0.0975) and float(mse) == pytest.approx(0.0195)
    x = np.array([-800.0, 0.0, 800.0])
    bce, _ = make_op("SigmoidBCE").forward([x, np.array([0.0, 1.0, 1.0])], {}, True)
    assert float(bce) == pytest.approx(np.log(2) / 3)


# -- dense ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 3, 2), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_affine_gradients(shape, bias):
    op = make_op("Affine", out_features=3, bias=bias)
    params = init(op, shape)
    assert set(params) == ({"W", "b"} if bias else {"W"})
    if bias:
        params["b"] = rand(3)
    check_gradients(op, [rand(*shape)], params)


def test_flatten_gradient():
    check_gradients(make_op("Flatten"), [rand(2, 3, 2, 2)])


# -- convolution ----------------------------------------------------------------------
def conv_reference(x, w, b, stride, pad):
    """Direct convolution (cross-correlation), one output pixel at a time."""
    n, c, h, wd = x.shape
    fn, _, fh, fw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - fh) // stride + 1, (wd + 2 * pad - fw) // stride + 1
    out = np.zeros((n, fn, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


CONV_CASES = [  # x shape, out_channels, kernel, stride, padding
    ((2, 3, 5, 6), 2, 3, 1, 0),
    ((2, 3, 7, 5), 3, 3, 2, 1),
    ((1, 2, 5, 4), 2, 2, 1, 2),
    ((2, 1, 8, 6), 2, 4, 2, 2),
    ((1, 2, 9, 12), 2, 5, 3, 1),
    ((2, 2, 4, 3), 3, 1, 1, 0),
    ((1, 1, 7, 7), 1, 3, 2, 0),
    ((1, 2, 4, 6), 2, 2, 2, 1),
    ((2, 1, 8, 7), 2, 3, 2, 0),   # (8 - 3)/2 + 1 = 3.5: rounded down, the last row unused
    ((1, 2, 6, 9), 2, 3, 2, 1),
]


@pytest.mark.parametrize("shape, fn, k, s, p", CONV_CASES)
def test_conv_forward_matches_direct_convolution(shape, fn, k, s, p):
    op = make_op("Conv2D", out_channels=fn, kernel_size=k, stride=s, padding=p)
    params = {"W": rand(fn, shape[1], k, k), "b": rand(fn)}
    x = rand(*shape)
    out, _ = op.forward([x], params, True)
    assert out.shape == (shape[0],) + op.infer_shape((None,) + shape[1:])[1:]
    np.testing.assert_allclose(out, conv_reference(x, params["W"], params["b"], s, p), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, fn, k, s, p", CONV_CASES)
def test_conv_gradients(shape, fn, k, s, p):
    op = make_op("Conv2D", out_channels=fn, kernel_size=k, stride=s, padding=p)
    check_gradients(op, [rand(*shape)], {"W": rand(fn, shape[1], k, k), "b": rand(fn)})


def test_conv_without_bias_gradients():
    op = make_op("Conv2D", out_channels=2, kernel_size=3, stride=2, padding=1, bias=False)
    params = init(op, (1, 2, 5, 5))
    assert set(params) == {"W"} and op.learnable == ("W",)
    check_gradients(op, [rand(1, 2, 5, 5)], params)


@pytest.mark.parametrize("need", [False, [False], (False,)])
def test_conv_skips_input_gradient_when_not_needed(need):
    op = make_op("Conv2D", out_channels=2, kernel_size=3)
    x, params = rand(2, 1, 5, 5), {"W": rand(2, 1, 3, 3), "b": rand(2)}
    _, cache = op.forward([x], params, True)
    dout = rand(2, 2, 3, 3)
    (dx,), grads = op.backward(dout, cache, need)
    (full,), grads_full = op.backward(dout, cache, True)
    assert dx is None and full.shape == x.shape
    for name in ("W", "b"):
        np.testing.assert_array_equal(grads[name], grads_full[name])


# -- pooling --------------------------------------------------------------------------
def pool_reference(x, k, s, p, kind):
    """Window by window: value, and the max-pool gradient of ones-weighted outputs (first max)."""
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    dxp = np.zeros(xp.shape)
    dout = np.arange(1.0, n * c * oh * ow + 1).reshape(n, c, oh, ow)
    for a in range(n):
        for b in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = xp[a, b, i * s:i * s + k, j * s:j * s + k]
                    if kind == "max":
                        first = np.argmax(win)  # np.argmax returns the first maximum, row-major
                        out[a, b, i, j] = win.flat[first]
                        dxp[a, b, i * s + first // k, j * s + first % k] += dout[a, b, i, j]
                    else:
                        out[a, b, i, j] = win.mean()
                        dxp[a, b, i * s:i * s + k, j * s:j * s + k] += dout[a, b, i, j] / (k * k)
    return out, dout, dxp[:, :, p:p + h, p:p + w]


POOL_CASES = [  # x shape, kernel, stride, padding
    ((2, 3, 4, 6), 2, 2, 0),
    ((2, 2, 6, 9), 3, 3, 0),
    ((1, 2, 5, 4), 3, 1, 1),
    ((2, 2, 4, 5), 2, 1, 0),
    ((1, 2, 7, 5), 3, 2, 1),
    ((1, 1, 6, 8), 4, 2, 2),
    ((1, 2, 6, 4), 2, 2, 1),
    ((2, 1, 3, 5), 1, 1, 0),
    ((2, 2, 5, 7), 2, 2, 0),      # stride = kernel with a leftover row and column
    ((1, 2, 8, 6), 3, 2, 0),      # (8 - 3)/2 + 1 = 3.5 rounded down
]


@pytest.mark.parametrize("type_name", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("shape, k, s, p", POOL_CASES)
def test_pool_gradients(type_name, shape, k, s, p):
    op = make_op(type_name, kernel_size=k, stride=s, padding=p)
    check_gradients(op, [distinct(shape, seed=k + s + p)])


@pytest.mark.parametrize("type_name", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("shape, k, s, p", POOL_CASES)
@pytest.mark.parametrize("values", ["random", "ties", "constant"])
def test_pool_matches_reference_with_ties(type_name, shape, k, s, p, values):
    """Few distinct values make many windows hold several maxima: the first one wins."""
    x = {"random": rand(*shape), "ties": R.integers(0, 3, shape).astype(float),
         "constant": np.full(shape, 7.0)}[values]
    op = make_op(type_name, kernel_size=k, stride=s, padding=p)
    out, cache = op.forward([x], {}, True)
    ref_out, dout, ref_dx = pool_reference(x, k, s, p, "max" if type_name == "MaxPool2D" else "avg")
    np.testing.assert_allclose(out, ref_out)
    (dx,), _ = op.backward(dout, cache)
    np.testing.assert_allclose(dx, ref_dx)


def test_max_pool_constant_input_sends_gradient_to_each_window_top_left():
    x = np.ones((1, 1, 4, 4))
    op = make_op("MaxPool2D", kernel_size=2, stride=2)
    _, cache = op.forward([x], {}, True)
    (dx,), _ = op.backward(np.ones((1, 1, 2, 2)), cache)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    assert np.array_equal(dx[0, 0], expected)


def test_max_pool_tie_prefers_row_major_first():
    # maxima at (0, 1) and (1, 0): row-major order picks (0, 1), not the first in a column scan
    x = np.array([[[[0.0, 5.0], [5.0, 0.0]]]])
    for config in ({}, {"kernel_size": 2, "stride": 1}):
        op = make_op("MaxPool2D", **config)
        _, cache = op.forward([x], {}, True)
        (dx,), _ = op.backward(np.ones((1, 1, 1, 1)), cache)
        assert np.array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_global_avg_pool_gradients():
    check_gradients(make_op("GlobalAvgPool"), [rand(2, 3, 4, 5)])


# -- normalization --------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 4), (5, 3, 2)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_gradients(shape, train):
    op = make_op("BatchNorm")
    c = shape[1]
    params = {"gamma": 1 + rand(c) * 0.3, "beta": rand(c), "running_mean": rand(c), "running_var": 0.5 + R.random(c)}
    check_gradients(op, [rand(*shape) * 2 + 1], params, train=train, rtol=1e-4, atol=1e-6)


def test_batchnorm_statistics_and_buffers():
    op = make_op("BatchNorm", momentum=0.9)
    x = rand(50, 3, 2, 2) * 3 + 5
    params = init(op, (None, 3, 2, 2))
    out, cache = op.forward([x], params, True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    new = op.new_buffers(cache)
    np.testing.assert_allclose(new["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(new["running_var"], 0.9 + 0.1 * x.var(axis=(0, 2, 3)))
    params.update(new)
    evaluated, eval_cache = op.forward([x], params, False)
    expected = (x - new["running_mean"].reshape(1, 3, 1, 1)) / np.sqrt(new["running_var"].reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(evaluated, expected)
    assert op.new_buffers(eval_cache) == {}


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.8])
def test_dropout_gradients_with_fixed_mask(ratio):
    check_gradients(make_op("Dropout", ratio=ratio), [rand(5, 6)], seed=7)


def test_dropout_train_and_eval():
    op = make_op("Dropout", ratio=0.4)
    x = np.ones((200, 100))
    out, _ = op.forward([x], {}, True, rng=np.random.default_rng(3))
    kept = out != 0
    assert kept.mean() == pytest.approx(0.6, abs=0.02)
    np.testing.assert_allclose(out[kept], 1 / 0.6)
    again, _ = op.forward([x], {}, True, rng=np.random.default_rng(3))
    assert np.array_equal(out, again)
    assert op.forward([x], {}, True)[0].shape == x.shape  # no rng given: its own generator
    same, cache = op.forward([x], {}, False)
    assert np.array_equal(same, x)
    (dx,), _ = op.backward(x * 2, cache)
    assert np.array_equal(dx, x * 2)


@pytest.mark.parametrize("type_name, config", [
    ("Conv2D", {"out_channels": 2, "kernel_size": 3}), ("Conv2D", {"out_channels": 2, "kernel_size": 4, "stride": 2, "padding": 1}),
    ("MaxPool2D", {}), ("MaxPool2D", {"kernel_size": 3, "stride": 1, "padding": 1}), ("AvgPool2D", {}),
    ("BatchNorm", {}), ("Affine", {"out_features": 3}), ("ReLU", {}),
])
def test_non_contiguous_inputs_give_the_same_results(type_name, config):
    """Strided views (a transposed or sliced batch) compute exactly what their copies do."""
    x = rand(9, 2, 16, 6).transpose(0, 1, 3, 2)[:, :, :, ::2]  # (9, 2, 6, 8), not contiguous
    assert not x.flags.c_contiguous
    op = make_op(type_name, **config)
    params = init(op, x.shape)
    out, cache = op.forward([x], params, True)
    ref, ref_cache = op.forward([np.ascontiguousarray(x)], params, True)
    np.testing.assert_allclose(out, ref)
    dout = rand(*out.shape)
    (dx,), grads = op.backward(dout, cache)
    (ref_dx,), ref_grads = op.backward(dout, ref_cache)
    np.testing.assert_allclose(dx, ref_dx)
    for name in grads:
        np.testing.assert_allclose(grads[name], ref_grads[name])
