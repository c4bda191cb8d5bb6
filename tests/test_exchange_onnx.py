"""ONNX export and import: every template equals onnxruntime, round trips, one-line refusals."""
from __future__ import annotations

import numpy as np
import pytest

from exchange_helpers import engine_outputs, random_feeds, trained_template
from graph import Engine, graph_to_dict, templates
from graph.cli.main import main
from graph.exchange.common import ExchangeError, inference_part
from graph.training.trainer import Trainer, TrainConfig
from graph.training.datasets import load_dataset
from layers.registry import op_types

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install '.[onnx]')")

from graph.exchange.onnx_export import OPSET, SUPPORTED, export_onnx  # noqa: E402 - after the skip
from graph.exchange.onnx_import import import_onnx  # noqa: E402

ALL = templates.names()


def session(model):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # inputs with defaults (the gates' truth table) warn otherwise
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def canonical(g) -> tuple:
    """Nodes (without weights) by id and edges as a sorted list: the structure of a graph."""
    doc = graph_to_dict(g)
    return ({n["id"]: {k: v for k, v in n.items() if k != "weights"} for n in doc["nodes"]},
            sorted(tuple(e.values()) for e in doc["edges"]))


@pytest.mark.parametrize("name", ALL)
def test_onnxruntime_equals_the_engine_in_float32(name, rng):
    g = trained_template(name)
    model = export_onnx(g)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET >= 17
    feeds = {k: v.astype(np.float32) for k, v in random_feeds(g, rng).items()}
    outputs, expected = engine_outputs(g, feeds, dtype="float32")
    got = session(model).run(outputs, {k: feeds[k] for k in inference_part(g).inputs if k in feeds})
    for out, value in zip(outputs, got):
        diff = float(np.abs(value - expected[out]).max())
        assert diff <= 1e-5, (name, out, diff)


@pytest.mark.parametrize("name", ALL)
def test_export_import_export_round_trips_structure_and_weights(name, tmp_path):
    g = trained_template(name)
    first = export_onnx(g, tmp_path / "a.onnx")
    g2, _ = import_onnx(tmp_path / "a.onnx")
    second = export_onnx(g2)
    assert first.graph.SerializeToString() == second.graph.SerializeToString()
    assert canonical(g2) == canonical(g)
    for id in g.nodes():
        for key, arr in g.node(id).weights.items():
            assert np.array_equal(g2.node(id).weights[key], arr.astype(np.float32).astype(np.float64)), (id, key)


def test_every_registered_op_is_mapped_or_a_loss():
    from layers import get_op_class

    unmapped = [t for t in op_types() if t not in SUPPORTED and get_op_class(t).category != "losses"]
    assert unmapped == []


def test_imported_graph_runs_steps_and_trains(tmp_path):
    export_onnx(trained_template("simple_convnet"), tmp_path / "net.onnx")
    g, _ = import_onnx(tmp_path / "net.onnx")
    events = list(Engine(g).steps(random_feeds(g, np.random.default_rng(0), 2, labels=True)))
    assert {e.phase for e in events} == {"forward", "backward"}
    data = load_dataset("mnist-10k")
    result = Trainer(g, data, TrainConfig(epochs=1, batch_size=200, compare_float16=False)).run()
    assert result["iterations"] == 40 and result["test_accuracy"] > 0.5


