"""Array backends: NumPy always, CuPy when a working CUDA GPU is present.

CuPy imports fine without a GPU, so availability is decided by a tiny real computation
inside try/except; the answer and the reason are cached for the process.
"""
from __future__ import annotations

import functools

import numpy as np

BACKENDS = ("numpy", "cupy", "auto")


class BackendError(RuntimeError):
    """The requested backend cannot run here; the message says why."""


@functools.lru_cache(maxsize=1)
def cupy_status() -> tuple[bool, str]:
    """``(True, device description)`` or ``(False, why CuPy cannot be used)``."""
    try:
        import cupy  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        return False, f"CuPy is not installed ({exc}); install with: pip install 'backprop-studio[gpu]'"
    except Exception as exc:  # noqa: BLE001 - a broken CUDA install raises many kinds
        return False, f"CuPy failed to import: {type(exc).__name__}: {exc}"
    try:
        probe = cupy.arange(4, dtype=cupy.float32)
        total = float((probe * 2).sum())
        if total != 12.0:
            return False, f"CuPy computed a wrong result on the GPU ({total} instead of 12)"
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props.get("name", b"GPU")
        name = name.decode() if isinstance(name, bytes) else str(name)
        return True, f"CuPy {cupy.__version__} on {name}"
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError, CompileException, ...
        return False, f"no usable CUDA GPU: {type(exc).__name__}: {exc}".strip()


@functools.lru_cache(maxsize=4)
def _resolve(name: str) -> tuple[str, object, str]:
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return "numpy", np, "NumPy on the CPU"
    ok, reason = cupy_status()
    if ok:
        import cupy  # noqa: PLC0415

        return "cupy", cupy, reason
    if name == "cupy":
        raise BackendError(f"the CuPy backend is unavailable: {reason}")
    return "numpy", np, f"NumPy on the CPU (GPU not used: {reason})"


def resolve_backend(name: str = "auto") -> tuple[str, object, str]:
    """``(actual name, array module, human note)`` for ``numpy``, ``cupy`` or ``auto``.

    ``cupy`` raises :class:`BackendError` with the reason when no GPU is usable;
    ``auto`` falls back to NumPy and the note says why.
    """
    return _resolve(name)


def clear_cache() -> None:
    """Forget the cached CuPy probe (tests use this)."""
    cupy_status.cache_clear()
    _resolve.cache_clear()
