"""Tier 1: op shapes, error messages, configuration checks, dtypes and no mutation.

Every op is run on a small sample configuration (``CASES``) to check that
``infer_shape`` agrees with ``forward``, that float32/float16 stay in their dtype through
forward and backward, and that nothing an op is handed gets written to.
"""
from __future__ import annotations

import numpy as np
import pytest

from layers import ParamError, ShapeError, make_op, op_types
from layers.base import CATEGORIES
from layers.registry import get_op_class
from numgrad import init

R = np.random.default_rng(7)
LABELS = "labels"

# id, type, config, input shapes (a LABELS entry is integer class labels for 5 classes), train
CASES = [
    ("add", "Add", {}, [(3, 4), (4,)], True),
    ("sub", "Sub", {}, [(2, 3), (2, 3)], True),
    ("mul", "Mul", {}, [(3, 1), (1, 4)], True),
    ("div", "Div", {}, [(3, 4), (3, 4)], True),
    ("matmul", "MatMul", {}, [(4, 3), (3, 5)], True),
    ("sum", "Sum", {"axis": 1}, [(3, 4, 2)], True),
    ("mean", "Mean", {}, [(3, 4)], True),
    ("parameter", "Parameter", {"shape": [3, 2]}, [], True),
    ("step", "Step", {}, [(4, 5)], True),
    ("sigmoid", "Sigmoid", {}, [(4, 5)], True),
    ("tanh", "Tanh", {}, [(4, 5)], True),
    ("relu", "ReLU", {}, [(2, 3, 4, 4)], True),
    ("leaky_relu", "LeakyReLU", {"alpha": 0.1}, [(4, 5)], True),
    ("softmax", "Softmax", {}, [(4, 5)], True),
    ("identity", "Identity", {}, [(4, 5)], True),
    ("affine", "Affine", {"out_features": 3}, [(4, 2, 3)], True),
    ("affine_nobias", "Affine", {"out_features": 3, "bias": False}, [(4, 6)], True),
    ("flatten", "Flatten", {}, [(2, 3, 4, 5)], True),
    ("conv", "Conv2D", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}, [(2, 3, 7, 7)], True),
    ("conv_s1", "Conv2D", {"out_channels": 2, "kernel_size": 3}, [(2, 1, 6, 5)], True),
    ("maxpool", "MaxPool2D", {}, [(2, 3, 6, 8)], True),
    ("maxpool_general", "MaxPool2D", {"kernel_size": 3, "stride": 1, "padding": 1}, [(2, 2, 5, 4)], True),
    ("avgpool", "AvgPool2D", {}, [(2, 3, 6, 8)], True),
    ("avgpool_general", "AvgPool2D", {"kernel_size": 3, "stride": 2, "padding": 1}, [(2, 2, 7, 5)], True),
    ("gap", "GlobalAvgPool", {}, [(2, 3, 4, 5)], True),
    ("batchnorm_2d", "BatchNorm", {}, [(6, 3)], True),
    ("batchnorm_4d", "BatchNorm", {}, [(4, 3, 2, 2)], True),
    ("batchnorm_eval", "BatchNorm", {}, [(4, 3, 2, 2)], False),
    ("dropout", "Dropout", {"ratio": 0.3}, [(4, 5)], True),
    ("dropout_eval", "Dropout", {"ratio": 0.3}, [(4, 5)], False),
    ("softmax_ce_labels", "SoftmaxCrossEntropy", {}, [(4, 5), LABELS], True),
    ("softmax_ce_onehot", "SoftmaxCrossEntropy", {}, [(4, 5), (4, 5)], True),
    ("mse", "MSE", {}, [(4, 3), (4, 3)], True),
    ("sse", "SSE", {}, [(4, 3), (4, 3)], True),
    ("bce", "SigmoidBCE", {}, [(4, 3), (4, 3)], True),
]
CASE_IDS = [c[0] for c in CASES]


