"""Train / validation / test splits by a fixed, documented permutation.

The default split of a dataset with ``n`` samples and no official test set (``mnist-10k``,
the user's own ``.npz`` or image folder, the toy sets) is 80 / 10 / 10::

    perm = np.random.default_rng(0).permutation(n)
    n_val = n_test = round(0.1 * n)
    n_train = n - n_val - n_test
    train = perm[:n_train]
    val   = perm[n_train:n_train + n_val]
    test  = perm[n_train + n_val:]

For ``mnist-10k`` (the 10,000 images of the official MNIST test file, in file order) this
gives exactly 8000 / 1000 / 1000, and ``test`` lists the file positions of the 1000 test
images. The permutation does not depend on the training seed, so every run, every
optimizer and every backend sees the same split, and results can be compared.

Datasets with an official test set (``mnist``, ``fashion-mnist``: 60,000 + 10,000) keep
it as the test split and hold out validation samples from the training file by the same
rule: ``perm = default_rng(0).permutation(60000)``, validation ``perm[:5000]``, training
``perm[5000:]`` (see :func:`holdout`).
"""
from __future__ import annotations

import numpy as np

SPLIT_SEED = 0
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def split_sizes(n: int, fractions=DEFAULT_FRACTIONS) -> tuple[int, int, int]:
    """Sizes ``(n_train, n_val, n_test)``; validation and test are rounded, train takes the rest."""
    f_train, f_val, f_test = (float(f) for f in fractions)
    if min(f_train, f_val, f_test) < 0 or abs(f_train + f_val + f_test - 1.0) > 1e-9:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {tuple(fractions)}")
    n_val = int(round(f_val * n))
    n_test = int(round(f_test * n))
    return n - n_val - n_test, n_val, n_test


def split_indices(n: int, fractions=DEFAULT_FRACTIONS, seed: int = SPLIT_SEED):
    """Index arrays ``(train, val, test)`` of a dataset with ``n`` samples (see module docs)."""
    n_train, n_val, _ = split_sizes(n, fractions)
    perm = np.random.default_rng(seed).permutation(n)
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


def holdout(n: int, n_val: int, seed: int = SPLIT_SEED):
    """Index arrays ``(train, val)``: ``n_val`` validation samples held out of ``n``."""
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_val:], perm[:n_val]


def split_arrays(x, y, fractions=DEFAULT_FRACTIONS, seed: int = SPLIT_SEED):
    """Split ``x`` (N, ...) and ``y`` (N,) by :func:`split_indices`.

    Returns
    -------
    tuple
        ``(x_train, y_train, x_val, y_val, x_test, y_test, test_index)`` where
        ``test_index`` (n_test,) holds the original positions of the test samples.
    """
    tr, va, te = split_indices(len(y), fractions, seed)
    return x[tr], y[tr], x[va], y[va], x[te], y[te], te
