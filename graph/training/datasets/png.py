"""A small PNG decoder for image-folder datasets (no Pillow, no Qt), safe on untrusted files.

Chunks are length, type, payload, CRC; the concatenated IDAT payloads are one zlib stream
of scanlines, each prefixed by a filter byte (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth)
that predicts every byte from its left (``a``), upper (``b``) and upper-left (``c``)
neighbours ``bpp`` bytes back.

Safety: the image size from IHDR is checked against :mod:`graph.model.limits` before
anything is inflated, and the zlib stream is inflated with ``max_length`` = the bytes the
header promises (a 389 KB file cannot expand to 820 MB). Average and Paeth depend on the
reconstructed left neighbour, so they cannot be vectorised along a row; they are
vectorised along anti-diagonals instead (pixel ``(y, x)`` needs only pixels of earlier
diagonals), which takes ``H + W`` NumPy steps instead of ``H * W * bpp`` Python ones.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from graph.model.limits import LimitError, count_elements

from graph.training.datasets.base import DatasetError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# up to this many bytes a plain loop over Python ints beats one NumPy step per diagonal
SMALL_IMAGE_BYTES = 1 << 14


def decode_png(data: bytes) -> np.ndarray:
    """Decode a non-interlaced PNG into (C, H, W) uint8, C in {1, 3}; alpha is dropped.

    Raises ``DatasetError`` for anything malformed.
    """
    try:
        return _decode_png(data)
    except (ValueError, IndexError, struct.error, zlib.error) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"unreadable image ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})") from None


def _decode_png(data: bytes) -> np.ndarray:
    if not data.startswith(SIGNATURE):
        raise DatasetError("not a PNG file (bad signature)")
    pos, idat, palette, header = 8, [], None, None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            if len(payload) != 13:
                raise DatasetError("PNG IHDR chunk has the wrong length")
            header = struct.unpack(">IIBBBBB", payload)
        elif ctype == b"PLTE":
            palette = np.frombuffer(payload[:len(payload) // 3 * 3], np.uint8).reshape(-1, 3)
        elif ctype == b"IDAT":
            idat.append(payload)
        elif ctype == b"IEND":
            break
    if header is None:
        raise DatasetError("PNG without IHDR header")
    width, height, depth, color, _, _, interlace = header
    if interlace:
        raise DatasetError("interlaced PNG is not supported; save it non-interlaced")
    if color not in CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise DatasetError(f"unsupported PNG colour type {color} / bit depth {depth}")
    if width < 1 or height < 1:
        raise DatasetError(f"PNG size {width}x{height} is empty")
    channels = CHANNELS[color]
    try:
        count_elements((height, width, channels * max(1, depth // 8)), "PNG image")
    except LimitError as exc:
        raise DatasetError(str(exc)) from None
    bits_per_pixel = channels * depth
    row_bytes = (width * bits_per_pixel + 7) // 8
    bpp = max(1, bits_per_pixel // 8)
    need = height * (row_bytes + 1)
    inflater = zlib.decompressobj()
    raw = inflater.decompress(b"".join(idat), need)   # never more than the header promises
    if len(raw) < need:
        raise DatasetError("PNG image data is truncated")
    rows = unfilter(np.frombuffer(raw, np.uint8).reshape(height, row_bytes + 1), bpp)
    if depth == 16:
        values = rows.reshape(height, width * channels, 2)[..., 0]  # keep the high byte
    elif depth == 8:
        values = rows
    else:
        bits = np.unpackbits(rows, axis=1).reshape(height, -1, depth)
        values = (bits * (1 << np.arange(depth - 1, -1, -1))).sum(axis=2)[:, :width].astype(np.uint8)
        if color == 0:
            values = (values.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
    img = values.reshape(height, width, channels)
    if color == 3:
        if palette is None or palette.shape[0] == 0:
            raise DatasetError("palette PNG without a PLTE chunk")
        if int(img.max()) >= palette.shape[0]:
            raise DatasetError(f"palette index {int(img.max())} is beyond the {palette.shape[0]} colours")
        img = palette[img[..., 0]]
    elif color in (4, 6):
        img = img[..., :channels - 1]
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def unfilter(lines: np.ndarray, bpp: int) -> np.ndarray:
    """Undo the per-row filters of ``lines`` (H, 1 + row_bytes) -> (H, row_bytes) uint8."""
    kinds = lines[:, 0]
    if kinds.size and int(kinds.max()) > 4:
        y = int(np.argmax(kinds > 4))
        raise DatasetError(f"bad PNG filter type {int(kinds[y])} in row {y}")
    if np.isin(kinds, (3, 4)).any():
        if lines.size <= SMALL_IMAGE_BYTES:
            return _unfilter_small(lines, bpp)
        return _unfilter_diagonals(lines, bpp)
    height, width = lines.shape[0], lines.shape[1] - 1
    out = np.zeros((height, width), np.uint8)
    prev = np.zeros(width, np.uint8)
    for y in range(height):
        kind, cur = lines[y, 0], lines[y, 1:]
        if kind == 0:
            row = cur.copy()
        elif kind == 2:
            row = cur + prev
        else:
            # Sub is a running sum per byte lane, done with cumsum modulo 256
            pad = (-width) % bpp
            lanes = np.concatenate([cur, np.zeros(pad, np.uint8)]).reshape(-1, bpp)
            row = (np.cumsum(lanes, axis=0, dtype=np.uint64) % 256).astype(np.uint8).reshape(-1)[:width]
        out[y] = row
        prev = row
    return out


def _unfilter_small(lines: np.ndarray, bpp: int) -> np.ndarray:
    """The filters byte by byte on Python ints (fast for dataset-sized images only)."""
    height, width = lines.shape[0], lines.shape[1] - 1
    prev = [0] * width
    out = []
    for line in lines.tolist():
        kind, cur = line[0], line[1:]
        row = [0] * width
        for i in range(width):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) >> 1
            else:
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[i] = (cur[i] + pred) & 0xFF
        out.append(row)
        prev = row
    return np.asarray(out, np.uint8).reshape(height, width)


def _unfilter_diagonals(lines: np.ndarray, bpp: int) -> np.ndarray:
    """All five filters at once, one anti-diagonal of pixels (``x + y = s``) per step.

    The pixels are stored skewed, ``d[s + 2, y + 1] = pixel(y, x = s - y)``, so that one
    diagonal is one contiguous slice and its neighbours are slices of the two before:
    left ``a`` = ``d[s + 1, y + 1]``, up ``b`` = ``d[s + 1, y]``, up-left ``c`` = ``d[s, y]``
    (cells outside the image are never written, so they read as 0 as the format says).
    """
    height, nbytes = lines.shape[0], lines.shape[1] - 1
    width = -(-nbytes // bpp)
    filt = np.zeros((height, width * bpp), np.int16)
    filt[:, :nbytes] = lines[:, 1:]
    filt = filt.reshape(height, width, bpp)
    steps = height + width - 1
    yy, xx = np.divmod(np.arange(height * width), width)
    skewed = np.zeros((steps, height, bpp), np.int16)
    skewed[yy + xx, yy] = filt[yy, xx]
    d = np.zeros((steps + 2, height + 1, bpp), np.int16)
    kinds = lines[:, 0].astype(np.int8)[:, None]
    for s in range(steps):
        lo, hi = max(0, s - width + 1), min(height, s + 1)
        a, b, c = d[s + 1, lo + 1:hi + 1], d[s + 1, lo:hi], d[s, lo:hi]
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        k = kinds[lo:hi]
        pred = np.select([k == 1, k == 2, k == 3, k == 4], [a, b, (a + b) >> 1, paeth], 0)
        d[s + 2, lo + 1:hi + 1] = (skewed[s, lo:hi] + pred) & 0xFF
    out = d[yy + xx + 2, yy + 1].reshape(height, width * bpp)
    return out[:, :nbytes].astype(np.uint8)


def encode_png(img: np.ndarray, filter_type: int = 0) -> bytes:
    """Encode (H, W) or (H, W, 3) uint8 as a PNG with one filter type for every row
    (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth); used to write test fixtures."""
    img = np.asarray(img, np.uint8)
    color = 0 if img.ndim == 2 else 2
    height, width = img.shape[:2]
    bpp = 1 if img.ndim == 2 else 3
    rows = img.reshape(height, -1).astype(np.int16)
    filtered = np.empty_like(rows)
    for y in range(height):
        a = np.concatenate([np.zeros(bpp, np.int16), rows[y, :-bpp]])
        b = rows[y - 1] if y else np.zeros_like(rows[y])
        c = np.concatenate([np.zeros(bpp, np.int16), b[:-bpp]])
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        pred = [0, a, b, (a + b) >> 1, paeth][filter_type]
        filtered[y] = (rows[y] - pred) & 0xFF
    raw = np.concatenate([np.full((height, 1), filter_type, np.uint8), filtered.astype(np.uint8)], axis=1)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw.tobytes()))
            + chunk(b"IEND", b""))