def make_case(case, dtype=np.float64):
    """(op, inputs, params, train) for one case, floats in ``dtype``."""
    _, type_name, config, shapes, train = case
    op = make_op(type_name, **config)
    inputs = []
    for i, shape in enumerate(shapes):
        if shape == LABELS:
            inputs.append(R.integers(0, 5, 4))
        elif type_name == "SoftmaxCrossEntropy" and i == 1:
            inputs.append(np.eye(5, dtype=dtype)[R.integers(0, 5, 4)])
        elif type_name in ("Div", "SigmoidBCE") and i == 1:
            inputs.append((0.5 + R.random(shape)).astype(dtype) / (2 if type_name == "SigmoidBCE" else 1))
        else:
            inputs.append(R.standard_normal(shape).astype(dtype))
    in_shapes = [np.shape(a) for a in inputs]
    params = init(op, *in_shapes) if (op.learnable or op.buffers) else {}
    params = {k: v.astype(dtype) for k, v in params.items()}
    return op, inputs, params, train


def run_case(op, inputs, params, train, seed=0):
    return op.forward(inputs, params, train, rng=np.random.default_rng(seed))


# -- shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_infer_shape_matches_forward(case):
    op, inputs, params, train = make_case(case)
    out, _ = run_case(op, inputs, params, train)
    assert tuple(op.infer_shape(*[a.shape for a in inputs])) == np.shape(out)


@pytest.mark.parametrize("type_name, config, shapes, expected", [
    ("Conv2D", {"out_channels": 30, "kernel_size": 5}, [(None, 1, 28, 28)], (None, 30, 24, 24)),
    ("Conv2D", {"out_channels": 16, "kernel_size": 3, "padding": 1}, [(None, 3, 32, 32)], (None, 16, 32, 32)),
    ("Conv2D", {"out_channels": 8, "kernel_size": 4, "stride": 2, "padding": 1}, [(None, 3, 32, 30)],
     (None, 8, 16, 15)),
    ("MaxPool2D", {}, [(None, 30, 24, 24)], (None, 30, 12, 12)),
    ("AvgPool2D", {"kernel_size": 3, "stride": 1, "padding": 1}, [(None, 4, 9, 7)], (None, 4, 9, 7)),
    ("GlobalAvgPool", {}, [(None, 64, 7, 7)], (None, 64)),
    ("Affine", {"out_features": 100}, [(None, 30, 12, 12)], (None, 100)),
    ("Affine", {"out_features": 4}, [(3,)], (4,)),
    ("Flatten", {}, [(None, 30, 12, 12)], (None, 4320)),
    ("BatchNorm", {}, [(None, 100)], (None, 100)),
    ("ReLU", {}, [(None, 30, 24, 24)], (None, 30, 24, 24)),
    ("Softmax", {}, [(None, 10)], (None, 10)),
    ("Dropout", {}, [(None, 10)], (None, 10)),
    ("SoftmaxCrossEntropy", {}, [(None, 10), (None,)], ()),
    ("SoftmaxCrossEntropy", {}, [(None, 10), (None, 10)], ()),
    ("MSE", {}, [(None, 1), (None, 1)], ()),
    ("SSE", {}, [(10,), (10,)], ()),
    ("SigmoidBCE", {}, [(None, 3), (None, 3)], ()),
])
def test_infer_shape_with_batch_axis(type_name, config, shapes, expected):
    assert tuple(make_op(type_name, **config).infer_shape(*shapes)) == expected


def test_param_shapes():
    assert make_op("Conv2D", out_channels=30, kernel_size=5).param_shapes((None, 1, 28, 28)) == {
        "W": (30, 1, 5, 5), "b": (30,)}
    assert make_op("Affine", out_features=100).param_shapes((None, 30, 12, 12)) == {"W": (4320, 100), "b": (100,)}
    assert make_op("Affine", out_features=5, bias=False).param_shapes((None, 4)) == {"W": (4, 5)}
    assert make_op("BatchNorm").param_shapes((None, 16, 8, 8)) == {
        "gamma": (16,), "beta": (16,), "running_mean": (16,), "running_var": (16,)}
    assert make_op("Conv2D", out_channels=8, kernel_size=3).param_count((None, 3, 8, 8)) == 8 * 3 * 9 + 8


