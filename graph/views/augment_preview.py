"""A preview grid of augmented training samples, Qt-free (the Training dock draws it).

Row r shows sample r as the network will see it: first unaugmented, then ``copies`` draws
of the same :class:`~graph.training.datasets.transforms.Augment` the trainer applies, after
the same feature scaling, so what the grid shows is what a batch contains.
"""
from __future__ import annotations

import numpy as np

from graph.training.datasets import Augment, DatasetError, make_scaler
from graph.views.mosaic import tile


def augment_preview(x_train, spec, samples: int = 4, copies: int = 5, seed: int = 0,
                    scaling: str = "auto", default_scaling: str = "unit") -> np.ndarray:
    """The preview mosaic: ``samples`` rows of (original, ``copies`` augmented versions).

    Parameters
    ----------
    x_train : array (N, C, H, W)
        Training images (any dtype); only the first ``samples`` are used, channel 0 shown.
    spec : str, dict, Augment or None
        What ``--augment`` takes, e.g. ``"crop=4,rotate=10"``.

    Returns
    -------
    ndarray, shape (samples·(H+1)−1, (copies+1)·(W+1)−1)
        Each tile scaled to 0..1 on its own; NaN in the gaps.

    Raises
    ------
    DatasetError
        For non-image data or a bad augmentation spec (the message says which).
    """
    x = np.asarray(x_train)
    if x.ndim != 4:
        raise DatasetError(f"augmentation needs image samples (C, H, W); these samples have shape {x.shape[1:]}")
    aug = Augment.parse(spec)
    scaler = make_scaler(scaling, x, default_scaling)
    base = scaler(x[:samples], np.float64, np)
    rng = np.random.default_rng(seed)
    rows = [base[:, 0]]
    for _ in range(copies):
        rows.append(aug(base, rng, np)[:, 0] if aug.active else base[:, 0])
    grid = np.stack(rows, axis=1)                    # (samples, copies + 1, H, W)
    return tile(grid.reshape(-1, *grid.shape[2:]), normalize=True, ncols=copies + 1)
