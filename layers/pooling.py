"""Pooling: MaxPool2D, AvgPool2D and GlobalAvgPool.

Windows are visited one kernel offset at a time (KH·KW strided views), never per sample
or pixel. Max-pool sends each window's gradient to its *first* maximum in row-major
order, as PyTorch does, so ties are deterministic. When the stride equals the kernel and
there is no padding the windows tile the image exactly, and a reshape splits the rows and
columns so the maximum is found separably (first along each row, then down the rows).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from .base import Op, ParamError, ParamSpec, array_module, batch_slices
from .conv import check_nchw, explain_output_size, output_size, pad_hw
from .parallel import run_batch
from .registry import register


def first_max(views, xp, best=None, idx=None):
    """Running maximum over ``views`` (a list of equal-shape arrays), keeping the first winner.

    Returns ``(best, idx)``: the maximum and, per entry, which view attains it first.
    A later view wins only if it is *strictly* greater. With two views ``idx`` is a
    bool array (True: the second view), otherwise integer view numbers. ``best`` and
    ``idx`` may be given as output arrays of the right shape and dtype.
    """
    shape = views[0].shape
    if len(views) == 1:
        if best is None:
            best = views[0].copy()
        else:
            best[...] = views[0]
        if idx is None:
            idx = xp.zeros(shape, dtype=bool)
        else:
            idx[...] = False
        return best, idx
    if len(views) == 2:
        idx = xp.greater(views[1], views[0], out=idx)
        best = xp.maximum(views[0], views[1], out=best)
        return best, idx
    if idx is None:
        idx = xp.empty(shape, dtype=index_dtype(len(views), xp))
    xp.greater(views[1], views[0], out=idx)
    best = xp.maximum(views[0], views[1], out=best)
    for j in range(2, len(views)):
        gt = views[j] > best
        xp.maximum(best, views[j], out=best)
        # idx <- j where gt, by arithmetic: np.where/copyto branch on random masks
        idx += gt * (idx.dtype.type(j) - idx)
    return best, idx


def index_dtype(count: int, xp):
    """dtype of :func:`first_max`'s winner index for ``count`` views."""
    return bool if count <= 2 else (xp.uint8 if count <= 256 else xp.int32)


def spread_to_winners(dout, idx, outs):
    """``outs[j]`` <- ``dout`` where view ``j`` won (``idx`` from :func:`first_max`) else 0.

    Writes every element of every ``outs[j]`` (views into a fresh gradient array).
    """
    xp = array_module(dout)
    if len(outs) == 1:
        outs[0][...] = dout
    elif idx.dtype == bool:
        # two candidates: the second gets dout·idx and the first the exact remainder
        xp.multiply(dout, idx, out=outs[1])
        xp.subtract(dout, outs[1], out=outs[0])
    else:
        for j, out in enumerate(outs):
            xp.multiply(dout, idx == j, out=out)


class MaxPoolTilesCache(NamedTuple):
    """MaxPool2D's cache when the windows tile the input (stride = kernel K, no padding)."""

    x_shape: tuple      # (N, C, H, W)
    row_idx: Any        # (N, C, OH, OW) which of the K window rows holds the first maximum
    col_idx: Any        # (N, C, H, OW) per input row, which of the K columns holds its first maximum


class MaxPoolWindowsCache(NamedTuple):
    """MaxPool2D's cache in the general case (any stride and padding)."""

    padded_shape: tuple  # (N, C, H + 2P, W + 2P)
    idx: Any            # (N, C, OH, OW) which of the K·K window offsets (row-major) wins first
    x_shape: tuple      # (N, C, H, W)


class AvgPoolCache(NamedTuple):
    """AvgPool2D's cache: only shapes (the gradient does not depend on x)."""

    padded_shape: tuple  # (N, C, H + 2P, W + 2P)
    x_shape: tuple      # (N, C, H, W)


