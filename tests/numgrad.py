"""Helpers for the op tests: central-difference gradients and a backward-vs-numerical check.

Not a test module (pytest collects ``test_*.py`` only); the op tests import it.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-6


def numerical_grad(f, arr: np.ndarray, eps: float = EPS) -> np.ndarray:
    """∂f/∂arr by central differences; ``f()`` reads ``arr``, which is perturbed in place and restored."""
    grad = np.zeros_like(arr, dtype=np.float64)
    flat, gflat = arr.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f()
        flat[i] = keep - eps
        down = f()
        flat[i] = keep
        gflat[i] = (up - down) / (2 * eps)
    return grad


def run(op, inputs, params=None, train=True, seed=None):
    """One forward pass; a fresh ``default_rng(seed)`` each call keeps Dropout's mask fixed."""
    rng = None if seed is None else np.random.default_rng(seed)
    return op.forward(list(inputs), params or {}, train, rng=rng)


def check_gradients(op, inputs, params=None, *, train=True, seed=0, skip_inputs=(), rtol=1e-5, atol=1e-7):
    """Assert ``op.backward`` matches central differences for every input and learnable tensor.

    The scalar probed is L = Σ out · R with a fixed random R, so every output entry
    matters with its own weight. Inputs listed in ``skip_inputs`` (e.g. integer labels)
    are not probed. Returns ``(input_grads, param_grads)`` for further checks.
    """
    inputs = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
              for a in inputs]
    params = {k: np.array(v, dtype=np.float64) for k, v in (params or {}).items()}
    out, cache = run(op, inputs, params, train, seed)
    weights = np.random.default_rng(1234).standard_normal(np.shape(out))

    def loss() -> float:
        value, _ = run(op, inputs, params, train, seed)
        return float(np.sum(np.asarray(value) * weights))

    input_grads, param_grads = op.backward(np.asarray(weights, dtype=np.float64), cache)
    assert len(input_grads) == len(op.inputs)
    for i, x in enumerate(inputs):
        if i in skip_inputs:
            continue
        assert input_grads[i] is not None, f"{op.type_name}: no gradient for input {op.inputs[i]}"
        assert input_grads[i].shape == x.shape
        np.testing.assert_allclose(input_grads[i], numerical_grad(loss, x), rtol=rtol, atol=atol,
                                   err_msg=f"{op.type_name} input {op.inputs[i]}")
    for name in getattr(op, "learnable", ()):
        assert name in param_grads, f"{op.type_name}: no gradient for {name}"
        assert param_grads[name].shape == params[name].shape
        np.testing.assert_allclose(param_grads[name], numerical_grad(loss, params[name]), rtol=rtol,
                                   atol=atol, err_msg=f"{op.type_name} param {name}")
    return input_grads, param_grads


def init(op, *shapes, seed=0) -> dict:
    """Learnable tensors and buffers for these input shapes (float64)."""
    return op.init_params(tuple(shapes), np.random.default_rng(seed))


def distinct(shape, seed=0, gap=0.01) -> np.ndarray:
    """Values at least ``gap`` apart (no ties, no kink within a finite-difference step)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) - n / 2).reshape(shape) * gap + gap / 2
