"""No silent loss: memory estimate, --out refusal, checkpoint checks, divergence, typed values."""
from __future__ import annotations

import json

import numpy as np
import pytest

from graph.cli.main import main
from graph.model import templates
from graph.model.literal import LiteralError, parse_literal
from graph.run import memory
from graph.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from graph.training.datasets import DatasetError, load_dataset
from graph.training.divergence import LossTrend
from graph.training.trainer import TrainConfig, Trainer, TrainError


def mlp():
    from graph import Graph
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 2])
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("Affine", id="fc", out_features=2)
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("x", "fc")
    g.connect("fc", "loss", "x")
    g.connect("t", "loss", "t")
    return g


# -- memory estimate ----------------------------------------------------------------------------
def test_estimate_counts_parameters_activations_and_conv_columns():
    g = templates.build("two_layer_net")
    est = memory.estimate(g, 100, "float32", train=True, slots=2)
    params = 784 * 50 + 50 + 50 * 10 + 10
    assert est.parameters == params * (8 + 4) and est.gradients == params * 4 and est.optimizer == 2 * params * 4
    assert est.activations == (100 * 784 + 100 + 100 * 50 * 2 + 100 * 10 + 1) * 4
    conv = templates.build("simple_convnet")
    big = memory.estimate(conv, 1000, train=False)
    conv.set_params("conv1", out_channels=4096)
    huge = memory.estimate(conv, 1000, train=False)
    assert huge.caches == 1000 * 24 * 24 * 1 * 5 * 5 * 4 and huge.total > 50 * big.total   # im2col columns
    assert "conv1" in huge.summary() and "GiB" in huge.summary()


def test_check_fits_refuses_with_the_numbers_and_can_be_overridden(monkeypatch):
    est = memory.estimate(templates.build("two_layer_net"), 100)
    with pytest.raises(memory.MemoryCheckError, match=r"needs about .* but only 1\.0 KiB .*--ignore-memory-check"):
        memory.check_fits(est, available=1024)
    memory.check_fits(est, ignore=True, available=1024)
    monkeypatch.setenv(memory.IGNORE_ENV, "1")
    memory.check_fits(est, available=1024)


def test_cli_run_and_train_refuse_above_available_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    assert main(["run", "two_layer_net"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memory is available" in err
    assert main(["train", "two_layer_net", "--dataset", "xor", "--out", str(tmp_path / "r")]) == 2
    assert "memory is available" in capsys.readouterr().err
    assert main(["run", "two_layer_net", "--ignore-memory-check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("memory: about")


# -- --out ------------------------------------------------------------------------------------
def test_out_refuses_a_folder_holding_files_it_would_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("precious")
    args = ["train", "two_layer_net", "--dataset", "xor", "--epochs", "1", "--out", str(out), "--quiet"]
    assert main(args) == 2
    assert "metrics.csv" in capsys.readouterr().err and (out / "metrics.csv").read_text() == "precious"


# -- checkpoints ------------------------------------------------------------------------------
def trained_run(tmp_path):
    data = load_dataset("xor:n=40")
    trainer = Trainer(mlp(), data, TrainConfig(epochs=1, batch_size=10, compare_float16=False), tmp_path)
    trainer.run()
    return tmp_path / "checkpoint.npz"


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.pop("optimizer"), "no 'optimizer' entry"),
    (lambda s: s.pop("weights"), "no 'weights' entry"),
    (lambda s: s.pop("graph"), "no 'graph' entry"),
    (lambda s: s.update(weights=[1, 2]), "'weights' entry is a list"),
    (lambda s: s["weights"]["fc"].update(W=np.zeros((3, 2))), r"weight 'W' has shape \(3, 2\) but Affine needs \(2, 2\)"),
    (lambda s: s["weights"]["fc"].update(W=np.full((2, 2), np.inf)), "NaN or Inf"),
    (lambda s: s["weights"].update(ghost={"W": np.zeros(2)}), "ghost"),
    (lambda s: s["optimizer"]["slots"][0][1].update(m=np.zeros(7)), "optimizer slot"),
])
def test_damaged_checkpoints_are_refused(tmp_path, edit, match):
    path = trained_run(tmp_path)
    state = load_checkpoint(path)
    edit(state)
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=match):
        Trainer.from_checkpoint(tmp_path, data=load_dataset("xor:n=40"))