def test_conv_explains_its_output_size():
    op = make_op("Conv2D", out_channels=30, kernel_size=5)
    assert op.explain_shape((None, 1, 28, 28)) == [
        "Conv2D: OH = (H + 2P - FH) / S + 1 = (28 + 0 - 5)/1 + 1 = 24",
        "Conv2D: OW = (W + 2P - FW) / S + 1 = (28 + 0 - 5)/1 + 1 = 24",
    ]
    pool = make_op("MaxPool2D", kernel_size=3, stride=2, padding=1)
    assert pool.explain_shape((None, 8, 9, 5))[1] == "MaxPool2D: OW = (W + 2P - K) / S + 1 = (5 + 2 - 3)/2 + 1 = 3"


@pytest.mark.parametrize("type_name, config, shape, expected", [
    ("Conv2D", {"out_channels": 30, "kernel_size": 5, "stride": 2}, (None, 1, 28, 28), (None, 30, 12, 12)),
    ("Conv2D", {"out_channels": 2, "kernel_size": 3, "padding": 2, "stride": 3}, (None, 1, 9, 9), (None, 2, 4, 4)),
    ("MaxPool2D", {}, (None, 30, 7, 7), (None, 30, 3, 3)),
    ("AvgPool2D", {"kernel_size": 3, "stride": 2}, (4, 2, 8, 6), (4, 2, 3, 2)),
])
def test_output_size_rounds_down_like_pytorch(type_name, config, shape, expected):
    assert make_op(type_name, **config).infer_shape(shape) == expected


def test_explanation_spells_out_the_rounding():
    op = make_op("Conv2D", out_channels=30, kernel_size=5, stride=2)
    assert op.explain_shape((None, 1, 28, 28))[0] == (
        "Conv2D: OH = (H + 2P - FH) / S + 1 = (28 + 0 - 5)/2 + 1 = 12 "
        "(rounded down from 12.5: the last 1 row of the padded input fit no window)")
    lines = make_op("MaxPool2D", kernel_size=3, stride=3).explain_shape((None, 1, 9, 11))
    assert lines[0] == "MaxPool2D: OH = (H + 2P - K) / S + 1 = (9 + 0 - 3)/3 + 1 = 3"
    assert lines[1].endswith("= 3 (rounded down from 3.66667: the last 2 columns of the padded input fit no window)")


