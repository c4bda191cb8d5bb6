"""Headless PNG plots for lab results: a small NumPy rasteriser and a PNG writer (zlib + struct).

``graph/`` never imports Qt, and the app's pyqtgraph exporters need a running Qt, so the
CLI's ``lab --out DIR`` draws its figures here: line charts, filled contour maps with
paths, scatter plots and grids of small panels, with a built-in 3×5 pixel font (text is
upper-cased). The GUI exports its own live plots through pyqtgraph instead.

A figure is plain data (see :func:`render`)::

    {"kind": "lines", "title": "...", "xlabel": "...", "ylabel": "...", "logy": False,
     "series": [{"label": "sgd", "x": [...], "y": [...]}]}
    {"kind": "contour", "title": ..., "x": [...], "y": [...], "f": [[...]], "log": True,
     "paths": {"sgd": [[x, y], ...]}}
    {"kind": "scatter", "title": ..., "x": [...], "y": [...], "c": [...], "logx": True, "logy": True}
    {"kind": "hist", "title": ..., "counts": [...], "edges": [...]}
    {"kind": "grid", "title": ..., "panels": [[figure, ...], ...], "panel_size": [w, h]}
"""
from __future__ import annotations

import math
import struct
import zlib

import numpy as np

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]

# 3×5 glyphs, rows top to bottom, "#" = ink
_GLYPHS = {
    "0": "###|#.#|#.#|#.#|###", "1": ".#.|##.|.#.|.#.|###", "2": "###|..#|###|#..|###", "3": "###|..#|.##|..#|###",
    "4": "#.#|#.#|###|..#|..#", "5": "###|#..|###|..#|###", "6": "###|#..|###|#.#|###", "7": "###|..#|.#.|.#.|.#.",
    "8": "###|#.#|###|#.#|###", "9": "###|#.#|###|..#|###", "A": ".#.|#.#|###|#.#|#.#", "B": "##.|#.#|##.|#.#|##.",
    "C": ".##|#..|#..|#..|.##", "D": "##.|#.#|#.#|#.#|##.", "E": "###|#..|##.|#..|###", "F": "###|#..|##.|#..|#..",
    "G": ".##|#..|#.#|#.#|.##", "H": "#.#|#.#|###|#.#|#.#", "I": "###|.#.|.#.|.#.|###", "J": "..#|..#|..#|#.#|.#.",
    "K": "#.#|#.#|##.|#.#|#.#", "L": "#..|#..|#..|#..|###", "M": "#.#|###|###|#.#|#.#", "N": "##.|#.#|#.#|#.#|#.#",
    "O": ".#.|#.#|#.#|#.#|.#.", "P": "##.|#.#|##.|#..|#..", "Q": ".#.|#.#|#.#|##.|.##", "R": "##.|#.#|##.|#.#|#.#",
    "S": ".##|#..|.#.|..#|##.", "T": "###|.#.|.#.|.#.|.#.", "U": "#.#|#.#|#.#|#.#|###", "V": "#.#|#.#|#.#|#.#|.#.",
    "W": "#.#|#.#|###|###|#.#", "X": "#.#|#.#|.#.|#.#|#.#", "Y": "#.#|#.#|.#.|.#.|.#.", "Z": "###|..#|.#.|#..|###",
    ".": "...|...|...|...|.#.", ",": "...|...|...|.#.|#..", "-": "...|...|###|...|...", "+": "...|.#.|###|.#.|...",
    "=": "...|###|...|###|...", "(": ".#.|#..|#..|#..|.#.", ")": ".#.|..#|..#|..#|.#.", ":": "...|.#.|...|.#.|...",
    "/": "..#|..#|.#.|#..|#..", "%": "#.#|..#|.#.|#..|#.#", "_": "...|...|...|...|###", "^": ".#.|#.#|...|...|...",
    "*": "...|#.#|.#.|#.#|...", "<": "..#|.#.|#..|.#.|..#", ">": "#..|.#.|..#|.#.|#..", "'": ".#.|.#.|...|...|...",
    "[": "##.|#..|#..|#..|##.", "]": ".##|..#|..#|..#|.##", "#": "#.#|###|#.#|###|#.#", "?": "###|..#|.#.|...|.#.",
    " ": "...|...|...|...|...",
}
_FONT = {ch: np.array([[c == "#" for c in row] for row in g.split("|")], dtype=bool) for ch, g in _GLYPHS.items()}
_ASCII = {"λ": "L", "²": "2", "³": "3", "×": "X", "−": "-", "→": ">", "≈": "=", "·": ".", "–": "-"}


