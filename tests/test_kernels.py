"""The compiled kernels (``layers.kernels``) give the NumPy path's numbers, bit for bit.

Each test runs the same work with the kernels on and off. Without Numba the comparisons
skip (the NumPy path is then the only one, and every other test covers it).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graph import Engine, templates
from graph.training.optim import Adam
from layers import kernels
from layers.conv import Conv2D
from layers.fused import conv_pool_backward, conv_pool_forward

@pytest.fixture(autouse=True)
def small_arrays_too(monkeypatch):
    """The kernels take arrays of any size here (the app keeps them for big ones)."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)


needs_numba = pytest.mark.skipif(kernels.compiled() is None, reason=f"no compiled kernels: {kernels.status()}")


def with_kernels(flag: bool, fn):
    old = kernels.set_enabled(flag)
    try:
        return fn()
    finally:
        kernels.set_enabled(old)


def conv_pool(x, params, k, relu, dout, conv):
    out, cache = conv_pool_forward(conv, x, params, k, relu)
    dx, grads, dcols = conv_pool_backward(conv, dout, cache)
    return out, dx, grads, dcols, cache


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k, relu", [(2, True), (2, False), (3, True), (4, False)])
def test_fused_conv_pool_is_bit_identical_with_and_without_kernels(dtype, k, relu):
    rng = np.random.default_rng(k)
    conv = Conv2D(out_channels=3, kernel_size=3, padding=1)
    x = rng.standard_normal((6, 2, 4 * k, 4 * k)).astype(dtype)
    x[0] = 0  # a blank sample: every window a tie (the conv output is the bias everywhere)
    x[1, :, :k, :k] = 1.0  # equal non-zero entries in one window
    params = {"W": rng.standard_normal((3, 2, 3, 3)).astype(dtype), "b": np.array([0.5, 0.0, -0.5], dtype)}
    dout = rng.standard_normal((6, 3, 4, 4)).astype(dtype)
    compiled = with_kernels(True, lambda: conv_pool(x, params, k, relu, dout, conv))
    plain = with_kernels(False, lambda: conv_pool(x, params, k, relu, dout, conv))
    assert compiled[4].win is not None and plain[4].win is None
    np.testing.assert_array_equal(compiled[0], plain[0])
    np.testing.assert_array_equal(compiled[1], plain[1])
    np.testing.assert_array_equal(compiled[3], plain[3])
    for name in params:
        np.testing.assert_array_equal(compiled[2][name], plain[2][name], err_msg=name)


@needs_numba
@pytest.mark.parametrize("relu", [True, False])
def test_a_window_holding_nan_gives_nan_and_passes_no_gradient(relu):
    cols = np.array([[[[1.0, -4.0], [np.nan, -3.0], [0.5, -1.0], [4.0, -2.0]]]], dtype=np.float32)
    out = np.empty((1, 1, 2), np.float32)
    win = np.empty((1, 1, 2), np.uint8)
    kern = kernels.compiled()
    kern.pool_tiles(cols, out, win, relu)
    assert np.isnan(out[0, 0, 0])
    assert out[0, 0, 1] == (0.0 if relu else -1.0) and win[0, 0, 1] == 2
    dcols = np.full_like(cols, 7.0)
    kern.unpool_tiles(np.array([[[5.0, 6.0]]], np.float32), out, win, relu, dcols)
    assert not dcols[..., 0].any()  # the NaN window: nothing
    assert dcols[0, 0, :, 1].tolist() == ([0, 0, 0, 0] if relu else [0, 0, 6, 0])


