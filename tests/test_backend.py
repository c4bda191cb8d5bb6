"""Backend dispatch without a GPU: CuPy missing, broken or (faked) working."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import cupy_standin
import graph.run.backend as backend
from graph import Engine, templates
from graph.run.backend import BackendError, resolve_backend


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a module as ``cupy`` (or ``None``: not importable), with a fresh probe cache."""
    def install(module):
        monkeypatch.setitem(sys.modules, "cupy", module)
        backend.clear_cache()

    yield install
    monkeypatch.undo()
    backend.clear_cache()


def broken_cupy() -> types.ModuleType:
    """What CuPy looks like without a GPU: the import works, the first allocation raises."""
    mod = types.ModuleType("cupy")
    mod.float32 = np.float32
    mod.__version__ = "13.0.0"

    class CUDARuntimeError(RuntimeError):
        pass

    def arange(*args, **kwargs):
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    mod.arange = arange
    mod.cuda = types.SimpleNamespace(is_available=lambda: False)
    return mod


def working_cupy() -> types.ModuleType:
    """A stand-in that computes with NumPy, to exercise the success path of the probe."""
    mod = types.ModuleType("cupy")
    mod.__version__ = "13.9.9"
    mod.__getattr__ = lambda name: getattr(np, name)
    props = {"name": b"Fake GPU"}
    mod.cuda = types.SimpleNamespace(
        Device=lambda: types.SimpleNamespace(id=0),
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: props),
    )
    mod.random = np.random
    return mod


def test_numpy_is_always_there():
    name, xp, note = resolve_backend("numpy")
    assert (name, xp, note) == ("numpy", np, "NumPy on the CPU")


def test_auto_falls_back_when_cupy_is_missing(fake_cupy):
    fake_cupy(None)
    ok, reason = backend.cupy_status()
    assert not ok and reason.startswith("CuPy is not installed")
    assert "pip install 'backprop-studio[gpu]'" in reason
    name, xp, note = resolve_backend("auto")
    assert (name, xp) == ("numpy", np)
    assert note == f"NumPy on the CPU (GPU not used: {reason})"
    eng = Engine(templates.build("apple"), backend="auto")
    assert eng.backend == "numpy" and "CuPy is not installed" in eng.backend_note


def test_auto_falls_back_when_cupy_is_broken(fake_cupy):
    fake_cupy(broken_cupy())
    ok, reason = backend.cupy_status()
    assert not ok
    assert reason == "no usable CUDA GPU: CUDARuntimeError: cudaErrorNoDevice: no CUDA-capable device is detected"
    assert resolve_backend("auto")[0] == "numpy"
    assert "cudaErrorNoDevice" in resolve_backend("auto")[2]


def test_cupy_backend_raises_with_the_reason(fake_cupy):
    fake_cupy(broken_cupy())
    with pytest.raises(BackendError, match="the CuPy backend is unavailable: no usable CUDA GPU: CUDARuntimeError"):
        resolve_backend("cupy")
    with pytest.raises(BackendError, match="the CuPy backend is unavailable"):
        Engine(templates.build("apple"), backend="cupy")


def test_unknown_backend():
    with pytest.raises(BackendError, match="unknown backend 'tpu'; choose one of numpy, cupy, auto"):
        resolve_backend("tpu")


def test_probe_is_cached(fake_cupy):
    fake_cupy(broken_cupy())
    first = backend.cupy_status()
    sys.modules["cupy"] = working_cupy()     # not looked at again until clear_cache()
    assert backend.cupy_status() is first
    backend.clear_cache()
    assert backend.cupy_status() == (True, "CuPy 13.9.9 on Fake GPU")


def test_working_cupy_is_chosen_and_results_are_host_numpy(fake_cupy):
    """"auto" picks a working CuPy, and what the engine hands back is a host copy.

    The stand-in's arrays are an ndarray subclass living "on the device": ``isinstance``
    would accept them, so the exact type is checked.
    """
    fake_cupy(cupy_standin.make_module())
    name, _, note = resolve_backend("auto")
    assert name == "cupy" and note == "CuPy 13.9.9 on CPU stand-in"
    eng = Engine(templates.build("apple_orange"), backend="auto")
    eng.forward()
    eng.backward()
    assert eng.backend == "cupy" and type(eng.output_of("mul_tax")) is cupy_standin.ndarray
    assert type(eng.value("mul_tax")) is np.ndarray and type(eng.grad("tax")) is np.ndarray
    assert float(eng.grad("tax")) == pytest.approx(650, rel=1e-12)


def test_value_grad_param_are_numpy_copies_on_a_device_backend(fake_cupy):
    """``value``/``grad``/``param``/``param_grad`` copy device arrays to the host: writing to
    what they return leaves the engine's arrays alone."""
    fake_cupy(cupy_standin.make_module())
    eng = Engine(templates.build("two_layer_net"), backend="cupy")
    eng.forward({"x": np.ones((2, 784)), "t": np.array([0, 1])})
    eng.backward()
    getters = (lambda: eng.value("affine1"), lambda: eng.grad("affine1"), lambda: eng.param("affine1", "W"),
               lambda: eng.param_grad("affine1", "W"), lambda: eng.value("loss"), lambda: eng.grad("x"))
    for get in getters:
        arr = get()
        assert type(arr) is np.ndarray
        before = arr.copy()
        arr += 1.0
        np.testing.assert_array_equal(get(), before)


@pytest.mark.gpu
def test_real_gpu_matches_numpy():
    backend.clear_cache()
    ok, reason = backend.cupy_status()
    if not ok:
        pytest.skip(reason)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    t = np.array([1, 2, 3, 4])
    results = []
    for name in ("numpy", "cupy"):
        eng = Engine(templates.build("simple_convnet"), backend=name)
        eng.forward({"x": x, "t": t})
        eng.backward()
        results.append((eng.loss(), eng.param_grad("conv1", "W")))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-10)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-8, atol=1e-12)