class _Pool2D(Op):
    category = "layers"
    param_spec = (
        ParamSpec("kernel_size", "int", 2, "window height and width K", low=1),
        ParamSpec("stride", "int", 2, "step S between neighbouring windows", low=1),
        ParamSpec("padding", "int", 0, "border P added on every side (at most K / 2)", low=0),
    )

    def check_config(self) -> None:
        k, p = self.config["kernel_size"], self.config["padding"]
        if 2 * p > k:
            raise ParamError(
                f"{self.type_name}: padding must be at most half the kernel size "
                f"(P = {p}, K = {k}); otherwise some windows would see only padding"
            )

    def _out_hw(self, h, w):
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        return (output_size(self.type_name, "H", h, k, s, p, "K"),
                output_size(self.type_name, "W", w, k, s, p, "K"))

    def infer_shape(self, x):
        n, c, h, w = check_nchw(self.type_name, x)
        return (n, c) + self._out_hw(h, w)

    def explain_shape(self, x) -> list:
        """The output-size formulas with this input's numbers filled in (one line per axis)."""
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        return explain_output_size(self.type_name, check_nchw(self.type_name, x), k, s, p, ("K", "K"))

    def _tiles(self, h: int, w: int) -> bool:
        """Windows tile the input exactly (stride = kernel, no padding, no leftover rows or
        columns): the reshape path."""
        k = self.config["kernel_size"]
        return self.config["stride"] == k and self.config["padding"] == 0 and h % k == 0 and w % k == 0

    def _windows(self, xpad, oh, ow):
        """One strided view (N, C, OH, OW) per kernel offset, in row-major order."""
        k, s = self.config["kernel_size"], self.config["stride"]
        return [xpad[:, :, i:i + s * oh:s, j:j + s * ow:s] for i in range(k) for j in range(k)]


@register
class MaxPool2D(_Pool2D):
    """out = the maximum of each K×K window.

    x : (N, C, H, W);  out : (N, C, OH, OW) with OH = (H + 2P − K) / S + 1 (rounded down).
    Padding counts as −∞, so it never wins. The cache is a :class:`MaxPoolTilesCache` or a
    :class:`MaxPoolWindowsCache`.
    """

    type_name = "MaxPool2D"
    rule = "∂L/∂x = ∂L/∂out at the (first) maximum of each window, 0 elsewhere"
    doc = "Max pooling: keeps each window's largest value; the gradient goes back to that one entry."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        self.infer_shape(x.shape)
        xp = array_module(x)
        n, c, h, w = x.shape
        k = self.config["kernel_size"]
        oh, ow = self._out_hw(h, w)
        if self._tiles(h, w):
            # along each row first (KW columns), then down the rows (KH rows): the
            # first maximum of the first row holding the window's maximum is the
            # row-major first maximum. A few samples at a time, so the intermediate
            # row maxima are still in cache for the second pass.
            out = xp.empty((n, c, oh, ow), dtype=x.dtype)
            row_idx = xp.empty((n, c, oh, ow), dtype=index_dtype(k, xp))
            col_idx = xp.empty((n, c, h, ow), dtype=index_dtype(k, xp))
            def part(chunk):
                xc, oc, ric, cic = x[chunk], out[chunk], row_idx[chunk], col_idx[chunk]
                for sl in batch_slices(xc):
                    rows = xc[sl].reshape(-1, c, h, ow, k)
                    row_best, _ = first_max([rows[..., j] for j in range(k)], xp, idx=cic[sl])
                    cols = row_best.reshape(-1, c, oh, k, ow)
                    first_max([cols[:, :, :, i] for i in range(k)], xp, best=oc[sl], idx=ric[sl])

            run_batch(part, x)  # two threads on a big NumPy batch: per-window, so bit-identical
            return out, MaxPoolTilesCache(x.shape, row_idx, col_idx)
        xpad = pad_hw(x, self.config["padding"], fill=-xp.inf)
        out, idx = first_max(self._windows(xpad, oh, ow), xp)
        return out, MaxPoolWindowsCache(xpad.shape, idx, x.shape)

    def backward(self, dout, cache, need_inputs=True):
        xp = array_module(dout)
        k = self.config["kernel_size"]
        if isinstance(cache, MaxPoolTilesCache):
            (n, c, h, w), row_idx, col_idx = cache.x_shape, cache.row_idx, cache.col_idx
            oh, ow = dout.shape[2:]
            dx = xp.empty((n, c, h, ow, k), dtype=dout.dtype)

            def part(chunk):
                dxc, dc, ric, cic = dx[chunk], dout[chunk], row_idx[chunk], col_idx[chunk]
                for sl in batch_slices(dxc):
                    d = dc[sl]
                    drow = xp.empty((d.shape[0], c, oh, k, ow), dtype=dout.dtype)
                    spread_to_winners(d, ric[sl], [drow[:, :, :, i] for i in range(k)])
                    drow = drow.reshape(-1, c, h, ow)
                    dxs = dxc[sl]
                    spread_to_winners(drow, cic[sl], [dxs[..., j] for j in range(k)])

            run_batch(part, dx)
            return [dx.reshape(n, c, h, w)], {}
        padded_shape, idx, x_shape = cache.padded_shape, cache.idx, cache.x_shape
        dxp = xp.zeros(padded_shape, dtype=dout.dtype)
        shares = xp.empty((k * k,) + dout.shape, dtype=dout.dtype)
        spread_to_winners(dout, idx, list(shares))
        for share, view in zip(shares, self._windows(dxp, *dout.shape[2:])):
            view += share
        return [_crop(dxp, self.config["padding"], x_shape)], {}


