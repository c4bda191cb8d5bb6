"""PyTorch export: build_model()(x) equals the engine, train.py trains (also under torchrun),
and its trained weights load back into the graph."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

from exchange_helpers import engine_outputs, model_feeds, random_feeds, trained_template
from graph import load_graph, save_graph, templates
from graph.cli.main import main
from graph.exchange.common import apply_weights, read_weights
from graph.exchange.pytorch_export import SUPPORTED
from graph.exchange.pytorch_train import export_pytorch
from graph.training.datasets import load_dataset
from graph.training.trainer import TrainConfig, Trainer
from layers import get_op_class
from layers.registry import op_types

torch = pytest.importorskip("torch", reason="PyTorch is not installed (only the exported code needs it)")


def load_model_module(folder, tag: str):
    spec = importlib.util.spec_from_file_location(f"exported_model_{tag}", folder / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", templates.names())
def test_build_model_equals_the_engine(name, tmp_path, rng):
    g = trained_template(name)
    export_pytorch(g, tmp_path, name=name)
    model = load_model_module(tmp_path, name).build_model(dtype=torch.float64)
    feeds = random_feeds(g, rng)
    outputs, expected = engine_outputs(g, feeds)
    with torch.no_grad():
        got = model(*[torch.as_tensor(v) for v in model_feeds(g, feeds)])
    got = got if isinstance(got, tuple) else (got,)
    for out, value in zip(outputs, got):
        assert float(np.abs(value.numpy() - expected[out]).max()) <= 1e-5, (name, out)


def test_safetensors_weights_and_graph_weights_round_trip(tmp_path):
    pytest.importorskip("safetensors", reason="safetensors is not installed")
    g = trained_template("batchnorm_mlp")
    export_pytorch(g, tmp_path, name="bn", weights="safetensors")
    mod = load_model_module(tmp_path, "bn_st")
    back = mod.graph_weights(mod.build_model(dtype=torch.float64))
    for key, value in back.items():
        id, name = key.split("/")
        assert np.array_equal(value, g.node(id).weights[name]), key


def test_every_registered_op_is_mapped_or_a_loss():
    assert [t for t in op_types() if t not in SUPPORTED and get_op_class(t).category != "losses"] == []


def run_train_py(folder, *args, torchrun: int = 0, timeout: int = 600):
    # --standalone: a local rendezvous on a free port (--master_port=0 hangs the workers)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={torchrun}"] if torchrun else [sys.executable]
    proc = subprocess.run([*launcher, "train.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_train_py_trains_a_toy_set_and_its_weights_load_back(tmp_path, capsys):
    export = tmp_path / "toy"
    assert main(["export", "toy_mlp", "--format", "pytorch", "-o", str(export), "--dataset", "circle",
                 "--epochs", "3", "--batch-size", "20", "--lr", "0.01"]) == 0
    assert "train.py: adam lr 0.01, batch 20, 3 epochs on circle" in capsys.readouterr().out
    out = run_train_py(export, "--device", "cpu")
    assert re.search(r"^epoch 3/3  train loss [\d.]+ acc [\d.]+  val loss [\d.]+ acc [\d.]+", out, re.M), out
    acc = float(re.search(r"test accuracy ([\d.]+)", out).group(1))
    assert acc > 0.7
    # two CPU processes (gloo), each with half of every batch: the same updates as one device
    ddp = run_train_py(export, "--device", "cpu", torchrun=2)
    assert "2 process(es) on cpu (gloo)" in ddp
    assert abs(float(re.search(r"test accuracy ([\d.]+)", ddp).group(1)) - acc) <= 0.04  # 2 of 50 samples
    save_graph(templates.build("toy_mlp"), tmp_path / "toy.json")
    assert main(["import-weights", str(tmp_path / "toy.json"), str(export / "trained_weights.npz"),
                 "-o", str(tmp_path / "trained.json")]) == 0
    trained = load_graph(tmp_path / "trained.json")
    with np.load(export / "trained_weights.npz") as w:
        assert np.array_equal(trained.node("affine1").weights["W"], w["affine1/W"])


def test_graph_without_a_loss_gets_model_py_only(tmp_path, capsys):
    assert main(["export", "apple", "--format", "pytorch", "-o", str(tmp_path)]) == 0
    assert "train.py not written" in capsys.readouterr().out
    model = load_model_module(tmp_path, "apple").build_model(dtype=torch.float64)
    assert float(model()) == pytest.approx(220.0)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # three one-epoch runs (app, train.py, torchrun) on a shared CPU
def test_train_py_one_epoch_matches_the_app_and_runs_under_torchrun(tmp_path):
    app = Trainer(templates.build("simple_convnet"), load_dataset("mnist-10k"),
                  TrainConfig(epochs=1, compare_float16=False)).run()
    export_pytorch(templates.build("simple_convnet"), tmp_path, name="simple_convnet", overrides={"epochs": 1})
    out = run_train_py(tmp_path, "--device", "cpu")
    torch_acc = float(re.search(r"test accuracy ([\d.]+)", out).group(1))
    assert abs(torch_acc - app["test_accuracy"]) <= 0.02, (torch_acc, app["test_accuracy"])
    # the weights PyTorch trained, loaded back, score the same in the app's own evaluation
    g = templates.build("simple_convnet")
    apply_weights(g, read_weights(tmp_path / "trained_weights.npz"), "trained_weights.npz")
    back = Trainer(g, load_dataset("mnist-10k"), TrainConfig(epochs=1, compare_float16=False))
    assert back.evaluate("test")[1] == pytest.approx(torch_acc, abs=0.002)
    out = run_train_py(tmp_path, "--device", "cpu", torchrun=2)
    assert "2 process(es) on cpu (gloo)" in out and "epoch 1/1" in out
    ddp_acc = float(re.search(r"test accuracy ([\d.]+)", out).group(1))
    assert abs(ddp_acc - app["test_accuracy"]) <= 0.02, (ddp_acc, app["test_accuracy"])

