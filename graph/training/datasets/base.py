"""The container every dataset loader returns, its error type, and fitting samples to an Input.

Samples keep their natural layout: images are channels-first ``(N, C, H, W)`` (MNIST is
``(N, 1, 28, 28)`` uint8), toy sets are ``(N, 2)`` float. Labels are always integer class
indices ``(N,)`` int64 in ``0 .. K-1``. Scaling to 0-1 and the reshape that fits the graph's
``Input`` happen per batch (see :mod:`graph.training.datasets.transforms` and :func:`fit_to_input`),
so the raw uint8 data is stored once and augmentation sees image-shaped arrays even when
the graph wants flat vectors (``two_layer_net``'s ``Input`` is ``(N, 784)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


# labels are class indices; a label of 10**9 would make 10**9 class names and one-hot columns
MAX_CLASSES = 1 << 16


class DatasetError(ValueError):
    """Data cannot be loaded or does not fit the graph; the message says which and why."""


def fmt_shape(shape) -> str:
    """``(None, 1, 28, 28)`` -> ``(N, 1, 28, 28)``."""
    dims = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


@dataclass
class DataSplits:
    """A dataset already split into train / validation / test.

    Attributes
    ----------
    name : str
        What the user asked for (``"mnist-10k"``, ``"spiral"``, a path...).
    x_train, x_val, x_test : ndarray
        Samples ``(N, ...)`` in their stored dtype (uint8 images stay uint8).
    y_train, y_val, y_test : ndarray
        Integer class labels ``(N,)`` int64.
    class_names : list of str
        One name per class; ``len(class_names)`` is the number of classes K.
    test_index : ndarray
        For each test sample, its index in the original source (file order), so a
        misclassified test sample can be looked up again.
    default_scaling : str
        ``"unit"`` (uint8 images: divide by 255), ``"standardize"`` (toy sets) or
        ``"none"``; what ``scaling="auto"`` picks.
    source : str
        Where the data came from, for logs and the run folder.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list = field(default_factory=list)
    test_index: np.ndarray | None = None
    default_scaling: str = "none"
    source: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def sample_shape(self) -> tuple:
        """Shape of one sample, without the batch axis."""
        return tuple(self.x_train.shape[1:])

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if which not in ("train", "val", "test"):
            raise ValueError(f"unknown split {which!r} (train, val or test)")
        return getattr(self, f"x_{which}"), getattr(self, f"y_{which}")

    def first_train(self, n: int) -> "DataSplits":
        """The same splits with only the first ``n`` training samples (the split already
        shuffled them), e.g. the book's 300-sample overfitting set."""
        n = int(n)
        have = len(self.y_train)
        if not 1 <= n <= have:
            raise DatasetError(f"training-set size must be between 1 and {have} (the training split of "
                               f"{self.name}), got {n}")
        return replace(self, x_train=self.x_train[:n], y_train=self.y_train[:n])

    def summary(self) -> str:
        """One line: name, sizes, sample shape and classes."""
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} validation / "
                f"{len(self.y_test)} test, samples {fmt_shape(self.sample_shape)} "
                f"{self.x_train.dtype}, {self.num_classes} classes")