# -- shape errors ---------------------------------------------------------------------
SHAPE_ERRORS = [
    ("Conv2D", {"out_channels": 30, "kernel_size": 5}, [(None, 1, 28, 3)],
     ["Conv2D: OW = (W + 2P - FW) / S + 1 = (3 + 0 - 5)/1 + 1 = -1", "< 1", "does not fit"]),
    ("Conv2D", {}, [(None, 784)], ["expects images (N, C, H, W)", "(N, 784)"]),
    ("Conv2D", {}, [(None, None, 28, 28)], ["channel count C"]),
    ("AvgPool2D", {"kernel_size": 4}, [(None, 3, 2, 8)], ["AvgPool2D: OH", "(2 + 0 - 4)/2 + 1 = 0", "< 1"]),
    ("MaxPool2D", {}, [(None, 10)], ["MaxPool2D: expects images (N, C, H, W)"]),
    ("GlobalAvgPool", {}, [(None, 10, 3)], ["GlobalAvgPool: expects images"]),
    ("Affine", {}, [(None, None)], ["Affine: the feature size of (N, N) must be known"]),
    ("Affine", {}, [()], ["Affine: needs at least one axis"]),
    ("Flatten", {}, [()], ["Flatten: needs a batch axis"]),
    ("Flatten", {}, [(None, 3, None)], ["Flatten: the feature size"]),
    ("BatchNorm", {}, [(None,)], ["BatchNorm: expects (N, D) or (N, C, H, W)"]),
    ("BatchNorm", {}, [(None, None)], ["feature/channel axis"]),
    ("SoftmaxCrossEntropy", {}, [(None, 10), (None, 5)],
     ["labels (N,) or one-hot (N, 10)", "K = 10", "got t (N, 5)"]),
    ("SoftmaxCrossEntropy", {}, [(), ()], ["x must have a class axis"]),
    ("MSE", {}, [(None, 3), (None, 4)], ["MSE: prediction x (N, 3) and target t (N, 4) must have the same shape"]),
    ("SSE", {}, [(3,), (3, 1)], ["SSE: prediction x (3,)"]),
    ("SigmoidBCE", {}, [(None, 1), (None,)], ["SigmoidBCE"]),
    ("Add", {}, [(3, 4), (5,)], ["Add: shapes (3, 4) and (5,) do not broadcast"]),
    ("MatMul", {}, [(None, 3), (4, 5)], ["MatMul: inner sizes differ"]),
    ("Sum", {"axis": 2}, [(None, 3)], ["Sum: axis 2 is out of range"]),
]


@pytest.mark.parametrize("type_name, config, shapes, fragments", SHAPE_ERRORS)
def test_shape_error_messages(type_name, config, shapes, fragments):
    with pytest.raises(ShapeError) as err:
        make_op(type_name, **config).infer_shape(*shapes)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_forward_shape_errors_name_the_mismatch():
    conv = make_op("Conv2D", out_channels=30, kernel_size=5)
    with pytest.raises(ShapeError, match=r"has C = 3 channels but the filters W \(30, 1, 5, 5\) expect C = 1"):
        conv.forward([np.zeros((2, 3, 8, 8))], {"W": np.zeros((30, 1, 5, 5)), "b": np.zeros(30)}, True)
    with pytest.raises(ShapeError, match=r"W \(30, 1, 3, 3\) does not match out_channels = 30, kernel_size = 5"):
        conv.forward([np.zeros((2, 1, 8, 8))], {"W": np.zeros((30, 1, 3, 3)), "b": np.zeros(30)}, True)
    affine = make_op("Affine", out_features=3)
    with pytest.raises(ShapeError, match=r"has D = 6 features per sample but W \(5, 3\) expects D = 5"):
        affine.forward([np.zeros((2, 2, 3))], {"W": np.zeros((5, 3)), "b": np.zeros(3)}, True)
    bn = make_op("BatchNorm")
    with pytest.raises(ShapeError, match="BatchNorm: input"):
        bn.forward([np.zeros((2, 4))], init(bn, (2, 3)), True)
    ce = make_op("SoftmaxCrossEntropy")
    with pytest.raises(ShapeError, match=r"labels must be class indices 0..4 for K = 5 classes; got values from 0 to 5"):
        ce.forward([np.zeros((2, 5)), np.array([0, 5])], {}, True)
    with pytest.raises(ShapeError, match="SoftmaxCrossEntropy: for scores x"):
        ce.forward([np.zeros((2, 5)), np.array([0, 1, 2])], {}, True)
    with pytest.raises(ShapeError, match="MaxPool2D: OH"):
        make_op("MaxPool2D", kernel_size=3).forward([np.zeros((1, 1, 2, 4))], {}, True)


