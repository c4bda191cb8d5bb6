"""Two-dimensional toy sets as in TensorFlow Playground (``dataset.ts``), seeded and vectorised.

Every generator returns ``x`` (n, 2) float64 in the Playground's coordinates (about -6..6)
and ``y`` (n,) int64 with class 1 for the Playground's orange "+1" points and 0 for the
blue "-1" ones. ``noise`` is the Playground's slider divided by 100 (0 .. 0.5).

circle
    half the points within radius 2.5 of the origin, half in the ring 3.5 .. 5; uniform
    noise of ``noise * 5`` per axis; the label comes from the *noisy* point (inside 2.5).
xor
    uniform in [-5, 5]^2 pushed 0.3 away from the axes; label ``x * y >= 0`` of the noisy
    point (noise ``noise * 5`` per axis).
gauss
    two Gaussian blobs at (2, 2) and (-2, -2), variance 0.5 + 7 * noise.
spiral
    two interleaved arms, r = 5 i / (n/2), angle 1.75 * 2 pi i / (n/2) (+ pi for the second
    arm), uniform noise of ``noise`` per axis.
moons
    not in the Playground: scikit-learn's two half-moons with Gaussian noise of standard
    deviation ``noise``, then scaled by 2.5 and centred so it spans about -4 .. 4.
"""
from __future__ import annotations

import numpy as np

from graph.training.datasets.base import DatasetError

TOY_NAMES = ("circle", "xor", "gauss", "spiral", "moons")
DEFAULT_SAMPLES = 500


def _circle(n, noise, rng):
    radius = 5.0
    n_in = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n - n_in)])
    angle = rng.uniform(0, 2 * np.pi, n)
    pts = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = pts + rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int64)
    return pts, y


def _xor(n, noise, rng):
    pts = rng.uniform(-5, 5, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    noisy = pts + rng.uniform(-5, 5, (n, 2)) * noise
    y = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return pts, y


def _gauss(n, noise, rng):
    variance = 0.5 + 3.5 * noise / 0.5
    n_pos = n // 2
    centers = np.concatenate([np.full((n_pos, 2), 2.0), np.full((n - n_pos, 2), -2.0)])
    pts = centers + rng.normal(0, np.sqrt(variance), (n, 2))
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n - n_pos, np.int64)])
    return pts, y


def _spiral(n, noise, rng):
    half = n // 2
    parts, labels = [], []
    for count, delta, label in ((half, 0.0, 1), (n - half, np.pi, 0)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        parts.append(pts + rng.uniform(-1, 1, (count, 2)) * noise)
        labels.append(np.full(count, label, np.int64))
    return np.concatenate(parts), np.concatenate(labels)


def _moons(n, noise, rng):
    n_out = n // 2
    n_in = n - n_out
    a_out = np.linspace(0, np.pi, n_out)
    a_in = np.linspace(0, np.pi, n_in)
    pts = np.concatenate([np.stack([np.cos(a_out), np.sin(a_out)], axis=1),
                          np.stack([1 - np.cos(a_in), 0.5 - np.sin(a_in)], axis=1)])
    pts = pts + rng.normal(0, noise, pts.shape) if noise > 0 else pts
    pts = (pts - [0.5, 0.25]) * 2.5
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return pts, y


_GENERATORS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}


def make_toy(name: str, n: int = DEFAULT_SAMPLES, noise: float = 0.0, seed: int = 0):
    """Generate a toy set.

    Parameters
    ----------
    name : {"circle", "xor", "gauss", "spiral", "moons"}
    n : int
        Number of samples (>= 4).
    noise : float
        0 .. 0.5 (the Playground's percentage / 100); see the module docs per set.
    seed : int
        Seed of ``np.random.default_rng``; the same seed gives the same points.

    Returns
    -------
    tuple
        ``x`` (n, 2) float64 and ``y`` (n,) int64 in {0, 1}, shuffled.
    """
    if name not in _GENERATORS:
        raise DatasetError(f"unknown toy dataset {name!r} (known: {', '.join(TOY_NAMES)})")
    n = int(n)
    noise = float(noise)
    if n < 4:
        raise DatasetError(f"{name}: need at least 4 samples, got {n}")
    if not 0.0 <= noise <= 1.0:
        raise DatasetError(f"{name}: noise must be between 0 and 1 (Playground: 0 .. 0.5), got {noise}")
    rng = np.random.default_rng(seed)
    x, y = _GENERATORS[name](n, noise, rng)
    # generators emit one class after the other; shuffle so any split gets both
    order = rng.permutation(n)
    return x[order], y[order]