def check_xy(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of sample and label arrays; return ``x`` and int64 ``y``.

    Parameters
    ----------
    x : array (N, ...)
        Numeric samples (bool, integer or floating point).
    y : array (N,)
        Integer class labels >= 0 (floats are accepted only when every value is whole).
    what : str
        Where the data came from, used in error messages.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 2:
        raise DatasetError(f"{what}: x must have a sample axis and at least one feature axis, "
                           f"got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{what}: x has dtype {x.dtype}; expected numbers (uint8, int or float)")
    if y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all():
        y = y.argmax(axis=1)  # one-hot labels: keep the class index
    if y.ndim != 1:
        raise DatasetError(f"{what}: y must be a vector of class indices (N,), got shape {y.shape}")
    if len(x) != len(y):
        raise DatasetError(f"{what}: x has {len(x)} samples but y has {len(y)} labels")
    if len(y) == 0:
        raise DatasetError(f"{what}: no samples")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DatasetError(f"{what}: y has dtype {y.dtype} with non-whole values; "
                               "labels must be integer class indices")
    elif y.dtype.kind not in "biu":
        raise DatasetError(f"{what}: y has dtype {y.dtype}; labels must be integer class indices")
    if y.min() < 0:
        raise DatasetError(f"{what}: labels must be >= 0, found {int(y.min())}")
    if y.max() >= MAX_CLASSES:
        raise DatasetError(f"{what}: label {int(y.max())} is over the limit of {MAX_CLASSES - 1} "
                           f"(at most {MAX_CLASSES} classes)")
    check_finite(x, f"{what}: x")
    return x, y.astype(np.int64)


def check_finite(x, what: str) -> None:
    """Raise ``DatasetError`` with the count and first sample index of NaN/Inf values."""
    x = np.asarray(x)
    if x.dtype.kind not in "fc" or x.size == 0:
        return
    bad = ~np.isfinite(x.reshape(len(x), -1) if x.ndim > 1 else x)
    if not bad.any():
        return
    rows = bad.any(axis=1) if bad.ndim > 1 else bad
    first = int(np.argmax(rows))
    raise DatasetError(f"{what} holds {int(bad.sum()):,} NaN/Inf values in {int(rows.sum()):,} samples "
                       f"(first: sample {first}); fix or drop them before training")


def fit_to_input(x, input_shape, input_id: str = "x"):
    """Reshape a batch ``x`` (N, ...) to the graph Input's shape.

    The per-sample value count must match; then the batch is reshaped (a view), e.g.
    MNIST ``(N, 1, 28, 28)`` -> ``(N, 784)`` for an Input of shape ``(N, 784)``.

    Raises
    ------
    DatasetError
        When the sizes differ, naming both shapes.
    """
    want = tuple(input_shape)
    if not want or want[0] is not None:
        sample = want
    else:
        sample = want[1:]
    if any(d is None for d in sample):
        return x
    have = tuple(x.shape[1:])
    if have == sample:
        return x
    if int(np.prod(have)) != int(np.prod(sample)):
        raise DatasetError(
            f"dataset samples have shape {fmt_shape(have)} ({int(np.prod(have))} values) but the "
            f"graph's Input {input_id!r} expects {fmt_shape(want)} ({int(np.prod(sample))} values "
            "per sample)")
    return x.reshape((x.shape[0],) + sample)


def check_labels_fit(num_classes: int, label_shape, logits_width: int | None,
                     input_id: str = "t") -> None:
    """Raise ``DatasetError`` when the label Input or the graph's output cannot hold K classes.

    ``label_shape`` is the label Input's shape (``(N,)`` for class indices, ``(N, K)`` for
    one-hot); ``logits_width`` is the width of the node feeding the loss, when known.
    """
    shape = tuple(label_shape)
    if len(shape) == 2 and shape[1] is not None and shape[1] != num_classes:
        raise DatasetError(f"the dataset has {num_classes} classes but the label Input "
                           f"{input_id!r} has shape {fmt_shape(shape)}")
    if logits_width is not None and logits_width < num_classes:
        raise DatasetError(f"the dataset has {num_classes} classes but the graph outputs "
                           f"only {logits_width} scores per sample")


def labels_for_input(y, label_shape, num_classes: int, xp=np):
    """Class indices (N,) -> what the label Input wants: indices, or one-hot (N, K)."""
    shape = tuple(label_shape)
    if len(shape) == 2:
        width = shape[1] if shape[1] is not None else num_classes
        onehot = xp.zeros((y.shape[0], width), dtype=xp.float32)
        onehot[xp.arange(y.shape[0]), y] = 1
        return onehot
    return y
