"""im2col for one sample of a Conv2D, Qt-free (the GUI's CNN-Explainer-style view draws it).

The column matrix is built by the layer's own :func:`layers.conv.im2col_into`, so what is
shown is what the engine multiplies. Rows here are output pixels (the book's layout,
``col`` of shape (OH·OW, C·FH·FW)); a filter is flattened into one column of C·FH·FW
weights, and ``row · filter + b`` is the output entry.

::

    v = Im2colView(x[0], W, b, stride=1, pad=0)      # x[0] : (C, H, W), W : (FN, C, FH, FW)
    r = v.row_of(oh=3, ow=5)                         # 3·OW + 5
    v.field(r)                                       # (top, left, FH, FW) in the padded input
    v.entry(r, fn=0)                                 # row · filter + b == conv output[0, 0, 3, 5]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layers.conv import im2col_into, output_size, pad_hw


class Im2colError(ValueError):
    """The node cannot be shown (no forward value yet, or not a Conv2D)."""


@dataclass
class Entry:
    """One output entry as a dot product: ``value = row · filter + bias``."""

    row_index: int
    oh: int
    ow: int
    fn: int
    row: np.ndarray       # (C·FH·FW,) the receptive field, flattened
    filter: np.ndarray    # (C·FH·FW,) filter fn, flattened
    bias: float
    value: float

    def formula(self, terms: int = 3) -> str:
        """``out[fn, oh, ow] = Σ_k row_k · w_k + b = 0.9·0.31 + … + b = value``, showing the
        ``terms`` largest products (most of a digit's field is 0)."""
        top = np.argsort(-np.abs(self.row * self.filter), kind="stable")[:terms]
        shown = " + ".join(f"{self.row[k]:.3g}·{self.filter[k]:.3g}" for k in sorted(top))
        more = f" + … ({self.row.size - len(top)} smaller products)" if self.row.size > len(top) else ""
        return (f"out[{self.fn}, {self.oh}, {self.ow}] = Σ row·filter + b = {shown}{more} + {self.bias:.3g} "
                f"= {self.value:.6g}")


class Im2colView:
    """The column matrix of one sample x : (C, H, W) for filters W : (FN, C, FH, FW), b : (FN,)."""

    def __init__(self, x, weights, bias=None, stride: int = 1, pad: int = 0) -> None:
        x = np.asarray(x, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if x.ndim != 3 or w.ndim != 4 or w.shape[1] != x.shape[0]:
            raise Im2colError(f"im2col needs one sample (C, H, W) and filters (FN, C, FH, FW) with the same C; "
                              f"got {x.shape} and {w.shape}")
        self.x, self.weights = x, w
        self.bias = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
        self.stride, self.pad = int(stride), int(pad)
        fn, c, fh, fw = w.shape
        self.fh, self.fw = fh, fw
        h, wd = x.shape[1:]
        self.oh = output_size("Conv2D", "H", h, fh, self.stride, self.pad, "FH")
        self.ow = output_size("Conv2D", "W", wd, fw, self.stride, self.pad, "FW")
        self.padded = pad_hw(x[None], self.pad)[0]
        col = np.empty((1, c * fh * fw, self.oh * self.ow))
        im2col_into(col, self.padded[None], fh, fw, self.stride, self.oh, self.ow)
        self.col = col[0].T.copy()        # (OH·OW, C·FH·FW): one row per output pixel

    @classmethod
    def from_engine(cls, engine, node_id: str, sample: int = 0) -> "Im2colView":
        """The view of a Conv2D node after a forward pass of ``engine``."""
        g = engine.graph
        node = g.node(node_id)
        if node.type != "Conv2D":
            raise Im2colError(f"{node_id} is a {node.type}; im2col is shown for Conv2D nodes")
        src = g.inputs_of(node_id)[0]
        try:
            x = engine.value(src)
        except Exception as exc:  # noqa: BLE001 - any missing value means "run forward first"
            raise Im2colError(f"run a forward pass first ({exc})") from None
        if x is None or np.ndim(x) != 4:
            raise Im2colError("run a forward pass first: the Conv2D's input has no value yet")
        sample = min(max(int(sample), 0), x.shape[0] - 1)
        b = engine.param(node_id, "b") if node.params.get("bias", True) else None
        return cls(x[sample], engine.param(node_id, "W"), b, node.params["stride"], node.params["padding"])

    @property
    def filters(self) -> int:
        return self.weights.shape[0]

    def row_of(self, oh: int, ow: int) -> int:
        """The column-matrix row of output pixel (oh, ow)."""
        return int(oh) * self.ow + int(ow)

    def pixel_of(self, row: int) -> tuple[int, int]:
        """The output pixel (oh, ow) of a column-matrix row."""
        return divmod(int(row), self.ow)

    def field(self, row: int) -> tuple[int, int, int, int]:
        """The receptive field of ``row`` as (top, left, FH, FW) in padded-input coordinates."""
        oh, ow = self.pixel_of(row)
        return oh * self.stride, ow * self.stride, self.fh, self.fw

    def filter_column(self, fn: int) -> np.ndarray:
        """Filter ``fn`` flattened to (C·FH·FW,), in the order of the matrix's columns."""
        return self.weights[int(fn)].reshape(-1)

    def output(self, fn: int) -> np.ndarray:
        """Output map of filter ``fn``, (OH, OW) = col @ filter + b."""
        return (self.col @ self.filter_column(fn) + self.bias[int(fn)]).reshape(self.oh, self.ow)

    def entry(self, row: int, fn: int) -> Entry:
        """The highlighted row times the filter column plus the bias."""
        r = self.col[int(row)]
        f = self.filter_column(fn)
        oh, ow = self.pixel_of(row)
        return Entry(int(row), oh, ow, int(fn), r, f, float(self.bias[int(fn)]), float(r @ f + self.bias[int(fn)]))
