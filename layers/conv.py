"""2-D convolution by im2col, as in the book's ``common/layers.py`` (without its flaws).

im2col is a strided *view* of the (padded) input copied once into a matrix, so the
whole convolution is one batched matrix product; col2im loops only over the FH·FW
kernel offsets, adding one strided slice per offset. Nothing loops over samples or pixels.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .base import Op, ParamSpec, ShapeError, array_module, fmt_shape, wants
from .initializers import INIT_CHOICES, initialize
from . import parallel
from .parallel import run_batch
from .registry import register


def size_formula(name: str, axis: str, size: int, kernel: int, stride: int, pad: int, kname: str) -> str:
    """``Conv2D: OH = (H + 2P - FH) / S + 1 = (28 + 0 - 5)/1 + 1`` (without the result)."""
    return (f"{name}: O{axis} = ({axis} + 2P - {kname}) / S + 1 = "
            f"({size} + {2 * pad} - {kernel})/{stride} + 1")


def output_size(name: str, axis: str, size, kernel: int, stride: int, pad: int, kname: str):
    """One spatial output size, ``(I + 2P - F) // S + 1``; raise ``ShapeError`` showing the numbers.

    A fraction is rounded down, as in PyTorch and the book's im2col: the last windows that
    would stick out of the padded input are dropped. Only a result below 1 (the window is
    bigger than the padded input) is an error. ``axis`` is ``"H"`` or ``"W"``; ``kname``
    names the kernel size in the formula (``FH``). Returns ``None`` when ``size`` is unknown.
    """
    if size is None:
        return None
    span = size + 2 * pad - kernel
    if span < 0:
        formula = size_formula(name, axis, size, kernel, stride, pad, kname)
        raise ShapeError(
            f"{formula} = {span / stride + 1:g} < 1: the {kernel}-wide window does not fit in the "
            f"padded input ({size} + {2 * pad} = {size + 2 * pad}); use a smaller kernel or more padding"
        )
    return span // stride + 1


def explain_output_size(name: str, shape: tuple, kernel: int, stride: int, pad: int, knames: tuple) -> list:
    """The filled-in size formulas for an (N, C, H, W) input, e.g. for a shape calculator.

    Returns one line per spatial axis ending in ``= result`` (with the rounding spelled out
    when the division is not exact); raises ``ShapeError`` like ``infer_shape`` when a
    window does not fit.
    """
    lines = []
    for axis, size, k in zip("HW", tuple(shape)[2:], knames):
        if size is not None:
            out = output_size(name, axis, size, kernel, stride, pad, k)
            line = f"{size_formula(name, axis, size, kernel, stride, pad, k)} = {out}"
            span = size + 2 * pad - kernel
            if span % stride:
                line += (f" (rounded down from {span / stride + 1:g}: the last {span % stride} "
                         f"{'row' if axis == 'H' else 'column'}{'s' if span % stride > 1 else ''} "
                         f"of the padded input fit no window)")
            lines.append(line)
    return lines


def check_nchw(name: str, x: tuple) -> tuple:
    """``x`` must be (N, C, H, W); return it as a tuple."""
    x = tuple(x)
    if len(x) != 4:
        raise ShapeError(f"{name}: expects images (N, C, H, W); got {fmt_shape(x)} with {len(x)} axes")
    return x


def pad_hw(x, pad: int, fill=0):
    """x : (N, C, H, W) -> (N, C, H + 2P, W + 2P), a new array with a border of ``fill``."""
    if pad == 0:
        return x
    xp = array_module(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + 2 * pad, w + 2 * pad), fill, dtype=x.dtype)
    out[:, :, pad:pad + h, pad:pad + w] = x
    return out


def window_view(x, kh: int, kw: int, stride: int, oh: int, ow: int, tile: int = 1):
    """x : (N, C, H, W) -> view (N, C, KH, KW, T, T, OH/T, OW/T) of every window, T = ``tile``.

    Output pixel (a·T + di, b·T + dj) is the window at ``[..., di, dj, a, b]``: with T > 1 the
    output pixels come grouped by their place in each T×T tile, so a T×T max-pool after the
    convolution sees T·T contiguous blocks (``layers.fused``). With T = 1 it is the usual
    row-major order. Read-only by convention (entries overlap when S < K).
    """
    xp = array_module(x)
    sn, sc, sh, sw = x.strides
    t = tile
    return xp.lib.stride_tricks.as_strided(
        x, (x.shape[0], x.shape[1], kh, kw, t, t, oh // t, ow // t),
        (sn, sc, sh, sw, sh * stride, sw * stride, sh * stride * t, sw * stride * t),
    )


def im2col_into(col, x, fh: int, fw: int, stride: int, oh: int, ow: int, tile: int = 1, rows=slice(None)):
    """Copy the windows of samples ``rows`` of x : (N, C, H, W), already padded, into
    col : (N, C·FH·FW [+1], OH·OW).

    ``tile`` orders the columns as :func:`window_view` does. A last row beyond C·FH·FW
    (present when ``col`` has one) is set to ones, so a bias can ride along in the matrix
    product (and its gradient falls out of the weight gradient).
    """
    xp = array_module(x)
    n, c = x.shape[:2]
    k = c * fh * fw
    dst = col[:, :k].reshape((n, c, fh, fw, tile, tile, oh // tile, ow // tile))
    xp.copyto(dst[rows], window_view(x, fh, fw, stride, oh, ow, tile)[rows])
    if col.shape[1] > k:
        col[rows, k] = 1


def col2im(dcol, padded_shape: tuple, fh: int, fw: int, stride: int, oh: int, ow: int, tile: int = 1):
    """dcol : (N, C·FH·FW, OH·OW) -> dx : padded_shape (N, C, H + 2P, W + 2P).

    Overlapping windows add up: one strided ``+=`` per kernel offset (FH·FW of them).
    ``tile``: the column order of ``dcol`` (as in :func:`im2col_into`).
    """
    xp = array_module(dcol)
    n, c = padded_shape[:2]
    d = dcol.reshape((n, c, fh, fw, tile, tile, oh // tile, ow // tile))
    dx = xp.zeros(padded_shape, dtype=dcol.dtype)
    for i in range(fh):
        for j in range(fw):
            # the entries of window offset (i, j) never overlap each other
            window_view(dx[:, :, i:, j:], 1, 1, stride, oh, ow, tile)[:, :, 0, 0] += d[:, :, i, j]
    return dx


class ConvCache(NamedTuple):
    """What :meth:`Conv2D.forward_columns` keeps for :meth:`Conv2D.backward_columns`.

    K = C·FH·FW, plus one row of ones when the op has a bias.
    """

    col: Any            # (N, K [+1], OH·OW) im2col matrix, columns in ``tile`` order
    wmat: Any           # (FN, C·FH·FW) the filters as a matrix (without the bias column)
    padded_shape: tuple  # (N, C, H + 2P, W + 2P)
    x_shape: tuple      # (N, C, H, W)
    fh: int             # kernel height FH
    fw: int             # kernel width FW
    oh: int             # output height OH
    ow: int             # output width OW
    tile: int           # column order (1: row-major; T: grouped by T×T tile, see window_view)


@register
class Conv2D(Op):
    """Convolution of a batch of images with FN learnable filters.

    x : (N, C, H, W);  W : (FN, C, FH, FW);  b : (FN,);  out : (N, FN, OH, OW)
    with OH = (H + 2P − FH) / S + 1 and OW = (W + 2P − FW) / S + 1, rounded down.
    """

    type_name = "Conv2D"
    category = "layers"
    learnable = ("W", "b")
    param_spec = (
        ParamSpec("out_channels", "int", 30, "number of filters FN (output channels)", low=1),
        ParamSpec("kernel_size", "int", 5, "filter height and width FH = FW", low=1),
        ParamSpec("stride", "int", 1, "step S between neighbouring windows", low=1),
        ParamSpec("padding", "int", 0, "zeros P added on every border", low=0),
        ParamSpec("init", "choice", "he", "initial filters", choices=INIT_CHOICES),
        ParamSpec("std", "float", 0.01, "standard deviation for init=normal", low=0.0),
        ParamSpec("fill", "float", 0.0, "value of every weight for init=constant"),
        ParamSpec("bias", "bool", True, "add a learnable bias per filter"),
    )
    rule = ("∂L/∂W = ∂L/∂out · im2col(x)ᵀ,  ∂L/∂x = col2im(Wᵀ · ∂L/∂out),  "
            "∂L/∂b = Σ_{N,OH,OW} ∂L/∂out")
    doc = "2-D convolution (im2col + matrix product): FN filters of FH×FW over C channels."

    def check_config(self) -> None:
        self.learnable = ("W", "b") if self.config["bias"] else ("W",)

    def _out_hw(self, h, w):
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        return (output_size("Conv2D", "H", h, k, s, p, "FH"), output_size("Conv2D", "W", w, k, s, p, "FW"))

    def explain_shape(self, x) -> list:
        """The output-size formulas with this input's numbers filled in (one line per axis)."""
        k, s, p = self.config["kernel_size"], self.config["stride"], self.config["padding"]
        return explain_output_size("Conv2D", check_nchw("Conv2D", x), k, s, p, ("FH", "FW"))

    def infer_shape(self, x):
        n, c, h, w = check_nchw("Conv2D", x)
        if c is None:
            raise ShapeError("Conv2D: the channel count C of the input (N, C, H, W) must be known to size W")
        return (n, self.config["out_channels"]) + self._out_hw(h, w)

    def param_shapes(self, x):
        c = check_nchw("Conv2D", x)[1]
        k, fn = self.config["kernel_size"], self.config["out_channels"]
        shapes = {"W": (fn, c, k, k)}
        if self.config["bias"]:
            shapes["b"] = (fn,)
        return shapes

    def init_params(self, shapes, rng):
        sizes = dict(shapes) if isinstance(shapes, dict) else self.param_shapes(*shapes)
        fn, c, fh, fw = sizes["W"]
        out = {"W": initialize(self.config["init"], (fn, c, fh, fw), c * fh * fw, rng, std=self.config["std"],
                               fill=self.config["fill"])}
        if self.config["bias"]:
            out["b"] = np.zeros((fn,))
        return out

    def _check_weight(self, x_shape, w_shape):
        k, fn = self.config["kernel_size"], self.config["out_channels"]
        if len(x_shape) != 4:
            raise ShapeError(f"Conv2D: expects images (N, C, H, W); got {fmt_shape(x_shape)}")
        if w_shape[1] != x_shape[1]:
            raise ShapeError(
                f"Conv2D: the input {fmt_shape(x_shape)} has C = {x_shape[1]} channels but the filters "
                f"W {fmt_shape(w_shape)} expect C = {w_shape[1]}"
            )
        if tuple(w_shape) != (fn, x_shape[1], k, k):
            raise ShapeError(
                f"Conv2D: W {fmt_shape(w_shape)} does not match out_channels = {fn}, kernel_size = {k}: "
                f"expected {fmt_shape((fn, x_shape[1], k, k))}"
            )

    def forward(self, inputs, params, train, rng=None):
        (x,) = inputs
        out, cache = self.forward_columns(x, params)
        n, fn = out.shape[:2]
        return out.reshape(n, fn, cache.oh, cache.ow), cache

    def forward_columns(self, x, params, tile: int = 1, then=None):
        """The convolution with its output as columns: x : (N, C, H, W) -> (N, FN, OH·OW).

        ``tile`` orders the columns as :func:`window_view` does (OH and OW must be
        multiples of it). Big NumPy batches run as two halves on two threads, each in
        groups of samples (``parallel.sub_slices``: im2col copy, then their matrix
        products). ``then(out, rows)``, if given, is called right after each group of
        samples ``rows`` (a slice) has its output, on the same thread. Returns
        ``(out, cache)``, the cache a :class:`ConvCache` for :meth:`backward_columns`.
        """
        xp = array_module(x)
        w = params["W"]
        self._check_weight(x.shape, w.shape)
        s, p = self.config["stride"], self.config["padding"]
        n, _, h, wd = x.shape
        fn, c, fh, fw = w.shape
        oh, ow = self._out_hw(h, wd)
        xpad = pad_hw(x, p)
        bias = self.config["bias"]
        wmat = w.reshape(fn, c * fh * fw)
        wcol = xp.concatenate([wmat, params["b"].reshape(fn, 1)], axis=1) if bias else wmat
        col = xp.empty((n, wcol.shape[1], oh * ow), dtype=x.dtype)
        out = xp.empty((n, fn, oh * ow), dtype=xp.result_type(wcol, col))
        per_item = (col[0].nbytes + out[0].nbytes) if n else 1

        def part(chunk):
            for rows in parallel.sub_slices(out, chunk, per_item):
                im2col_into(col, xpad, fh, fw, s, oh, ow, tile, rows)
                # (FN, K) @ (K, OH·OW) per sample: already NCHW; a batch of small products
                # beats one big (K, N·OH·OW) product here (OpenBLAS's small-matrix kernels)
                xp.matmul(wcol, col[rows], out=out[rows])
                if then is not None:
                    then(out, rows)

        run_batch(part, out)  # every sample's product is the same BLAS call on any split
        return out, ConvCache(col, wmat, xpad.shape, x.shape, fh, fw, oh, ow, tile)

    def backward(self, dout, cache, need_inputs=True):
        n, fn, oh, ow = dout.shape
        return self.backward_columns(dout.reshape(n, fn, oh * ow), cache, wants(need_inputs, 0))

    def backward_columns(self, d3, cache, need_input: bool = True, fill=None):
        """Gradients from ∂L/∂out as columns d3 : (N, FN, OH·OW), in the cache's column order.

        A few samples at a time, like :meth:`forward_columns`; ``fill(rows)``, if given,
        writes ``d3[rows]`` just before they are used. Returns ``([dx or None], {"W": ...,
        "b": ...})``.
        """
        col, wmat, padded_shape, x_shape = cache.col, cache.wmat, cache.padded_shape, cache.x_shape
        fh, fw, oh, ow, tile = cache.fh, cache.fw, cache.oh, cache.ow, cache.tile
        xp = array_module(d3)
        n, fn = d3.shape[:2]
        # Σ_n dout_n · col_nᵀ: per-sample products, then one sum on this thread (the same
        # sum whatever the split)
        per_sample = xp.empty((n, fn, col.shape[1]), dtype=xp.result_type(d3, col))
        dcol = xp.empty((n, wmat.shape[1], oh * ow), dtype=per_sample.dtype) if need_input else None
        wmat_t = wmat.T
        per_item = (d3[0].nbytes + col[0].nbytes + (dcol[0].nbytes if need_input else 0)) if n else 1

        def part(chunk):
            for rows in parallel.sub_slices(d3, chunk, per_item):
                if fill is not None:
                    fill(rows)
                xp.matmul(d3[rows], col[rows].transpose(0, 2, 1), out=per_sample[rows])
                if need_input:  # (K, FN) @ (FN, OH·OW) per sample
                    xp.matmul(wmat_t, d3[rows], out=dcol[rows])

        run_batch(part, d3, size=per_sample.size * oh * ow)
        dwcol = per_sample.sum(axis=0)
        k = wmat.shape[1]
        grads = {"W": dwcol[:, :k].reshape(fn, padded_shape[1], fh, fw)}
        if self.config["bias"]:
            grads["b"] = xp.ascontiguousarray(dwcol[:, k])
        dx = None
        if need_input:
            dxp = col2im(dcol, padded_shape, fh, fw, self.config["stride"], oh, ow, tile)
            p = self.config["padding"]
            h, w = x_shape[2:]
            dx = dxp if p == 0 else xp.ascontiguousarray(dxp[:, :, p:p + h, p:p + w])
        return [dx], grads
