"""The user's own data: an ``.npz`` with ``x``/``y`` arrays, or a folder of images.

``.npz``
    ``x`` (N, ...) numbers and ``y`` (N,) integer class indices (or one-hot (N, K)); an
    optional ``class_names`` array of strings. Images given as (N, H, W) get a channel
    axis; (N, H, W, 3|4) channels-last images are moved to channels-first.

Image folder
    One subfolder per class (sorted names are the class names, label 0, 1, ...), each
    holding images of one common size. Read without Pillow or Qt:

    * PNG: 1/2/4/8/16-bit greyscale, RGB, palette, grey+alpha and RGBA, non-interlaced
      (a small zlib decoder below). Alpha is dropped.
    * PGM / PPM / PNM (``P2``, ``P3``, ``P5``, ``P6``), 8 or 16 bits.
    * ``.npy``: one array per image, (H, W), (H, W, C) or (C, H, W).

    Unsupported, with an error naming the file: JPEG, GIF, BMP, TIFF, WebP and interlaced
    PNG. Convert them to PNG first (e.g. ``mogrify -format png *.jpg``). Files with other
    extensions (``.txt``, ``.DS_Store``) are ignored. Greyscale and colour images can be
    mixed: greyscale is repeated into three channels.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from graph.training.datasets.base import DatasetError, check_xy

SUPPORTED = (".png", ".pgm", ".ppm", ".pnm", ".npy")
UNSUPPORTED = (".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def load_npz(path):
    """Read ``x``, ``y`` and optional ``class_names`` from an ``.npz``.

    Returns
    -------
    tuple
        ``(x (N, ...), y (N,) int64, class_names list of str)``.
    """
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        # np.load would guess "pickled data" and suggest allow_pickle, which is never safe here
        raise DatasetError(f"{path} is not a NumPy .npz archive: save one with "
                           "numpy.savez(path, x=images, y=labels)")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if not {"x", "y"} <= keys:
                raise DatasetError(f"{path}: an .npz dataset needs arrays named 'x' and 'y' "
                                   f"(found: {', '.join(sorted(keys)) or 'none'})")
            x, y = data["x"], data["y"]
            names = [str(n) for n in data["class_names"]] if "class_names" in keys else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (3, 4) and x.shape[1] not in (1, 3, 4):
        x = np.ascontiguousarray(x[..., :3].transpose(0, 3, 1, 2))
    x, y = check_xy(x, y, str(path))
    k = int(y.max()) + 1
    if names is None:
        names = [str(i) for i in range(k)]
    elif len(names) < k:
        raise DatasetError(f"{path}: labels go up to {k - 1} but class_names has {len(names)} names")
    return x, y, names


def load_image_folder(path):
    """Read a folder with one subfolder of images per class.

    Returns
    -------
    tuple
        ``(x (N, C, H, W) uint8 (or the .npy dtype), y (N,) int64, class_names)`` with
        C = 1 for greyscale and 3 for colour.
    """
    root = Path(path)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(f"{root}: no class subfolders (expected {root}/<class>/<image>.png)")
    images, labels, files = [], [], []
    for label, cls in enumerate(classes):
        for file in sorted((root / cls).iterdir()):
            suffix = file.suffix.lower()
            if suffix in UNSUPPORTED:
                raise DatasetError(f"{file}: {suffix} images are not supported (readable: "
                                   f"{', '.join(SUPPORTED)}); convert them to PNG first")
            if suffix not in SUPPORTED or not file.is_file():
                continue
            images.append(read_image(file))
            labels.append(label)
            files.append(file)
    if not images:
        raise DatasetError(f"{root}: no readable images ({', '.join(SUPPORTED)}) in the class folders")
    channels = 3 if any(im.shape[0] == 3 for im in images) else 1
    first = images[0]
    for file, im in zip(files, images):
        if im.shape[1:] != first.shape[1:]:
            raise DatasetError(f"{file}: image is {im.shape[2]}x{im.shape[1]} but {files[0].name} is "
                               f"{first.shape[2]}x{first.shape[1]}; all images must have one size")
    x = np.stack([np.repeat(im, channels, axis=0) if im.shape[0] != channels else im for im in images])
    return x, np.asarray(labels, dtype=np.int64), classes


def read_image(path) -> np.ndarray:
    """One image as a channels-first array (C, H, W), C in {1, 3}; alpha is dropped."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return _from_npy(path)
        data = path.read_bytes()
        if suffix == ".png":
            return decode_png(data)
        return decode_pnm(data)
    except DatasetError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    except (OSError, ValueError, IndexError, struct.error, zlib.error) as exc:
        raise DatasetError(f"{path}: unreadable image ({exc})") from None


def _from_npy(path: Path) -> np.ndarray:
    arr = np.load(path, allow_pickle=False)
    if arr.ndim == 2:
        return arr[None]
    if arr.ndim == 3 and arr.shape[-1] in (1, 3, 4) and arr.shape[0] not in (1, 3):
        arr = arr.transpose(2, 0, 1)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3, 4):
        raise DatasetError(f"expected (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4; got {arr.shape}")
    return arr[:3] if arr.shape[0] == 4 else arr


