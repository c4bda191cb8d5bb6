"""Feature scaling and on-the-fly image augmentation, applied per batch, NumPy or CuPy.

Scaling (``Scaler``) is fitted on the training split only, so validation and test data
never leak into it:

``unit``
    0-1: uint8 (uint16) data is divided by 255 (65535); other data is min-max scaled with
    the training minimum and maximum.
``standardize``
    subtract the training mean and divide by the standard deviation, per feature for
    (N, F) data and per channel for (N, C, H, W) images.
``none``
    cast to the training dtype only.

Augmentation (``Augment``) draws, per sample, a rotation, a zoom, a horizontal flip and a
shift, composes them into one affine map about the image centre, and resamples the whole
batch at once with bilinear interpolation (one gather, no Python loop over samples, no
SciPy). Pixels that come from outside the image are 0. Integer shifts without rotation or
zoom reproduce the pixels exactly, so ``shift`` is the book's random crop: pad by ``shift``
pixels and crop back at a random offset. ``crop=P`` is that standard random crop spelled
out: pad by ``P`` zero pixels on every side and take a crop of the original size at an
offset drawn uniformly from the whole pixels ``-P .. P`` along each axis (added to any
``shift``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from graph.training.datasets.base import DatasetError

SCALINGS = ("auto", "unit", "standardize", "none")


class Scaler:
    """Per-batch input scaling fitted on the training samples.

    Parameters
    ----------
    mode : {"unit", "standardize", "none"}
    x_train : ndarray (N, ...)
        Training samples; only their statistics are kept.
    """

    def __init__(self, mode: str, x_train: np.ndarray) -> None:
        if mode not in SCALINGS[1:]:
            raise DatasetError(f"unknown scaling {mode!r} (choose from {', '.join(SCALINGS)})")
        self.mode = mode
        self.shift = 0.0
        self.scale = 1.0
        if mode == "unit":
            if x_train.dtype in (np.uint8, np.uint16):
                self.scale = 1.0 / np.iinfo(x_train.dtype).max
            else:
                lo, hi = float(x_train.min()), float(x_train.max())
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    raise DatasetError("cannot scale to 0-1: the training data holds NaN or Inf")
                # constant data (hi == lo) keeps scale 1: x - lo is 0, never 0 / 0
                self.shift, self.scale = lo, 1.0 / (hi - lo) if hi > lo else 1.0
        elif mode == "standardize":
            axes = (0,) if x_train.ndim == 2 else (0,) + tuple(range(2, x_train.ndim))
            mean = x_train.mean(axis=axes, dtype=np.float64, keepdims=True)[0]
            std = x_train.std(axis=axes, dtype=np.float64, keepdims=True)[0]
            self.shift, self.scale = mean, 1.0 / np.where(std > 0, std, 1.0)
        self._cache: dict = {}

    def __call__(self, x, dtype, xp=np):
        """Scale a batch ``x`` (B, ...) to float ``dtype`` on the array module ``xp``."""
        out = x.astype(dtype, copy=True)
        if self.mode == "none":
            return out
        shift, scale = self._constants(dtype, xp)
        if shift is not None:
            out -= shift
        out *= scale
        return out

    def _constants(self, dtype, xp):
        key = (np.dtype(dtype).str, xp.__name__)
        if key not in self._cache:
            def convert(v):
                return float(v) if np.isscalar(v) else xp.asarray(v, dtype=dtype)

            shift = None if np.isscalar(self.shift) and self.shift == 0 else convert(self.shift)
            self._cache[key] = (shift, convert(self.scale))
        return self._cache[key]

    def state(self) -> dict:
        """JSON-friendly description (for the run folder)."""
        return {"mode": self.mode, "shift": np.asarray(self.shift).tolist(),
                "scale": np.asarray(self.scale).tolist()}


def make_scaler(mode: str, x_train: np.ndarray, default: str = "none") -> Scaler:
    """``Scaler`` for ``mode``; ``"auto"`` uses the dataset's ``default`` scaling."""
    return Scaler(default if mode == "auto" else mode, x_train)


