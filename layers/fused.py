"""Conv2D → [ReLU] → MaxPool2D computed as one step (the engine's fusion, ``graph.run.fusion``).

Why: max-pooling a convolution's output the usual way reads it in 2-apart strided steps,
which NumPy cannot vectorise, and a ReLU in between touches the full-size map twice more
(forward and backward). Here the convolution writes its output columns grouped by their
place in each K×K pooling tile (``Conv2D.forward_columns(tile=K)``), so the K·K
candidates of every window are K·K *contiguous* blocks; the maximum is a few whole-block
``maximum``/``greater`` calls. The ReLU runs after the pooling, on a K·K times smaller
array: max(relu(x)) = relu(max(x)), and the gradient reaches the same entry, because a
window whose maximum is positive has its first maximum at the same place either way and a
window whose maximum is not positive passes no gradient through the ReLU either way.

With Numba (``layers.kernels``) each group's pooling is one compiled pass over its K·K
blocks, keeping the winner's place (0…K·K−1) and the pooled output, whose sign is the
ReLU's mask; without it, NumPy's whole-block calls above do the same.

The result is the unfused one: the same forward values bit for bit, and the same
gradients up to the order in which the weight gradient's sum over output pixels is
added (float rounding only). One exception, where nothing is meaningful anyway: a
window holding a NaN passes no gradient back (the unfused ops may pass one to an
earlier, positive entry).

Shapes: x : (N, C, H, W) -> conv (N, FN, OH, OW) -> out (N, FN, OH/K, OW/K).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import kernels
from .base import array_module
from .conv import ConvCache
from .pooling import first_max, index_dtype, spread_to_winners


class ConvPoolCache(NamedTuple):
    """What :func:`conv_pool_forward` keeps for :func:`conv_pool_backward` (P = OH/K · OW/K).

    The compiled path (``layers.kernels``) keeps ``win``; the NumPy path keeps
    ``row_idx``, ``col_idx`` and ``mask``; the others are ``None``.
    """

    conv: ConvCache     # the convolution's own cache, columns in K×K tile order
    k: int              # pooling window and stride K
    relu: bool          # a ReLU sits between the convolution and the pooling
    out: Any            # (N, FN, P) the pooled (and ReLU'd) output, the array handed on (ops
                        # never change their inputs, so its sign stays the ReLU's mask)
    win: Any            # (N, FN, P) uint8, which of the K·K entries (row-major) is the first maximum
    row_idx: Any        # (N, FN, P) which tile row holds each window's first maximum
    col_idx: Any        # (N, FN, K, P) per tile row, which column holds that row's first maximum
    mask: Any           # (N, FN, P) bool, pooled maximum > 0 (the ReLU's mask), or None without ReLU
    cols: Any           # (N, FN, OH·OW) the convolution's output columns, tiled (for conv_output)


def _kernels_for(*arrays):
    """The compiled kernels when they can take these arrays, else ``None`` (NumPy path)."""
    return kernels.compiled() if kernels.usable(*arrays) else None


def conv_pool_forward(conv, x, params, k: int, relu: bool):
    """Forward of Conv2D ``conv`` (its ``params``), an optional ReLU, then K×K max-pool, stride K.

    The convolution's OH and OW must be multiples of ``k`` (``k`` ≥ 2). Each group of a few
    samples is pooled right after its convolution, while its output is still in cache.
    Returns ``(out (N, FN, OH/K, OW/K), cache)``, the cache a :class:`ConvPoolCache`.
    """
    xp = array_module(x)
    n, fn, oh, ow = conv.infer_shape(x.shape)
    tile_px = (oh // k) * (ow // k)
    out = xp.empty((n, fn, tile_px), dtype=x.dtype)
    same_dtype = all(a.dtype == x.dtype for a in params.values())
    kern = _kernels_for(out) if same_dtype and k * k <= 256 else None
    if kern is not None:
        win = np.empty((n, fn, tile_px), dtype=np.uint8)

        def pool(cols, rows):
            kern.pool_tiles(cols[rows].reshape(-1, fn, k * k, tile_px), out[rows], win[rows], relu)

        cols, conv_cache = conv.forward_columns(x, params, tile=k, then=pool)
        cache = ConvPoolCache(conv_cache, k, relu, out, win, None, None, None, cols)
        return out.reshape(n, fn, oh // k, ow // k), cache
    row_idx = xp.empty((n, fn, tile_px), dtype=index_dtype(k, xp))
    col_idx = xp.empty((n, fn, k, tile_px), dtype=index_dtype(k, xp))
    mask = xp.empty((n, fn, tile_px), dtype=bool) if relu else None
    zero = x.dtype.type(0)

    def pool(cols, rows):
        b = cols[rows].reshape(-1, fn, k, k, tile_px)
        o, ci = out[rows], col_idx[rows]
        # the first maximum along each tile row, then the first of those down the rows:
        # the row-major first maximum of the window
        best = [first_max([b[:, :, di, dj] for dj in range(k)], xp, idx=ci[:, :, di])[0] for di in range(k)]
        first_max(best, xp, best=o, idx=row_idx[rows])
        if relu:
            xp.greater(o, zero, out=mask[rows])
            xp.maximum(o, zero, out=o)

    cols, conv_cache = conv.forward_columns(x, params, tile=k, then=pool)
    cache = ConvPoolCache(conv_cache, k, relu, out, None, row_idx, col_idx, mask, cols)
    return out.reshape(n, fn, oh // k, ow // k), cache


def conv_pool_backward(conv, dout, cache, need_input: bool = True):
    """Gradients of :func:`conv_pool_forward` from ∂L/∂out : (N, FN, OH/K, OW/K).

    Returns ``(dx or None, {"W": ..., "b": ...}, dcols)`` where ``dcols`` is ∂L/∂(conv
    output) in tiled column order (:func:`untile` makes it (N, FN, OH, OW)).
    """
    xp = array_module(dout)
    k, row_idx, col_idx, mask = cache.k, cache.row_idx, cache.col_idx, cache.mask
    n, fn, ph, pw = dout.shape
    d = dout.reshape(n, fn, ph * pw)
    tiles = xp.empty((n, fn, k, k, d.shape[2]), dtype=dout.dtype)  # ∂L/∂(conv output), by tile place
    kern = _kernels_for(d, cache.out) if cache.win is not None else None
    if kern is not None:
        def spread(rows):
            """∂L/∂(conv output) of samples ``rows``, just before the convolution's backward reads it."""
            kern.unpool_tiles(d[rows], cache.out[rows], cache.win[rows], cache.relu,
                              tiles[rows].reshape(-1, fn, k * k, d.shape[2]))
    elif cache.win is not None:
        def spread(rows):
            """The compiled path's cache, undone in NumPy (a gradient of another dtype)."""
            o, w = cache.out[rows], cache.win[rows]
            passes = (o > 0) if cache.relu else (o == o)
            blk = tiles[rows].reshape(-1, fn, k * k, d.shape[2])
            for j in range(k * k):
                blk[:, :, j] = xp.where(passes & (w == j), d[rows], 0)
    else:
        def spread(rows):
            """∂L/∂(conv output) of samples ``rows``, just before the convolution's backward reads it."""
            dc = d[rows] if mask is None else d[rows] * mask[rows]
            blk = tiles[rows]
            # down the rows first: tile row di's share goes to its column 0 for now
            spread_to_winners(dc, row_idx[rows], [blk[:, :, di, 0] for di in range(k)])
            for di in range(k):
                share = blk[:, :, di, 0]
                if k > 2:  # the multi-way spread writes its outputs one by one: no aliasing
                    share = share.copy()
                spread_to_winners(share, col_idx[rows][:, :, di], [blk[:, :, di, dj] for dj in range(k)])

    dcols = tiles.reshape(n, fn, k * k * ph * pw)
    (dx,), grads = conv.backward_columns(dcols, cache.conv, need_input, fill=spread)
    return dx, grads, dcols


def untile(cols, cache: ConvPoolCache):
    """Tiled columns (N, FN, OH·OW) of :func:`conv_pool_forward`'s cache order -> (N, FN, OH, OW)."""
    k, oh, ow = cache.k, cache.conv.oh, cache.conv.ow
    n, fn = cols.shape[:2]
    tiled = cols.reshape(n, fn, k, k, oh // k, ow // k)
    return tiled.transpose(0, 1, 4, 2, 5, 3).reshape(n, fn, oh, ow)


def conv_output(cache: ConvPoolCache):
    """The convolution's output (N, FN, OH, OW) from a :func:`conv_pool_forward` cache."""
    return untile(cache.cols, cache)
