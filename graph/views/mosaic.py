"""Tile many small images into one 2-D array, Qt-free.

Showing 30 feature maps or 30 filters as 30 separate image widgets takes seconds to
build; one image holding a tiled mosaic takes milliseconds. The GUI's channel grids
(step inspector) and filter mosaics (training view) both draw the array returned by
:func:`tile` with a single ``ImageItem``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np


def grid_shape(count: int, ncols: int | None = None) -> tuple[int, int]:
    """``(rows, cols)`` for ``count`` tiles: ``ncols`` columns, or a near-square grid."""
    count = max(int(count), 1)
    cols = int(ncols) if ncols else int(math.ceil(math.sqrt(count)))
    cols = max(1, min(cols, count))
    return int(math.ceil(count / cols)), cols


def as_tiles(arr) -> tuple[np.ndarray, int | None]:
    """Reshape an array into a stack of 2-D tiles.

    Parameters
    ----------
    arr : array_like
        ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``.

    Returns
    -------
    tiles : ndarray, shape (T, H, W)
    ncols : int or None
        ``C`` when ``arr`` is 4-D with both ``N > 1`` and ``C > 1`` (one row per sample,
        one column per channel); ``None`` means "lay out as a near-square grid".
    """
    a = np.asarray(arr)
    if a.ndim == 2:
        return a[None], None
    if a.ndim == 3:
        return a, None
    if a.ndim == 4:
        n, c = a.shape[:2]
        return a.reshape(n * c, *a.shape[2:]), (c if n > 1 and c > 1 else None)
    raise ValueError(f"tile: expected a 2-D, 3-D (C, H, W) or 4-D (N, C, H, W) array, got {a.ndim}-D {a.shape}")


def normalize_tiles(tiles: np.ndarray) -> np.ndarray:
    """Scale each tile of ``(T, H, W)`` to 0..1 on its own (constant tiles become 0.5)."""
    t = np.asarray(tiles, dtype=np.float64)
    flat = t.reshape(t.shape[0], -1)
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(flat, axis=1, initial=np.inf, where=np.isfinite(flat))
        hi = np.nanmax(flat, axis=1, initial=-np.inf, where=np.isfinite(flat))
    span = hi - lo
    ok = np.isfinite(span) & (span > 0)
    out = np.full_like(t, 0.5)
    out[ok] = (t[ok] - lo[ok, None, None]) / span[ok, None, None]
    return out


def tile(arr, normalize: bool = False, gap: int = 1, ncols: int | None = None,
         fill: float = np.nan) -> np.ndarray:
    """Tile ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)`` into one 2-D float array.

    Parameters
    ----------
    arr : array_like
        The images. 4-D arrays with ``N > 1`` and ``C > 1`` get one row per sample and
        one column per channel; otherwise the tiles fill a near-square grid row by row.
    normalize : bool
        Scale each tile to 0..1 independently (filters and feature maps have very
        different ranges); otherwise values are kept as they are.
    gap : int
        Pixels between tiles (filled with ``fill``).
    ncols : int, optional
        Force the number of columns.
    fill : float
        Value of the gaps and unused cells; NaN draws transparent in pyqtgraph.

    Returns
    -------
    ndarray, shape (rows * (H + gap) - gap, cols * (W + gap) - gap)
        Row-major image (row 0 at the top): tile ``i`` sits at grid cell
        ``divmod(i, cols)``; see :func:`tile_at` for the inverse.
    """
    tiles, auto_cols = as_tiles(arr)
    tiles = normalize_tiles(tiles) if normalize else np.asarray(tiles, dtype=np.float64)
    count, h, w = tiles.shape
    rows, cols = grid_shape(count, ncols or auto_cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float64)
    for i in range(count):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = tiles[i]
    return out


def tile_at(shape, row: int, col: int, gap: int = 1, ncols: int | None = None) -> int | None:
    """Index of the tile under pixel ``(row, col)`` of ``tile(arr)`` for ``arr.shape == shape``.

    Returns ``None`` over a gap or an empty cell (for hover read-outs).
    """
    count = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    auto = shape[1] if len(shape) == 4 and shape[0] > 1 and shape[1] > 1 else None
    h, w = shape[-2], shape[-1]
    _, cols = grid_shape(count, ncols or auto)
    r, dr = divmod(int(row), h + gap)
    c, dc = divmod(int(col), w + gap)
    if dr >= h or dc >= w or c >= cols or row < 0 or col < 0:
        return None
    i = r * cols + c
    return i if i < count else None


def to_image2d(arr) -> np.ndarray:
    """Any array as a 2-D float array for a thumbnail or heatmap.

    Scalars become ``(1, 1)``, vectors a one-row strip, 3-D/4-D arrays a channel mosaic
    (each tile normalised); leading axes of size 1 are dropped first.
    """
    a = np.asarray(arr, dtype=np.float64)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim == 2:
        return a
    if a.ndim > 4:
        a = a.reshape(-1, *a.shape[-3:])
    return tile(a, normalize=True)


def thumbnail(arr, max_side: int = 24) -> np.ndarray:
    """A small ``uint8`` grey image (0..255) of any array, at most ``max_side`` pixels a side.

    Large images are shrunk by block averaging; NaN/Inf draw as 0.
    """
    img = to_image2d(arr)
    h, w = img.shape
    step = max(1, int(math.ceil(max(h, w) / max_side)))
    if step > 1:
        ph, pw = -h % step, -w % step
        padded = np.pad(img, ((0, ph), (0, pw)), constant_values=np.nan)
        blocks = padded.reshape(padded.shape[0] // step, step, padded.shape[1] // step, step)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            img = np.nanmean(blocks, axis=(1, 3))
    finite = np.isfinite(img)
    if not finite.any():
        return np.zeros(img.shape, dtype=np.uint8)
    lo, hi = img[finite].min(), img[finite].max()
    scaled = np.where(finite, (img - lo) / (hi - lo) if hi > lo else 0.5, 0.0)
    return np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)



def as_images(x, input_shape=None) -> np.ndarray | None:
    """Samples ``x`` as greyscale images ``(N, H, W)`` for previews and galleries, or ``None``.

    Image data is kept (the first channel of ``(N, C, H, W)``). Flat rows ``(N, F)`` become
    images when the graph's Input says how (``input_shape`` such as ``(None, 1, 28, 28)``
    with C·H·W = F), else when F is a square number of at least 16 (784 -> 28 × 28).
    Two features (a toy 2-D set) stay points: ``None``.
    """
    x = np.asarray(x)
    if x.ndim == 4:
        return x[:, 0]
    if x.ndim == 3:
        return x
    if x.ndim != 2:
        return None
    n, f = x.shape
    dims = [int(d) for d in (input_shape or ())[1:] if d is not None]
    if len(dims) >= 2 and int(np.prod(dims)) == f:
        return x.reshape((n, *dims))[:, 0] if len(dims) == 3 else x.reshape((n, *dims[-2:]))
    side = int(round(f ** 0.5))
    if f >= 16 and side * side == f:
        return x.reshape(n, side, side)
    return None