@needs_numba
def test_the_backward_undoes_a_compiled_forward_when_kernels_go_off_between():
    rng = np.random.default_rng(0)
    conv = Conv2D(out_channels=2, kernel_size=3, padding=1)
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    params = {"W": rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "b": np.zeros(2, np.float32)}
    dout = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    _, cache = conv_pool_forward(conv, x, params, 2, True)
    mixed = with_kernels(False, lambda: conv_pool_backward(conv, dout, cache))
    ref = with_kernels(True, lambda: conv_pool_backward(conv, dout, cache))
    for a, b in zip((mixed[0], mixed[2]), (ref[0], ref[2])):
        np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_is_bit_identical_with_and_without_kernels(dtype):
    rng = np.random.default_rng(1)
    shapes = {"W": (300, 250), "b": (250,), "s": ()}  # big (sliced NumPy path), small, 0-d

    def train():
        params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        opt = Adam(lr=0.01)
        for _ in range(5):
            grads = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
            opt.step(params, grads)
        return params, opt.state

    rng = np.random.default_rng(1)
    compiled = with_kernels(True, train)
    rng = np.random.default_rng(1)
    plain = with_kernels(False, train)
    for k in shapes:
        np.testing.assert_array_equal(compiled[0][k], plain[0][k], err_msg=k)
        for slot in ("m", "v"):
            np.testing.assert_array_equal(compiled[1][k][slot], plain[1][k][slot], err_msg=f"{k}.{slot}")


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_is_bit_identical_with_and_without_kernels(dtype):
    from graph.training.optim import SGD  # noqa: PLC0415

    def train():
        rng = np.random.default_rng(4)
        params = {"W": rng.standard_normal((300, 250)).astype(dtype), "b": rng.standard_normal(250).astype(dtype)}
        opt = SGD(lr=0.037)
        for _ in range(3):
            opt.step(params, {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()})
        return params

    compiled, plain = with_kernels(True, train), with_kernels(False, train)
    for k in compiled:
        np.testing.assert_array_equal(compiled[k], plain[k], err_msg=k)


@needs_numba
def test_a_float32_simple_convnet_step_is_the_same_with_and_without_kernels():
    rng = np.random.default_rng(2)
    feeds = {"x": rng.random((20, 1, 28, 28), dtype=np.float32), "t": rng.integers(0, 10, 20)}

    def step():
        eng = Engine(templates.build("simple_convnet"), dtype="float32", seed=0)
        eng.forward(feeds, train=True)
        eng.backward(prune=True)
        return eng.loss(), {key: eng.param_grad(*key) for key in eng.learnables()}

    (loss_a, grads_a), (loss_b, grads_b) = with_kernels(True, step), with_kernels(False, step)
    assert loss_a == loss_b
    for key in grads_a:
        np.testing.assert_array_equal(grads_a[key], grads_b[key], err_msg=str(key))


def test_kernels_off_by_environment_or_failing_compiler_fall_back_to_numpy(monkeypatch):
    state = dict(kernels._state)
    try:
        kernels._state.update(loaded=False, kernels=None, why="")
        monkeypatch.setattr(kernels, "_load", lambda: (None, "compiling the kernels failed (LoweringError: x)"))
        assert kernels.compiled() is None
        assert kernels.status() == "no compiled kernels (compiling the kernels failed (LoweringError: x))"
        old = kernels.set_enabled(False)
        assert kernels.status() == "no compiled kernels (switched off)"
        kernels.set_enabled(old)
        # the fused layer still works, on the NumPy path
        conv = Conv2D(out_channels=2, kernel_size=3, padding=1)
        x = np.ones((2, 1, 4, 4), np.float32)
        out, cache = conv_pool_forward(conv, x, {"W": np.ones((2, 1, 3, 3), np.float32),
                                                 "b": np.zeros(2, np.float32)}, 2, True)
        assert cache.win is None and out.shape == (2, 2, 2, 2)
    finally:
        kernels._state.clear()
        kernels._state.update(state)


def test_only_big_same_dtype_contiguous_numpy_floats_are_usable(monkeypatch):
    a = np.zeros((4, 4), np.float32)
    assert kernels.usable(a, np.ones(3, np.float32))
    assert not kernels.usable(a, np.ones(3, np.float64))
    assert not kernels.usable(a.T[::2])
    assert not kernels.usable(np.zeros(3, np.float16))
    assert not kernels.usable(np.zeros(3, np.int64))
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 17)
    assert not kernels.usable(a) and kernels.usable(np.zeros(17))