@register
class AvgPool2D(_Pool2D):
    """out = the mean of each K×K window (padding counts as zeros, divisor K·K).

    x : (N, C, H, W);  out : (N, C, OH, OW) with OH = (H + 2P − K) / S + 1 (rounded down).
    The cache is an :class:`AvgPoolCache`.
    """

    type_name = "AvgPool2D"
    rule = "∂L/∂x = ∂L/∂out / (K·K) spread evenly over each window"
    doc = "Average pooling: each window's mean; the gradient is shared equally by its K×K entries."

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        self.infer_shape(x.shape)
        k = self.config["kernel_size"]
        oh, ow = self._out_hw(*x.shape[2:])
        xpad = pad_hw(x, self.config["padding"])
        views = self._windows(xpad, oh, ow)
        out = views[0].copy()
        for view in views[1:]:
            out += view
        out *= x.dtype.type(1 / (k * k))
        return out, AvgPoolCache(xpad.shape, x.shape)

    def backward(self, dout, cache, need_inputs=True):
        padded_shape, x_shape = cache.padded_shape, cache.x_shape
        xp = array_module(dout)
        k = self.config["kernel_size"]
        share = dout * dout.dtype.type(1 / (k * k))
        if self._tiles(*padded_shape[2:]):
            # every input entry sits in exactly one window: plain assignment
            dx = xp.empty(padded_shape, dtype=dout.dtype)
            for view in self._windows(dx, *dout.shape[2:]):
                view[...] = share
            return [dx], {}
        dxp = xp.zeros(padded_shape, dtype=dout.dtype)
        for view in self._windows(dxp, *dout.shape[2:]):
            view += share
        return [_crop(dxp, self.config["padding"], x_shape)], {}


@register
class GlobalAvgPool(Op):
    """out = the mean of each channel's whole feature map.

    x : (N, C, H, W);  out : (N, C). The cache is x's shape (N, C, H, W).
    """

    type_name = "GlobalAvgPool"
    category = "layers"
    rule = "∂L/∂x = ∂L/∂out / (H·W) spread over the whole map"
    doc = "Averages each channel over its H×W map: (N, C, H, W) → (N, C), a parameter-free head."

    def infer_shape(self, x):
        n, c, _, _ = check_nchw("GlobalAvgPool", x)
        return (n, c)

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        self.infer_shape(x.shape)
        n, c = x.shape[:2]
        return x.reshape(n, c, -1).mean(axis=2), x.shape

    def backward(self, dout, cache, need_inputs=True):
        shape = cache
        xp = array_module(dout)
        dx = xp.empty(shape, dtype=dout.dtype)
        dx[...] = (dout * dout.dtype.type(1 / (shape[2] * shape[3])))[:, :, None, None]
        return [dx], {}


def _crop(dxp, pad: int, x_shape):
    """Drop the padding border from a gradient (N, C, H + 2P, W + 2P) -> (N, C, H, W)."""
    if pad == 0:
        return dxp
    h, w = x_shape[2:]
    return array_module(dxp).ascontiguousarray(dxp[:, :, pad:pad + h, pad:pad + w])