# -- configuration errors --------------------------------------------------------------
PARAM_ERRORS = [
    ("Conv2D", {"out_channels": 0}, "out_channels must be >= 1"),
    ("Conv2D", {"out_channels": 2.5}, "expected a whole number"),
    ("Conv2D", {"kernel_size": 0}, "kernel_size must be >= 1"),
    ("Conv2D", {"stride": 0}, "stride must be >= 1"),
    ("Conv2D", {"padding": -1}, "padding must be >= 0"),
    ("Conv2D", {"init": "bogus"}, "init must be one of he, xavier, normal"),
    ("Conv2D", {"std": -0.1}, "std must be >= 0"),
    ("Conv2D", {"bias": "maybe"}, "expected true or false"),
    ("Conv2D", {"filters": 3}, "Conv2D has no parameter filters"),
    ("Affine", {"out_features": 0}, "out_features must be >= 1"),
    ("Affine", {"init": "uniform"}, "init must be one of"),
    ("LeakyReLU", {"alpha": -0.1}, "alpha must be >= 0"),
    ("LeakyReLU", {"alpha": 2}, "alpha must be <= 1"),
    ("Dropout", {"ratio": 1.0}, "ratio must be < 1"),
    ("Dropout", {"ratio": -0.1}, "ratio must be >= 0"),
    ("BatchNorm", {"momentum": 1.5}, "momentum must be <= 1"),
    ("BatchNorm", {"eps": 0}, "eps must be >= 1e-12"),
    ("MaxPool2D", {"kernel_size": 2, "padding": 2}, "padding must be at most half the kernel size"),
    ("AvgPool2D", {"stride": 0}, "stride must be >= 1"),
    ("MaxPool2D", {"kernel_size": "two"}, "kernel_size"),
    ("ReLU", {"alpha": 0.1}, "ReLU has no parameter alpha"),
]


@pytest.mark.parametrize("type_name, config, fragment", PARAM_ERRORS)
def test_param_errors(type_name, config, fragment):
    with pytest.raises(ParamError) as err:
        make_op(type_name, **config)
    assert fragment in str(err.value)


def test_defaults_follow_the_book():
    assert make_op("Conv2D").config == {"out_channels": 30, "kernel_size": 5, "stride": 1, "padding": 0,
                                        "init": "he", "std": 0.01, "fill": 0.0, "bias": True}
    assert make_op("MaxPool2D").config == {"kernel_size": 2, "stride": 2, "padding": 0}
    assert make_op("LeakyReLU").config == {"alpha": 0.01}
    assert make_op("Dropout").config == {"ratio": 0.5}
    assert make_op("BatchNorm").config == {"momentum": 0.9, "eps": 1e-5}
    assert make_op("Affine").config["init"] == "he" and make_op("Affine").config["bias"] is True


# -- dtypes and mutation ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_dtype_is_preserved(case, dtype):
    op, inputs, params, train = make_case(case, dtype)
    out, cache = run_case(op, inputs, params, train)
    assert out.dtype == dtype
    dout = np.asarray(R.standard_normal(np.shape(out)), dtype=dtype)
    input_grads, param_grads = op.backward(dout, cache)
    for g in input_grads:
        assert g is None or g.dtype == dtype
    assert set(param_grads) == set(op.learnable)
    for name, g in param_grads.items():
        assert g.dtype == dtype and g.shape == params[name].shape, name
    for name, buf in op.new_buffers(cache).items():
        assert buf.dtype == dtype and buf.shape == params[name].shape, name


def _freeze(arrays):
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_and_backward_never_mutate(case):
    op, inputs, params, train = make_case(case)
    before = [a.copy() for a in inputs], {k: v.copy() for k, v in params.items()}
    _freeze(inputs)
    _freeze(params.values())  # a write into a read-only array raises
    out, cache = run_case(op, inputs, params, train)
    dout = np.asarray(R.standard_normal(np.shape(out)))
    dout_before = dout.copy()
    _freeze([dout])
    first = op.backward(dout, cache)
    second = op.backward(dout, cache)  # the cache survives a backward pass unchanged
    op.new_buffers(cache)
    for a, b in zip(inputs, before[0]):
        assert np.array_equal(a, b)
    for k, v in params.items():
        assert np.array_equal(v, before[1][k])
    assert np.array_equal(dout, dout_before)
    for g1, g2 in zip(first[0], second[0]):
        assert (g1 is None and g2 is None) or np.array_equal(g1, g2)
    for name in first[1]:
        assert np.array_equal(first[1][name], second[1][name])