@dataclass
class Augment:
    """Random image augmentation parameters; all zero means no augmentation.

    Attributes
    ----------
    shift : float
        Maximum translation in pixels along each axis (uniform, rounded to whole pixels).
    rotate : float
        Maximum rotation in degrees (uniform in [-rotate, rotate]).
    flip : float
        Probability of a horizontal flip (mirrors left-right; wrong for digits, right for
        most photos).
    scale : float
        Maximum relative zoom: factor uniform in [1 - scale, 1 + scale].
    crop : float
        Random crop: pad by ``crop`` pixels (a whole number) and crop back to the original
        size at a uniformly drawn offset in ``-crop .. crop`` along each axis.
    """

    shift: float = 0.0
    rotate: float = 0.0
    flip: float = 0.0
    scale: float = 0.0
    crop: float = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not np.isfinite(value) or value < 0:
                raise DatasetError(f"augment {name} must be a number >= 0, got {value}")
        if self.flip > 1:
            raise DatasetError(f"augment flip is a probability (0 .. 1), got {self.flip}")
        if self.scale >= 1:
            raise DatasetError(f"augment scale must be < 1 (zoom in [1 - s, 1 + s]), got {self.scale}")
        if self.crop != int(self.crop):
            raise DatasetError(f"augment crop is a padding in whole pixels, got {self.crop}")

    @property
    def active(self) -> bool:
        # asked every batch: asdict's deep copy cost a toy net's step ~9 %
        return self.shift > 0 or self.rotate > 0 or self.flip > 0 or self.scale > 0 or self.crop > 0

    @classmethod
    def parse(cls, spec) -> "Augment":
        """From ``None``, a dict, or ``"shift=2,rotate=10,flip=0.5,scale=0.1,crop=4"``."""
        if spec is None or isinstance(spec, Augment):
            return spec or cls()
        if isinstance(spec, dict):
            items = spec
        else:
            items = {}
            for part in str(spec).replace(";", ",").split(","):
                if not part.strip():
                    continue
                key, sep, value = part.partition("=")
                if not sep:
                    raise DatasetError(f"augment: expected name=value, got {part!r} "
                                       "(e.g. shift=2,rotate=10,flip=0.5,scale=0.1,crop=4)")
                items[key.strip()] = value.strip()
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(items) - known)
        if unknown:
            raise DatasetError(f"augment: unknown option {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        try:
            return cls(**{k: float(v) for k, v in items.items()})
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DatasetError):
                raise
            raise DatasetError(f"augment: {exc}") from None

    def __call__(self, x, rng: np.random.Generator, xp=np):
        """Augment a float batch of images.

        Parameters
        ----------
        x : array (B, C, H, W)
            Float images on ``xp``; not modified.
        rng : numpy.random.Generator
            Draws the per-sample parameters on the host, so a seed reproduces them on
            any backend.

        Returns
        -------
        array (B, C, H, W)
            A new array, same dtype.
        """
        if not self.active:
            return x
        if x.ndim != 4:
            raise DatasetError(f"augmentation needs image batches (B, C, H, W), got shape {x.shape}")
        b, _, h, w = x.shape
        angle = np.deg2rad(rng.uniform(-self.rotate, self.rotate, b))
        zoom = rng.uniform(1 - self.scale, 1 + self.scale, b)
        flip = np.where(rng.random(b) < self.flip, -1.0, 1.0)
        shift = np.rint(rng.uniform(-self.shift, self.shift, (b, 2)))
        if self.crop > 0:  # drawn only when asked, so runs without crop keep their draws
            pad = int(self.crop)
            shift = shift + rng.integers(-pad, pad + 1, (b, 2))
        # inverse map: for each output pixel, where to read in the input
        cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
        inv = np.stack([np.stack([cos * flip, sin * flip], 1), np.stack([-sin, cos], 1)], 1)
        return warp_affine(x, inv, shift, xp)


def warp_affine(x, inv, shift, xp=np):
    """Resample ``x`` (B, C, H, W) through per-sample inverse affine maps, bilinearly.

    ``inv`` (B, 2, 2) maps an output pixel's offset from the image centre, ``(dx, dy)``, to
    the offset ``(src_x, src_y)`` it is read from; ``shift`` (B, 2) is the output
    translation ``(dy, dx)`` in pixels, undone before ``inv`` is applied.
    """
    b, c, h, w = x.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows = np.arange(h, dtype=np.float64)[:, None] - cy
    cols = np.arange(w, dtype=np.float64)[None, :] - cx
    dy = rows[None] - shift[:, 0, None, None]
    dx = cols[None] - shift[:, 1, None, None]
    src_x = inv[:, 0, 0, None, None] * dx + inv[:, 0, 1, None, None] * dy + cx
    src_y = inv[:, 1, 0, None, None] * dx + inv[:, 1, 1, None, None] * dy + cy
    x0 = np.floor(src_x)
    y0 = np.floor(src_y)
    fx = src_x - x0
    fy = src_y - y0
    flat = x.reshape(b, c, h * w)
    out = xp.zeros((b, c, h, w), dtype=x.dtype)
    batch = xp.asarray(np.arange(b)[:, None, None])
    for oy, ox, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                           (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + oy, x0 + ox
        valid = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w) & (weight > 0)
        if not valid.any():
            continue
        idx = np.where(valid, yy * w + xx, 0).astype(np.int64)
        wgt = xp.asarray(np.where(valid, weight, 0.0), dtype=x.dtype)
        gathered = flat[batch, :, xp.asarray(idx)]  # (B, H, W, C)
        out += xp.moveaxis(gathered, -1, 1) * wgt[:, None]
    return out
