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
import zlib
from pathlib import Path

import numpy as np

from graph.model.limits import LimitError, count_elements, current
from graph.training import npyfile
from graph.training.datasets.base import DatasetError, check_xy
from graph.training.datasets.png import decode_png, encode_png

SUPPORTED = (".png", ".pgm", ".ppm", ".pnm", ".npy")
UNSUPPORTED = (".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
__all__ = ["decode_png", "decode_pnm", "encode_png", "load_image_folder", "load_npz", "read_image"]


def load_npz(path):
    """Read ``x``, ``y`` and optional ``class_names`` from an ``.npz``.

    Returns
    -------
    tuple
        ``(x (N, ...), y (N,) int64, class_names list of str)``.
    """
    path = Path(path)
    try:
        data = npyfile.load_npz(path, kinds={"class_names": "U"})
    except npyfile.NpyError as exc:
        raise DatasetError(str(exc)) from None
    if not {"x", "y"} <= set(data):
        raise DatasetError(f"{path}: an .npz dataset needs arrays named 'x' and 'y' "
                           f"(found: {', '.join(sorted(data)) or 'none'}); save one with "
                           "numpy.savez(path, x=images, y=labels)")
    x, y = data["x"], data["y"]
    names = None
    if "class_names" in data:
        raw = data["class_names"]
        if raw.ndim != 1 or raw.dtype.kind != "U":
            raise DatasetError(f"{path}: class_names must be a list of strings (N,), got {raw.dtype} "
                               f"of shape {raw.shape}")
        names = [str(n) for n in raw]
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
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: no class subfolders (expected {root}/<class>/<image>.png)")
    per_class = {}
    for folder in folders:
        found = []
        for file in sorted(folder.iterdir()):
            suffix = file.suffix.lower()
            if suffix in UNSUPPORTED:
                raise DatasetError(f"{file}: {suffix} images are not supported (readable: "
                                   f"{', '.join(SUPPORTED)}); convert them to PNG first")
            if suffix in SUPPORTED and file.is_file():
                found.append(file)
        if found:   # an empty subfolder is not a class: it would be a label with no samples
            per_class[folder.name] = found
    classes = sorted(per_class)
    images, labels, files = [], [], []
    for label, cls in enumerate(classes):
        for file in per_class[cls]:
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
    try:
        count_elements((len(images), channels) + first.shape[1:], f"{root}: the images together")
    except LimitError as exc:
        raise DatasetError(str(exc)) from None
    x = np.stack([np.repeat(im, channels, axis=0) if im.shape[0] != channels else im for im in images])
    return x, np.asarray(labels, dtype=np.int64), classes


def read_image(path) -> np.ndarray:
    """One image as a channels-first array (C, H, W), C in {1, 3}; alpha is dropped."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return _from_npy(path)
        size = path.stat().st_size
        if size > current().max_file_bytes:
            raise DatasetError(f"the file is {size:,} bytes, over the limit of {current().max_file_bytes:,} "
                               "(raise it with --max-file-bytes)")
        data = path.read_bytes()
        if suffix == ".png":
            return decode_png(data)
        return decode_pnm(data)
    except DatasetError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    except npyfile.NpyError as exc:
        raise DatasetError(str(exc)) from None
    except (OSError, ValueError, IndexError, struct.error, zlib.error, MemoryError) as exc:
        raise DatasetError(f"{path}: unreadable image ({type(exc).__name__}: {exc})") from None


def _from_npy(path: Path) -> np.ndarray:
    arr = npyfile.load_npy(path)
    if arr.ndim == 2:
        return arr[None]
    if arr.ndim == 3 and arr.shape[-1] in (1, 3, 4) and arr.shape[0] not in (1, 3):
        arr = arr.transpose(2, 0, 1)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3, 4):
        raise DatasetError(f"expected (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4; got {arr.shape}")
    return arr[:3] if arr.shape[0] == 4 else arr


def decode_pnm(data: bytes) -> np.ndarray:
    """Decode PGM/PPM (P2, P3, P5, P6) into (C, H, W) uint8 (16-bit scaled down).

    Raises ``DatasetError`` for anything malformed.
    """
    try:
        return _decode_pnm(data)
    except (ValueError, IndexError, OverflowError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"unreadable image ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})") from None


def _decode_pnm(data: bytes) -> np.ndarray:
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
    if width < 1 or height < 1:
        raise DatasetError(f"unreadable image: PNM size {width}x{height}")
    try:
        count = count_elements((height, width, channels), "PNM image")
    except LimitError as exc:
        raise DatasetError(str(exc)) from None
    if magic in (b"P5", b"P6"):
        dtype = ">u2" if maxval > 255 else np.uint8
        if len(data) - pos - 1 < count * np.dtype(dtype).itemsize:
            raise DatasetError("PNM pixel data is truncated")
        values = np.frombuffer(data, dtype, count=count, offset=pos + 1).astype(np.int64)
    else:
        values = np.array(data[pos:].split()[:count], dtype=np.int64)
        if values.size < count:
            raise DatasetError("PNM pixel data is truncated")
    img = (values * 255 // maxval).astype(np.uint8).reshape(height, width, channels)
    return np.ascontiguousarray(img.transpose(2, 0, 1))