def test_a_small_training_run_never_loads_numba():
    """A toy set with SGD or Adam trains in a fraction of a second: loading Numba would double it."""
    code = ("import sys; from graph import templates; from graph.training.trainer import Trainer; "
            "from graph.training.datasets import load_dataset; "
            "t = Trainer(templates.build('toy_mlp'), load_dataset('spiral'), epochs=2, optimizer='adam'); "
            "list(t); print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_run_that_uses_the_kernels_says_so_and_loads_them_before_its_first_step():
    from graph.training.datasets.base import DataSplits  # noqa: PLC0415
    from graph.training.trainer import Trainer  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 40)
    data = DataSplits("tiny", x, y, x[:10], y[:10], x[:10], y[:10], [str(i) for i in range(10)])
    conv = Trainer(templates.build("simple_convnet"), data, epochs=1, batch_size=20, dtype="float32")
    assert conv.backend_note.startswith("NumPy on the CPU, ")
    assert conv.backend_note.endswith(kernels.status())
    old = kernels.set_enabled(False)
    try:
        off = Trainer(templates.build("simple_convnet"), data, epochs=1, batch_size=20)
    finally:
        kernels.set_enabled(old)
    assert off.backend_note == "NumPy on the CPU, no compiled kernels (switched off)"


def test_preload_loads_once_on_a_thread_and_compiled_waits_for_it(monkeypatch):
    state = dict(kernels._state)
    calls = []
    try:
        kernels._state.update(loaded=False, kernels=None, why="")
        monkeypatch.setattr(kernels, "_load", lambda: (calls.append(1), (None, "Numba is not installed"))[1])
        thread = kernels.preload()
        assert thread is not None
        thread.join(10)
        assert kernels.preload() is None and kernels.compiled() is None and calls == [1]
    finally:
        kernels._state.clear()
        kernels._state.update(state)


def test_only_graphs_with_a_fused_chain_ask_for_the_kernels_early():
    from graph.run.fusion import uses_kernels  # noqa: PLC0415

    assert uses_kernels(templates.build("simple_convnet"))
    assert not uses_kernels(templates.build("toy_mlp"))


def test_a_broken_numba_install_means_numpy_with_the_reason(monkeypatch):
    import builtins  # noqa: PLC0415

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "numba":
            raise OSError("libllvmlite.so: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    kern, why = kernels._load()
    assert kern is None
    assert why == "Numba failed to import (OSError: libllvmlite.so: cannot open shared object file)"


@needs_numba
def test_no_folder_for_the_cache_means_compiling_for_this_process_only(monkeypatch):
    import numba  # noqa: PLC0415

    real_njit = numba.njit

    def njit(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function 'pool_tiles': no locator available for file")
        return real_njit(*args, cache=cache, **kwargs)

    monkeypatch.setattr(numba, "njit", njit)
    kern, why = kernels._load()
    assert why == "" and kern is not None
    out = np.empty((1, 1, 1), np.float32)
    kern.pool_tiles(np.array([[[[1.0], [3.0]]]], np.float32), out, np.empty((1, 1, 1), np.uint8), True)
    assert out[0, 0, 0] == 3.0


def test_a_big_sgd_model_says_whether_it_uses_the_kernels():
    from graph.training.datasets.base import DataSplits  # noqa: PLC0415
    from graph.training.trainer import Trainer  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 20)
    data = DataSplits("flat", x, y, x[:5], y[:5], x[:5], y[:5], [str(i) for i in range(10)])
    # two_layer_net's first W is 784 x 50 = 39,200 entries, above MIN_ELEMENTS; no conv
    t = Trainer(templates.build("two_layer_net"), data, epochs=1, batch_size=10, optimizer="sgd", dtype="float32")
    assert not t.engine.fused_groups()
    assert t.backend_note.endswith(kernels.status())