def decode_png(data: bytes) -> np.ndarray:
    """Decode a non-interlaced PNG into (C, H, W) uint8, C in {1, 3}.

    Chunks are length, type, payload, CRC; the concatenated IDAT payloads are one zlib
    stream of scanlines, each prefixed by a filter byte (0 None, 1 Sub, 2 Up, 3 Average,
    4 Paeth) that predicts every byte from its left (``a``), upper (``b``) and upper-left
    (``c``) neighbours ``bpp`` bytes back.
    """
    if not data.startswith(_PNG_SIGNATURE):
        raise DatasetError("not a PNG file (bad signature)")
    pos, idat, palette, header = 8, [], None, None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", payload)
        elif ctype == b"PLTE":
            palette = np.frombuffer(payload, np.uint8).reshape(-1, 3)
        elif ctype == b"IDAT":
            idat.append(payload)
        elif ctype == b"IEND":
            break
    if header is None:
        raise DatasetError("PNG without IHDR header")
    width, height, depth, color, _, _, interlace = header
    if interlace:
        raise DatasetError("interlaced PNG is not supported; save it non-interlaced")
    if color not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise DatasetError(f"unsupported PNG colour type {color} / bit depth {depth}")
    channels = _PNG_CHANNELS[color]
    bits_per_pixel = channels * depth
    row_bytes = (width * bits_per_pixel + 7) // 8
    bpp = max(1, bits_per_pixel // 8)
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    if raw.size < height * (row_bytes + 1):
        raise DatasetError("PNG image data is truncated")
    rows = _unfilter(raw[:height * (row_bytes + 1)].reshape(height, row_bytes + 1), bpp)
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
        if palette is None:
            raise DatasetError("palette PNG without a PLTE chunk")
        img = palette[img[..., 0]]
    elif color in (4, 6):
        img = img[..., :channels - 1]
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def _unfilter(lines: np.ndarray, bpp: int) -> np.ndarray:
    height, width = lines.shape[0], lines.shape[1] - 1
    out = np.zeros((height, width), np.uint8)
    prev = np.zeros(width, np.uint8)
    for y in range(height):
        kind, cur = lines[y, 0], lines[y, 1:]
        if kind == 0:
            row = cur.copy()
        elif kind == 2:
            row = cur + prev
        elif kind == 1:
            # Sub is a running sum per byte lane, done with cumsum modulo 256
            pad = (-width) % bpp
            lanes = np.concatenate([cur, np.zeros(pad, np.uint8)]).reshape(-1, bpp)
            row = (np.cumsum(lanes, axis=0, dtype=np.uint64) % 256).astype(np.uint8).reshape(-1)[:width]
        elif kind in (3, 4):
            row = _unfilter_sequential(int(kind), cur, prev, bpp)
        else:
            raise DatasetError(f"bad PNG filter type {kind} in row {y}")
        out[y] = row
        prev = row
    return out


def _unfilter_sequential(kind: int, cur: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    row = np.zeros(cur.size, np.int32)
    up = prev.astype(np.int32)
    filt = cur.astype(np.int32)
    for i in range(cur.size):
        a = row[i - bpp] if i >= bpp else 0
        b = up[i]
        if kind == 3:
            pred = (a + b) >> 1
        else:
            c = up[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        row[i] = (filt[i] + pred) & 0xFF
    return row.astype(np.uint8)


def decode_pnm(data: bytes) -> np.ndarray:
    """Decode PGM/PPM (P2, P3, P5, P6) into (C, H, W) uint8 (16-bit scaled down)."""
    magic = data[:2]
    if magic not in (b"P2", b"P3", b"P5", b"P6"):
        raise DatasetError(f"unsupported PNM type {magic!r} (P2, P3, P5 and P6 are read)")
    channels = 3 if magic in (b"P3", b"P6") else 1
    tokens, pos = [], 2
    while len(tokens) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        tokens.append(int(data[start:pos]))
    width, height, maxval = tokens
    if not 0 < maxval <= 65535:
        raise DatasetError(f"unreadable image: PNM maximum value {maxval} is outside 1..65535")
    if width < 0 or height < 0:
        raise DatasetError(f"unreadable image: PNM size {width}x{height}")
    count = width * height * channels
    if magic in (b"P5", b"P6"):
        dtype = ">u2" if maxval > 255 else np.uint8
        values = np.frombuffer(data, dtype, count=count, offset=pos + 1).astype(np.int64)
    else:
        values = np.array(data[pos:].split()[:count], dtype=np.int64)
        if values.size < count:
            raise DatasetError("PNM pixel data is truncated")
    img = (values * 255 // maxval).astype(np.uint8).reshape(height, width, channels)
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def encode_png(img: np.ndarray) -> bytes:
    """Encode (H, W) or (H, W, 3) uint8 as a PNG (filter 0); used to write test fixtures."""
    img = np.asarray(img, np.uint8)
    color = 0 if img.ndim == 2 else 2
    height, width = img.shape[:2]
    rows = img.reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (_PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))