def test_float32_simple_conv_net_stays_float32():
    """The SimpleConvNet path in float32: every output and gradient is float32."""
    f32 = np.float32
    layers = [make_op("Conv2D", out_channels=4, kernel_size=5), make_op("ReLU"), make_op("MaxPool2D"),
              make_op("Affine", out_features=6), make_op("ReLU"), make_op("Affine", out_features=3)]
    shapes = [(None, 1, 12, 12)]
    params = []
    for op in layers:
        params.append({k: v.astype(f32) for k, v in (init(op, shapes[-1]) if op.learnable else {}).items()})
        shapes.append(op.infer_shape(shapes[-1]))
    h = R.random((5, 1, 12, 12), dtype=f32)
    caches = []
    for op, p in zip(layers, params):
        h, c = op.forward([h], p, True)
        assert h.dtype == f32
        caches.append(c)
    loss = make_op("SoftmaxCrossEntropy")
    value, lc = loss.forward([h, np.array([0, 1, 2, 0, 1])], {}, True)
    assert value.dtype == f32 and value.shape == ()
    (d, _), _ = loss.backward(np.ones((), f32), lc)
    for i in reversed(range(len(layers))):
        (d,), grads = layers[i].backward(d, caches[i], [i > 0])
        assert all(g.dtype == f32 for g in grads.values())
        assert (d is None) == (i == 0) and (d is None or d.dtype == f32)


# -- catalog, initialisation and display text ------------------------------------------
MINE = ["Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity", "Affine", "Flatten", "Conv2D",
        "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "BatchNorm", "Dropout", "SoftmaxCrossEntropy", "MSE", "SSE",
        "SigmoidBCE"]


@pytest.mark.parametrize("type_name", op_types())
def test_every_op_describes_itself(type_name):
    cls = get_op_class(type_name)
    assert cls.category in CATEGORIES
    assert cls.doc and "\n" not in cls.doc
    assert cls.rule and "∂L/∂" in cls.rule
    assert len(cls.outputs) == 1
    for spec in cls.param_spec:
        assert spec.doc
        spec.validate(spec.default)


def test_catalog_has_every_op():
    assert set(MINE) <= set(op_types())
    categories = {t: get_op_class(t).category for t in MINE}
    assert {t for t, c in categories.items() if c == "losses"} == {"SoftmaxCrossEntropy", "MSE", "SSE", "SigmoidBCE"}
    assert {t for t, c in categories.items() if c == "activations"} == {
        "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity"}


def test_init_params_are_float64_and_scaled():
    rng = np.random.default_rng(0)
    affine = make_op("Affine", out_features=200)
    params = affine.init_params([(None, 800)], rng)
    assert params["W"].dtype == np.float64 and params["W"].shape == (800, 200)
    assert params["W"].std() == pytest.approx(np.sqrt(2 / 800), rel=0.05)
    assert np.array_equal(params["b"], np.zeros(200))
    conv = make_op("Conv2D", out_channels=64, kernel_size=3, init="normal", std=0.01)
    w = conv.init_params({"W": (64, 8, 3, 3), "b": (64,)}, rng)["W"]
    assert w.shape == (64, 8, 3, 3) and w.std() == pytest.approx(0.01, rel=0.1)
    bn = make_op("BatchNorm").init_params([(None, 4)], rng)
    assert np.array_equal(bn["gamma"], np.ones(4)) and np.array_equal(bn["running_var"], np.ones(4))
    assert np.array_equal(bn["beta"], np.zeros(4)) and np.array_equal(bn["running_mean"], np.zeros(4))