class Canvas:
    """An RGB image (H, W, 3) uint8 with the few drawing operations the plots need."""

    def __init__(self, width: int, height: int, background=(255, 255, 255)) -> None:
        self.img = np.empty((height, width, 3), dtype=np.uint8)
        self.img[:] = background
        self.w, self.h = width, height

    def fill(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        x0, x1 = sorted((max(0, int(x0)), min(self.w, int(x1))))
        y0, y1 = sorted((max(0, int(y0)), min(self.h, int(y1))))
        self.img[y0:y1, x0:x1] = color

    def box(self, x0, y0, x1, y1, color) -> None:
        self.fill(x0, y0, x1 + 1, y0 + 1, color)
        self.fill(x0, y1, x1 + 1, y1 + 1, color)
        self.fill(x0, y0, x0 + 1, y1 + 1, color)
        self.fill(x1, y0, x1 + 1, y1 + 1, color)

    def line(self, x0: float, y0: float, x1: float, y1: float, color, width: int = 1, clip=None) -> None:
        """A straight segment, sampled densely (no gaps at any slope); ``clip`` = (x0, y0, x1, y1)."""
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 2
        if not all(map(math.isfinite, (x0, y0, x1, y1))) or n > 20000:
            return
        xs = np.rint(np.linspace(x0, x1, n)).astype(int)
        ys = np.rint(np.linspace(y0, y1, n)).astype(int)
        cx0, cy0, cx1, cy1 = clip or (0, 0, self.w - 1, self.h - 1)
        for dx in range(width):
            for dy in range(width):
                px, py = xs + dx - width // 2, ys + dy - width // 2
                ok = (px >= cx0) & (px <= cx1) & (py >= cy0) & (py <= cy1)
                self.img[py[ok], px[ok]] = color

    def dot(self, x: float, y: float, color, r: int = 2) -> None:
        if math.isfinite(x) and math.isfinite(y):
            self.fill(x - r, y - r, x + r + 1, y + r + 1, color)

    def text(self, x: int, y: int, text: str, color=(0, 0, 0), scale: int = 2, anchor: str = "left") -> int:
        """Draw ``text``; returns its width in pixels. ``anchor`` left | center | right."""
        chars = [_ASCII.get(c, c).upper() for c in str(text)]
        chars = [c if c in _FONT else "?" for c in "".join(chars)]
        width = len(chars) * 4 * scale
        if anchor == "center":
            x -= width // 2
        elif anchor == "right":
            x -= width
        for i, ch in enumerate(chars):
            glyph = np.kron(_FONT[ch], np.ones((scale, scale), dtype=bool))
            gx, gy = int(x + i * 4 * scale), int(y)
            h, w = glyph.shape
            sub = self.img[max(gy, 0):gy + h, max(gx, 0):gx + w]
            mask = glyph[max(-gy, 0):max(-gy, 0) + sub.shape[0], max(-gx, 0):max(-gx, 0) + sub.shape[1]]
            sub[mask] = color
        return width

    def paste(self, other: "Canvas", x: int, y: int) -> None:
        h, w = min(other.h, self.h - y), min(other.w, self.w - x)
        self.img[y:y + h, x:x + w] = other.img[:h, :w]


def png_bytes(img: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 array as a PNG file."""
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def write_png(path, figure: dict, size=(900, 600)) -> None:
    """Render ``figure`` and write it to ``path``."""
    with open(path, "wb") as fh:
        fh.write(png_bytes(render(figure, size)))


# -- axes ---------------------------------------------------------------------------------
def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=mag * 10)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def _fmt_tick(v: float, log: bool) -> str:
    if log:
        return f"1E{int(round(v))}"
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:.4g}"


class _Axes:
    """Maps data to pixels inside a panel and draws the frame, ticks and labels."""

    def __init__(self, c: Canvas, x0, y0, x1, y1, xlim, ylim, logx=False, logy=False) -> None:
        self.c, self.logx, self.logy = c, logx, logy
        self.px0, self.py0, self.px1, self.py1 = x0, y0, x1, y1
        self.xlim, self.ylim = _pad(xlim), _pad(ylim)

    def tx(self, x):
        x = np.log10(np.maximum(x, 1e-300)) if self.logx else np.asarray(x, dtype=np.float64)
        return self.px0 + (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (self.px1 - self.px0)

    def ty(self, y):
        y = np.log10(np.maximum(y, 1e-300)) if self.logy else np.asarray(y, dtype=np.float64)
        return self.py1 - (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (self.py1 - self.py0)

    def frame(self, xlabel: str = "", ylabel: str = "", scale: int = 2) -> None:
        c = self.c
        grey, ink = (225, 225, 225), (60, 60, 60)
        for t in _ticks(*self.xlim):
            px = self.px0 + (t - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (self.px1 - self.px0)
            c.line(px, self.py0, px, self.py1, grey)
            c.text(int(px), self.py1 + 4, _fmt_tick(t, self.logx), ink, scale=max(scale - 1, 1) if scale > 2 else scale,
                   anchor="center")
        for t in _ticks(*self.ylim):
            py = self.py1 - (t - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (self.py1 - self.py0)
            c.line(self.px0, py, self.px1, py, grey)
            c.text(self.px0 - 4, int(py) - 2 * scale, _fmt_tick(t, self.logy), ink, scale=scale, anchor="right")
        c.box(self.px0, self.py0, self.px1, self.py1, ink)
        if xlabel:
            c.text((self.px0 + self.px1) // 2, self.py1 + 8 + 6 * scale, xlabel, ink, scale=scale, anchor="center")
        if ylabel:
            c.text(self.px0, self.py0 - 7 * scale, ylabel, ink, scale=scale)

    @property
    def clip(self):
        return (self.px0 + 1, self.py0 + 1, self.px1 - 1, self.py1 - 1)

    def polyline(self, xs, ys, color, width: int = 1) -> None:
        px, py = self.tx(np.asarray(xs, dtype=np.float64)), self.ty(np.asarray(ys, dtype=np.float64))
        for i in range(min(len(px), len(py)) - 1):
            self.c.line(px[i], py[i], px[i + 1], py[i + 1], color, width, self.clip)


def _pad(lim):
    lo, hi = float(lim[0]), float(lim[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return (0.0, 1.0)
    if hi <= lo:
        return (lo - 0.5, hi + 0.5)
    return (lo, hi)


def _finite(values, log: bool):
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return v[v > 0] if log else v


def _limits(arrays, log: bool, margin: float = 0.03):
    vals = np.concatenate([_finite(a, log) for a in arrays] or [np.zeros(0)])
    if vals.size == 0:
        return (0.0, 1.0)
    if log:
        vals = np.log10(vals)
    lo, hi = float(vals.min()), float(vals.max())
    span = hi - lo or 1.0
    return (lo - margin * span, hi + margin * span)


# -- figures --------------------------------------------------------------------------------
def render(fig: dict, size=(900, 600), scale: int = 2) -> np.ndarray:
    """An (H, W, 3) uint8 image of ``fig`` (see the module docs for the figure kinds)."""
    c = Canvas(*size)
    _draw(c, fig, 0, 0, size[0], size[1], scale)
    return c.img


def _draw(c: Canvas, fig: dict, x: int, y: int, w: int, h: int, scale: int) -> None:
    kind = fig.get("kind", "lines")
    if kind == "grid":
        _grid(c, fig, x, y, w, h, scale)
        return
    title_h = 10 * scale if fig.get("title") else 2 * scale
    if fig.get("title"):
        c.text(x + w // 2, y + 3 * scale, fig["title"], (0, 0, 0), scale, anchor="center")
    left, bottom = x + 14 * 4 * scale // 2 + 12 * scale, y + h - 18 * scale
    right = x + w - (5 if kind != "lines" or not fig.get("series") else 5) * scale
    top = y + title_h + 8 * scale
    {"lines": _lines, "contour": _contour, "scatter": _scatter, "hist": _hist}[kind](
        c, fig, left, top, right, bottom, scale)


def _lines(c, fig, x0, y0, x1, y1, scale):
    series = fig.get("series", [])
    logy, logx = bool(fig.get("logy")), bool(fig.get("logx"))
    xlim = fig.get("xlim") or _limits([s["x"] for s in series], logx, 0.0)
    ylim = fig.get("ylim") or _limits([s["y"] for s in series], logy)
    ax = _Axes(c, x0, y0, x1, y1, xlim, ylim, logx, logy)
    ax.frame(fig.get("xlabel", ""), fig.get("ylabel", ""), scale)
    for i, s in enumerate(series):
        ax.polyline(s["x"], s["y"], tuple(s.get("color") or PALETTE[i % len(PALETTE)]), s.get("width", 2))
    _legend(c, [s.get("label", "") for s in series], x1 - 4 * scale, y0 + 4 * scale, scale,
            [tuple(s.get("color") or PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)])


def _legend(c, labels, right, top, scale, colors):
    labels = [str(lb) for lb in labels if lb]
    if not labels:
        return
    width = max(len(lb) for lb in labels) * 4 * scale + 10 * scale
    c.fill(right - width - 4 * scale, top - 2 * scale, right, top + len(labels) * 8 * scale + scale, (250, 250, 250))
    for i, (label, color) in enumerate(zip(labels, colors)):
        yy = top + i * 8 * scale
        c.fill(right - width - 2 * scale, yy + scale, right - width + 4 * scale, yy + 4 * scale, color)
        c.text(right - width + 6 * scale, yy, label, (20, 20, 20), scale)


def _colormap(t: np.ndarray) -> np.ndarray:
    """Blue (low) to yellow (high), viridis-like, for t in [0, 1]."""
    stops = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)
    t = np.clip(t, 0, 1) * (len(stops) - 1)
    i = np.minimum(t.astype(int), len(stops) - 2)
    frac = (t - i)[..., None]
    return (stops[i] * (1 - frac) + stops[i + 1] * frac).astype(np.uint8)


def _contour(c, fig, x0, y0, x1, y1, scale):
    xs, ys = np.asarray(fig["x"], dtype=np.float64), np.asarray(fig["y"], dtype=np.float64)
    f = np.asarray(fig["f"], dtype=np.float64)
    ax = _Axes(c, x0, y0, x1, y1, (xs[0], xs[-1]), (ys[0], ys[-1]))
    # banded levels: the band edges read as contour lines
    v = np.log10(f - f.min() + 1e-3) if fig.get("log", True) else f
    levels = 16
    t = np.floor((v - v.min()) / (np.ptp(v) or 1.0) * levels) / levels
    px = np.arange(x0 + 1, x1)
    py = np.arange(y0 + 1, y1)
    jx = np.clip(np.rint((px - x0) / (x1 - x0) * (len(xs) - 1)).astype(int), 0, len(xs) - 1)
    iy = np.clip(np.rint((y1 - py) / (y1 - y0) * (len(ys) - 1)).astype(int), 0, len(ys) - 1)
    band = t[np.ix_(iy, jx)]
    rgb = _colormap(band) // 2 + 127  # pale, so the paths stand out
    c.img[y0 + 1:y1, x0 + 1:x1] = rgb
    ax.frame(fig.get("xlabel", "x"), fig.get("ylabel", "y"), scale)
    paths = fig.get("paths", {})
    for i, (label, pts) in enumerate(paths.items()):
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        color = PALETTE[i % len(PALETTE)]
        ax.polyline(pts[:, 0], pts[:, 1], color, 2)
        for p in pts:
            cx, cy = float(ax.tx(p[0])), float(ax.ty(p[1]))
            if x0 < cx < x1 and y0 < cy < y1:
                c.dot(cx, cy, color, 2)
    if fig.get("minimum") is not None:
        mx, my = fig["minimum"]
        c.text(int(ax.tx(mx)), int(ax.ty(my)) - 2 * scale, "+", (0, 0, 0), scale, anchor="center")
    _legend(c, list(paths), x1 - 4 * scale, y0 + 4 * scale, scale, [PALETTE[i % len(PALETTE)] for i in range(len(paths))])


def _scatter(c, fig, x0, y0, x1, y1, scale):
    logx, logy = bool(fig.get("logx")), bool(fig.get("logy"))
    ax = _Axes(c, x0, y0, x1, y1, fig.get("xlim") or _limits([fig["x"]], logx),
               fig.get("ylim") or _limits([fig["y"]], logy), logx, logy)
    ax.frame(fig.get("xlabel", ""), fig.get("ylabel", ""), scale)
    vals = np.asarray(fig.get("c", np.zeros(len(fig["x"]))), dtype=np.float64)
    lo, hi = (np.nanmin(vals), np.nanmax(vals)) if vals.size else (0, 1)
    colors = _colormap((vals - lo) / ((hi - lo) or 1.0))
    for xv, yv, col in zip(ax.tx(np.asarray(fig["x"], dtype=np.float64)), ax.ty(np.asarray(fig["y"], dtype=np.float64)),
                           colors):
        c.dot(float(xv), float(yv), tuple(int(v) for v in col), 3)
    if fig.get("clabel"):
        c.text(x1, y0 - 7 * scale, f"{fig['clabel']}: {lo:.2f} (dark) .. {hi:.2f} (light)", (60, 60, 60), scale,
               anchor="right")


def _hist(c, fig, x0, y0, x1, y1, scale):
    counts = np.asarray(fig["counts"], dtype=np.float64)
    edges = np.asarray(fig["edges"], dtype=np.float64)
    ymax = float(fig.get("ymax") or counts.max() or 1.0)
    ax = _Axes(c, x0, y0, x1, y1, (edges[0], edges[-1]), (0.0, ymax * 1.02))
    for k, n in enumerate(counts):
        left, right = float(ax.tx(edges[k])), float(ax.tx(edges[k + 1]))
        top = float(ax.ty(min(n, ymax)))
        c.fill(left + 1, top, right, y1, (31, 119, 180))
    ax.frame(fig.get("xlabel", ""), "", scale)


def _grid(c, fig, x, y, w, h, scale):
    rows = fig["panels"]
    title_h = 12 * scale if fig.get("title") else 0
    if fig.get("title"):
        c.text(x + w // 2, y + 3 * scale, fig["title"], (0, 0, 0), scale, anchor="center")
    label_w = 0
    if fig.get("row_labels"):
        label_w = max(len(str(s)) for s in fig["row_labels"]) * 4 * scale + 6 * scale
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    pw, ph = (w - label_w) // n_cols, (h - title_h) // n_rows
    for i, row in enumerate(rows):
        if fig.get("row_labels"):
            c.text(x + 2 * scale, y + title_h + i * ph + ph // 2 - 2 * scale, fig["row_labels"][i], (0, 0, 0), scale)
        for j, panel in enumerate(row):
            if panel:
                _draw(c, panel, x + label_w + j * pw, y + title_h + i * ph, pw, ph, max(1, scale - 1))
