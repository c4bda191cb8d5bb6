"""The CuPy code paths, run on a CPU stand-in (tests/cupy_standin.py): no GPU needed.

Engines and trainers on ``backend="cupy"`` must give exactly the NumPy backend's numbers
(the stand-in computes with NumPy), keep their arrays "on the device", and hand back
plain host arrays from ``value``/``grad``/``param``.
"""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

import cupy_standin
import graph.run.backend as backend
from graph import Engine, templates
from graph.training.datasets import load_dataset
from graph.training.trainer import Trainer


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", cupy_standin.make_module())
    backend.clear_cache()
    yield
    monkeypatch.undo()
    backend.clear_cache()


def run_engine(name: str, backend_name: str, dtype: str, feeds: dict, train: bool = True) -> Engine:
    eng = Engine(templates.build(name), backend=backend_name, dtype=dtype, seed=0)
    eng.forward(feeds, train=train)
    eng.backward(prune=False)
    return eng


@pytest.mark.parametrize("name, dtype", [("simple_convnet", "float32"), ("simple_convnet", "float64"),
                                         ("batchnorm_mlp", "float32"), ("residual_block", "float64")])
def test_engine_on_the_cupy_path_matches_numpy(standin, name, dtype):
    rng = np.random.default_rng(0)
    shape = templates.build(name).node("x").params["shape"]
    n = 120  # big enough that the NumPy backend splits work over threads
    feeds = {"x": rng.random((n, *shape[1:])), "t": rng.integers(0, 10, n)}
    ref = run_engine(name, "numpy", dtype, feeds)
    dev = run_engine(name, "cupy", dtype, feeds)
    assert dev.backend == "cupy" and type(dev.output_of(dev.loss_id)) is cupy_standin.ndarray
    assert dev.loss() == ref.loss()
    assert bool(dev._fused_caches) == bool(ref._fused_caches) == (name == "simple_convnet")
    for id in ref.graph.topo_order():
        for a, b in ((dev.value(id), ref.value(id)), (dev.grad(id), ref.grad(id))):
            assert type(a) is np.ndarray
            np.testing.assert_array_equal(a, b, err_msg=id)
    for key in ref.learnables():
        assert type(dev.param(*key)) is np.ndarray and type(dev.param_grad(*key)) is np.ndarray
        np.testing.assert_array_equal(dev.param_grad(*key), ref.param_grad(*key), err_msg=str(key))


def test_steps_on_the_cupy_path_carry_host_arrays(standin):
    eng = Engine(templates.build("simple_convnet"), backend="cupy", seed=0)
    feeds = {"x": np.random.default_rng(0).random((2, 1, 28, 28)), "t": np.array([1, 2])}
    for ev in eng.steps(feeds):
        assert type(ev.output) is np.ndarray
        assert all(type(a) is np.ndarray for a in ev.inputs)


def test_training_on_the_cupy_path_matches_numpy(standin):
    data = load_dataset("mnist-10k")
    small = replace(data, x_train=data.x_train[:400], y_train=data.y_train[:400], x_val=data.x_val[:200],
                    y_val=data.y_val[:200], x_test=data.x_test[:200], y_test=data.y_test[:200],
                    test_index=data.test_index[:200])
    results = {}
    for name in ("numpy", "cupy"):
        trainer = Trainer(templates.build("simple_convnet"), small, epochs=2, batch_size=100, optimizer="adam",
                          lr=0.001, seed=0, backend=name, compare_float16=False)
        list(trainer)
        assert trainer.engine.backend == name
        on_device = type(trainer._dev["train"][0]) is cupy_standin.ndarray
        assert on_device == (name == "cupy")
        results[name] = trainer.result
    for key in ("train_accuracy", "val_accuracy", "test_accuracy", "test_loss", "confusion_matrix"):
        assert results["cupy"][key] == results["numpy"][key], key
    assert [r["train_loss"] for r in results["cupy"]["history"]] == [r["train_loss"] for r in results["numpy"]["history"]]