def test_checkpoint_header_is_bounded(tmp_path):
    header = np.frombuffer(("[" * 10000).encode(), np.uint8)
    np.savez(tmp_path / "deep.npz", header=header)
    with pytest.raises(CheckpointError, match="levels deep"):
        load_checkpoint(tmp_path / "deep.npz")
    doc = {"format": "backprop-studio-checkpoint", "version": 1, "state": {"w": {"__array__": 5}}}
    np.savez(tmp_path / "ref.npz", header=np.frombuffer(json.dumps(doc).encode(), np.uint8))
    with pytest.raises(CheckpointError, match="missing array"):
        load_checkpoint(tmp_path / "ref.npz")


# -- divergence, data problems ------------------------------------------------------------------
def test_loss_trend_flags_a_finite_divergence_only():
    trend = LossTrend()
    assert all(trend.update(v) is None for v in np.linspace(2.3, 0.1, 200))
    trend = LossTrend()
    verdicts = [trend.update(2.3 * 10 ** (i / 5)) for i in range(100)]
    assert any(verdicts) and "diverging" in next(v for v in verdicts if v)


def test_a_huge_learning_rate_stops_as_diverged(tmp_path, capsys):
    code = main(["train", "two_layer_net", "--dataset", "mnist-10k", "--epochs", "2", "--lr", "1e4",
                 "--optimizer", "sgd", "--out", str(tmp_path / "r"), "--quiet", "--json", "--no-float16"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["stopped_kind"] in ("diverged", "nonfinite")


def test_empty_training_split_and_nonfinite_scaling_are_refused():
    data = load_dataset("xor:n=40")
    from dataclasses import replace
    empty = replace(data, x_train=data.x_train[:0], y_train=data.y_train[:0])
    with pytest.raises(TrainError, match="training split is empty"):
        Trainer(mlp(), empty, TrainConfig(epochs=1))
    from graph.training.datasets.transforms import Scaler
    assert np.isfinite(Scaler("unit", np.ones((5, 3)))(np.ones((2, 3)), np.float32)).all()
    with pytest.raises(DatasetError, match="NaN or Inf"):
        Scaler("unit", np.array([[1.0, np.nan]]))


# -- typed values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["[" * 100000, "(" * 500 + ")" * 500, "1e400", "9" * 5000, "x" * 200000,
                                  "[1e308 * 10]", "{1: 2}", "1+2j"])
def test_pathological_typed_values_are_one_error(text):
    with pytest.raises(LiteralError):
        parse_literal(text)


def test_gui_value_parsers_use_the_bounded_parser():
    from app.inspector import ParseError, parse_value
    from app.stepping.inputs import parse_value as parse_feed
    with pytest.raises(ParseError):
        parse_value("[" * 100000)
    for text in ("[" * 100000, "9" * 4000, "1e400"):
        with pytest.raises(ValueError):
            parse_feed(text, [None, 2])
    assert parse_value("[1, 2]") == [1, 2]


def test_nan_in_the_input_data_is_blamed_on_the_data_not_the_learning_rate():
    from dataclasses import replace
    data = load_dataset("xor:n=40")
    x = data.x_train.astype(np.float64).copy()
    x[3, 0] = np.nan
    bad = replace(data, x_train=x)
    trainer = Trainer(mlp(), bad, TrainConfig(epochs=1, batch_size=40, scaling="none", compare_float16=False))
    trainer.run()
    assert trainer.stopped.kind == "nonfinite"
    assert "input data 'x'" in trainer.stopped.reason and "not the cause" in trainer.stopped.reason
