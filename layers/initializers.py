"""Weight initializers from the book: zeros, constant, normal(std), Xavier, He."""
from __future__ import annotations

import numpy as np

INIT_CHOICES = ("he", "xavier", "normal", "zeros", "constant")


def initialize(kind: str, shape: tuple, fan_in: int, rng: np.random.Generator,
               std: float = 0.01, fill: float = 0.0) -> np.ndarray:
    """A float64 array of ``shape``.

    ``he``: N(0, sqrt(2/n)); ``xavier``: N(0, 1/sqrt(n)) with n = ``fan_in``;
    ``normal``: N(0, std); ``zeros``; ``constant``: every entry ``fill``.
    Zeros make every neuron learn the same thing (symmetry); the book's std=1 saturates
    sigmoids and 0.01 leaves no expressiveness in deep nets.
    """
    fan_in = max(int(fan_in), 1)
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "constant":
        return np.full(shape, float(fill))
    if kind == "he":
        scale = np.sqrt(2.0 / fan_in)
    elif kind == "xavier":
        scale = 1.0 / np.sqrt(fan_in)
    elif kind == "normal":
        scale = float(std)
    else:
        raise ValueError(f"unknown initializer {kind!r} (choose from {', '.join(INIT_CHOICES)})")
    return rng.standard_normal(shape) * scale