def _numbers(type_name, x, dout=1.0, **config):
    op = make_op(type_name, **config)
    x = np.array(x)
    out, cache = op.forward([x], {}, True)
    (dx,), _ = op.backward(np.array(dout), cache)
    return op.rule_with_numbers([x], np.array(dout), [dx])


def test_rule_with_numbers_for_scalars():
    assert _numbers("ReLU", 3.0) == "∂L/∂x = ∂L/∂out × (x > 0) = 1 × 1 = 1"
    assert _numbers("ReLU", -2.0, 1.5) == "∂L/∂x = ∂L/∂out × (x > 0) = 1.5 × 0 = 0"
    assert _numbers("Sigmoid", 0.0) == "∂L/∂x = ∂L/∂out × out × (1 − out) = 1 × 0.5 × (1 − 0.5) = 0.25"
    assert _numbers("Tanh", 0.0, 2.0) == "∂L/∂x = ∂L/∂out × (1 − out²) = 2 × (1 − 0²) = 2"
    assert _numbers("LeakyReLU", -1.0, 2.0, alpha=0.1).endswith("= 2 × 0.1 = 0.2")
    assert _numbers("Identity", 5.0, 3.0).endswith("= 3 × 1 = 3")
    assert _numbers("Step", 5.0).endswith("= 1 × 0 = 0")
    assert _numbers("ReLU", [1.0, -1.0]) == make_op("ReLU").rule  # arrays: the plain rule
    sse = make_op("SSE")
    x, t = np.array(3.0), np.array(1.0)
    _, cache = sse.forward([x, t], {}, True)
    grads, _ = sse.backward(np.array(1.0), cache)
    assert sse.rule_with_numbers([x, t], np.array(1.0), grads) == "∂L/∂x = ∂L/∂out × (x − t) = 1 × (3 − 1) = 2"


@pytest.mark.parametrize("need", [False, (False,)])
def test_affine_skips_input_gradient_when_not_needed(need):
    op = make_op("Affine", out_features=2)
    params = init(op, (3, 4))
    _, cache = op.forward([R.standard_normal((3, 4))], params, True)
    (dx,), grads = op.backward(np.ones((3, 2)), cache, need)
    assert dx is None and set(grads) == {"W", "b"}


def test_losses_skip_target_gradient_when_not_needed():
    for type_name in ("MSE", "SSE", "SigmoidBCE"):
        op = make_op(type_name)
        _, cache = op.forward([np.ones((2, 2)), np.zeros((2, 2))], {}, True)
        (dx, dt), _ = op.backward(np.array(1.0), cache, (True, False))
        assert dx.shape == (2, 2) and dt is None


@pytest.mark.parametrize("type_name", ["MSE", "SSE", "SigmoidBCE", "SoftmaxCrossEntropy"])
def test_integer_targets_keep_the_prediction_dtype(type_name):
    x = R.standard_normal((4, 3)).astype(np.float32)
    t = np.eye(3, dtype=np.int64)[[0, 1, 2, 0]]
    op = make_op(type_name)
    out, cache = op.forward([x, t], {}, True)
    (dx, _), _ = op.backward(np.ones((), np.float32), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32


@pytest.mark.parametrize("type_name,shape", [("Affine", (None, 4)), ("Conv2D", (None, 1, 6, 6))])
def test_constant_init_uses_fill(type_name, shape):
    op = make_op(type_name, init="constant", fill=0.5, **({"out_channels": 2, "kernel_size": 3}
                                                          if type_name == "Conv2D" else {"out_features": 3}))
    params = op.init_params([shape], np.random.default_rng(0))
    assert np.all(params["W"] == 0.5)


def test_fractional_labels_are_refused():
    op = make_op("SoftmaxCrossEntropy")
    x = np.zeros((2, 3))
    with pytest.raises(ShapeError, match="whole class indices"):
        op.forward([x, np.array([0.5, 2.0])], {}, False)
    out, _ = op.forward([x, np.array([0.0, 2.0])], {}, False)
    assert np.isclose(float(out), np.log(3))
