"""The new CNN templates (each gradchecks and trains a step) and the CrossEntropy node."""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, Graph, templates
from graph.cli.main import main
from graph.training.datasets import DataSplits
from graph.training.trainer import Trainer
from layers import make_op
from numgrad import check_gradients

NEW_CNNS = ["lenet", "conv_residual", "deep_convnet", "all_conv"]
R = np.random.default_rng(7)


def probabilities(n, k):
    e = np.exp(R.standard_normal((n, k)))
    return e / e.sum(axis=1, keepdims=True)


# -- CrossEntropy ------------------------------------------------------------------------
def test_cross_entropy_matches_the_book():
    """The book's example: t = 2 (one-hot), y[2] = 0.6 -> 0.51082545709933802; y[7] = 0.6 -> 2.30258..."""
    y = np.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]])
    t = np.zeros((1, 10))
    t[0, 2] = 1
    ce = make_op("CrossEntropy")
    out, _ = ce.forward([y, t], {}, True)
    assert float(out) == pytest.approx(0.510825457099338, rel=1e-6)
    wrong = np.array([[0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]])
    assert float(ce.forward([wrong, t], {}, True)[0]) == pytest.approx(2.302584092994546, rel=1e-6)
    labels_out, _ = ce.forward([y, np.array([2])], {}, True)
    assert float(labels_out) == float(out)


@pytest.mark.parametrize("onehot", [False, True])
def test_cross_entropy_gradients(onehot):
    x = probabilities(4, 5)
    labels = np.array([0, 3, 4, 1])
    t = np.eye(5)[labels] if onehot else labels
    check_gradients(make_op("CrossEntropy"), [x, t], skip_inputs=(1,))
    op = make_op("CrossEntropy")
    (dx, dt), _ = op.backward(np.float64(1.0), op.forward([x, t], {}, True)[1])
    assert dt is None
    expected = np.zeros_like(x)
    expected[np.arange(4), labels] = -1 / (x[np.arange(4), labels] + 1e-7) / 4
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_softmax_then_cross_entropy_equals_softmax_with_loss():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3])
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("Softmax", id="y")
    g.add_node("CrossEntropy", id="loss")
    g.connect("x", "y")
    g.connect("y", "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
    x = R.standard_normal((6, 3))
    t = np.array([0, 1, 2, 2, 1, 0])
    eng = Engine(g)
    eng.forward({"x": x, "t": t})
    eng.backward()
    fused = make_op("SoftmaxCrossEntropy")
    loss, cache = fused.forward([x, t], {}, True)
    assert eng.loss() == pytest.approx(float(loss), abs=1e-6)   # δ = 1e-7 inside the log
    np.testing.assert_allclose(eng.grad("x"), fused.backward(1.0, cache)[0][0], atol=1e-6)


def test_cross_entropy_refuses_bad_targets():
    from layers.base import ShapeError

    with pytest.raises(ShapeError, match="class labels"):
        make_op("CrossEntropy").infer_shape((None, 3), (None, 4))
    with pytest.raises(ShapeError, match="0..2"):
        make_op("CrossEntropy").forward([probabilities(2, 3), np.array([0, 3])], {}, True)


# -- the CNN templates ---------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW_CNNS)
def test_new_template_gradchecks(name, capsys):
    rc = main(["gradcheck", name, "--batch", "2", "--entries", "8"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "FAIL" not in out


@pytest.mark.parametrize("name", NEW_CNNS)
def test_new_template_trains_an_epoch(name):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (20, 1, 28, 28)).astype(np.uint8)
    y = np.arange(20) % 10
    data = DataSplits("tiny", x, y, x[:10], y[:10], x[:10], y[:10], [str(i) for i in range(10)],
                      default_scaling="unit")
    trainer = Trainer(templates.build(name), data, epochs=1, batch_size=10, compare_float16=False)
    result = trainer.run()
    assert result["iterations"] == 2
    assert np.isfinite(result["train_loss"])


def test_templates_describe_the_new_networks():
    assert set(NEW_CNNS) <= set(templates.names())
    assert "mnist-10k" in templates.describe("deep_convnet")
    assert "global average" in templates.describe("all_conv")