def _foreign_model():
    """A PyTorch-style classifier: Gemm with transB=1, Conv with its own names, BN, GAP, Softmax."""
    h, TP = onnx.helper, onnx.TensorProto
    rng = np.random.default_rng(3)
    inits = [onnx.numpy_helper.from_array(a.astype(np.float32), n) for n, a in [
        ("conv.weight", rng.standard_normal((4, 1, 3, 3))), ("conv.bias", rng.standard_normal(4)),
        ("bn.scale", rng.random(4) + 0.5), ("bn.bias", rng.standard_normal(4)),
        ("bn.mean", rng.standard_normal(4) * 0.1), ("bn.var", rng.random(4) + 0.5),
        ("fc.weight", rng.standard_normal((3, 4))), ("fc.bias", rng.standard_normal(3)),
        ("two", np.array(2.0))]]
    nodes = [
        h.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv",
                    kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        h.make_node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["b"], name="/bn/BN"),
        h.make_node("LeakyRelu", ["b"], ["r"], name="/act", alpha=0.1),
        h.make_node("AveragePool", ["r"], ["p"], name="/pool", kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("GlobalAveragePool", ["p"], ["g"], name="/gap"),
        h.make_node("Flatten", ["g"], ["f"], name="/flatten"),
        h.make_node("Mul", ["f", "two"], ["m"], name="/scale"),
        h.make_node("Gemm", ["m", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1),
        h.make_node("Softmax", ["logits"], ["probs"], name="/softmax", axis=-1),
    ]
    graph = h.make_graph(nodes, "foreign", [h.make_tensor_value_info("input", TP.FLOAT, ["batch", 1, 8, 8])],
                         [h.make_tensor_value_info("probs", TP.FLOAT, ["batch", 3])], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def test_foreign_model_imports_and_matches_onnxruntime(tmp_path):
    model = _foreign_model()
    onnx.save(model, tmp_path / "foreign.onnx")
    g, _ = import_onnx(tmp_path / "foreign.onnx")
    types = {g.node(n).type for n in g.nodes()}
    assert {"Conv2D", "BatchNorm", "LeakyReLU", "AvgPool2D", "GlobalAvgPool", "Affine", "Softmax",
            "SoftmaxCrossEntropy"} <= types
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    expected = session(model).run(["probs"], {"input": x})[0]
    eng = Engine(g, dtype="float32")
    eng.forward({"input": x, "t": np.array([0, 1, 2])}, train=False)
    soft = [n for n in g.nodes() if g.node(n).type == "Softmax"][0]
    assert float(np.abs(eng.value(soft) - expected).max()) <= 1e-5
    loss = [n for n in g.nodes() if g.node(n).type == "SoftmaxCrossEntropy"][0]
    assert g.node(g.fed_ports(loss)["x"]).type == "Affine"  # the loss takes the scores, not the softmax


def test_unsupported_ops_are_named_in_one_line(tmp_path, capsys):
    h, TP = onnx.helper, onnx.TensorProto
    nodes = [h.make_node("Relu", ["x"], ["a"], name="act"),
             h.make_node("Exp", ["a"], ["b"], name="exp1"),
             h.make_node("Sqrt", ["b"], ["y"], name="root")]
    graph = h.make_graph(nodes, "bad", [h.make_tensor_value_info("x", TP.FLOAT, ["N", 4])],
                         [h.make_tensor_value_info("y", TP.FLOAT, ["N", 4])])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), tmp_path / "bad.onnx")
    rc = main(["import", str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "g.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "unsupported ONNX ops: Exp (node 'exp1'), Sqrt (node 'root')" in err[0]
    assert "bad.onnx" in err[0] and not (tmp_path / "g.json").exists()


def test_unsupported_attributes_are_named(tmp_path):
    h, TP = onnx.helper, onnx.TensorProto
    w = onnx.numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    nodes = [h.make_node("Conv", ["x", "w"], ["y"], name="dil", kernel_shape=[3, 3], dilations=[2, 2])]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", TP.FLOAT, ["N", 1, 9, 9])],
                         [h.make_tensor_value_info("y", TP.FLOAT, ["N", 2, 5, 5])], [w])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), tmp_path / "dil.onnx")
    with pytest.raises(ExchangeError, match=r"Conv \(node 'dil'\): dilations=\[2, 2\]"):
        import_onnx(tmp_path / "dil.onnx")


def test_corrupt_file_names_the_file(tmp_path, capsys):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf\xff\xff")
    rc = main(["import", str(bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "broken.onnx" in err[0] and "not a readable ONNX model" in err[0]


def test_cli_export_and_import(tmp_path, capsys):
    assert main(["export", "two_layer_net", "--format", "onnx", "-o", str(tmp_path / "n.onnx")]) == 0
    assert "opset 17" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "n.onnx"), "-o", str(tmp_path / "n.json")]) == 0
    assert "n.json: 6 nodes" in capsys.readouterr().out


def test_missing_onnx_gives_an_install_hint(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    rc = main(["export", "apple", "--format", "onnx", "-o", "unused.onnx"])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'backprop-studio[onnx]'" in err
