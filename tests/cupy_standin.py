"""A CPU stand-in for CuPy, so the CuPy code paths run in CI (which has no GPU).

Its arrays are an ``ndarray`` subclass whose type lives in a module named ``cupy``, so
``layers.base.array_module`` takes them for GPU arrays and returns this module, and
``to_host`` calls their ``get()``. Every code path that branches on "NumPy or not" (the
thread splitting, the cache-sized slicing, the host copies, the trainer's device data)
then takes its CuPy branch, while the numbers are computed by NumPy: results must equal
the NumPy backend's exactly. What it cannot show is that real CuPy supports every call
(`test_backend.test_real_gpu_matches_numpy` does that on a GPU).
"""
from __future__ import annotations

import functools
import types

import numpy as np


class ndarray(np.ndarray):  # noqa: N801 - named like cupy.ndarray on purpose
    """A "device" array: NumPy underneath, ``get()`` copies it to a plain host array."""

    def get(self):
        return np.array(self.view(np.ndarray), copy=True)


ndarray.__module__ = "cupy"


def _to_device(value):
    if type(value) is np.ndarray:
        return value.view(ndarray)
    if isinstance(value, tuple):
        return tuple(_to_device(v) for v in value)
    if isinstance(value, list):
        return [_to_device(v) for v in value]
    return value


def _device_function(fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        return _to_device(fn(*args, **kwargs))

    return call


class _Generator:
    """``cupy.random.Generator``: NumPy's, with device results."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        return _device_function(getattr(self._rng, name))


def make_module() -> types.ModuleType:
    """A fresh module to install as ``sys.modules["cupy"]``."""
    mod = types.ModuleType("cupy")
    mod.__version__ = "13.9.9"
    mod.ndarray = ndarray

    def module_getattr(name):
        attr = getattr(np, name)
        if isinstance(attr, np.ufunc) or not callable(attr) or isinstance(attr, type):
            return attr  # ufuncs keep the subclass by themselves; dtypes and constants as they are
        return _device_function(attr)

    mod.__getattr__ = module_getattr
    mod.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
        as_strided=lambda x, shape, strides: np.lib.stride_tricks.as_strided(x, shape, strides, subok=True)))
    mod.random = types.SimpleNamespace(default_rng=_Generator)
    props = {"name": b"CPU stand-in"}
    mod.cuda = types.SimpleNamespace(
        Device=lambda: types.SimpleNamespace(id=0),
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: props),
    )
    return mod
