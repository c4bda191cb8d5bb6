"""``.npy`` arrays and ``.npz`` archives from untrusted files: header first, then bounded reads.

``np.load`` reads a member's declared size in one allocation (a 2.9 MB ``.npz`` of zeros
expands to 2.9 GB), guesses "pickled data" for anything without an NPY header and then
advises ``allow_pickle=True``, which would run code. Here the header is parsed first
(numpy's own bounded header parser), the dtype must be plain numbers (or strings where
asked), the element count is computed exactly and checked against
:mod:`graph.model.limits`, the byte count must equal what the archive says the member
holds, and only then exactly that many bytes are read. Every problem is an
:class:`NpyError` whose message names the member and never mentions ``allow_pickle``.
"""
from __future__ import annotations

import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from graph.model.limits import Limits, LimitError, check_bytes, count_elements, current

NUMERIC_KINDS = "biuf"
MAX_HEADER = 10000


class NpyError(ValueError):
    """An array file is not a plain NumPy array within the limits; the caller adds the file name."""


def read_array(fh: BinaryIO, what: str, size: int | None = None, kinds: str = NUMERIC_KINDS,
               limits: Limits | None = None) -> np.ndarray:
    """Read one ``.npy`` stream.

    Parameters
    ----------
    fh : binary file object positioned at the magic string
    what : str
        Names the array in messages (``"member 'x'"``).
    size : int, optional
        Bytes the stream holds (a zip member's uncompressed size); the data must fit it.
    kinds : str
        Allowed ``dtype.kind`` letters (``"biuf"`` numbers; add ``"U"`` for strings).
    """
    lim = limits or current()
    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(fh, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(fh, max_header_size=MAX_HEADER)
        else:
            raise NpyError(f"{what}: unsupported .npy format version {version[0]}.{version[1]}")
    except NpyError:
        raise
    except (OSError, zlib.error, zipfile.BadZipFile) as exc:
        raise NpyError(f"cannot read {what}: damaged data ({_short(exc)})") from None
    except (ValueError, EOFError, SyntaxError, TypeError, tokenize.TokenError) as exc:
        raise NpyError(f"{what}: not a NumPy array (no valid .npy header: {_short(exc)})") from None
    if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        expected = "numbers" if kinds == NUMERIC_KINDS else "numbers or strings"
        raise NpyError(f"{what}: dtype {dtype} is not allowed (expected {expected})")
    try:
        count = count_elements(shape, what, lim)
        nbytes = count * dtype.itemsize
        check_bytes(nbytes, what, lim)
    except LimitError as exc:
        raise NpyError(str(exc)) from None
    if size is not None:
        have = size - fh.tell()
        if have != nbytes:
            raise NpyError(f"{what}: header says shape {shape} of {dtype} ({nbytes:,} bytes) "
                           f"but the data holds {max(have, 0):,} bytes")
    arr = np.empty(count, dtype=dtype)   # size checked above; filled in bounded chunks
    try:
        got = _read_into(fh, memoryview(arr).cast("B") if nbytes else memoryview(b""))
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise NpyError(f"cannot read {what}: damaged data ({_short(exc)})") from None
    if got != nbytes:
        raise NpyError(f"{what}: truncated: {got:,} of {nbytes:,} bytes")
    return arr.reshape(shape, order="F" if fortran else "C")


def _read_into(fh: BinaryIO, view: memoryview, chunk: int = 1 << 24) -> int:
    """Fill ``view`` from ``fh`` in chunks (a decompressing reader never inflates more);
    return the bytes read."""
    pos = 0
    while pos < len(view):
        n = fh.readinto(view[pos:pos + chunk])
        if not n:
            break
        pos += n
    return pos


def load_npy(path, kinds: str = NUMERIC_KINDS, limits: Limits | None = None) -> np.ndarray:
    """One ``.npy`` file; ``NpyError`` names the file."""
    path = Path(path)
    with open(path, "rb") as fh:
        return read_array(fh, str(path), path.stat().st_size, kinds, limits)


def load_npz(path, kinds: dict | None = None, limits: Limits | None = None) -> dict:
    """All members of an ``.npz`` as arrays; ``kinds`` maps member names to allowed kinds.

    Raises ``NpyError`` naming the file and the member.
    """
    path = Path(path)
    kinds = kinds or {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            out = {}
            for info in infos:
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as fh:
                    out[name] = read_array(fh, f"{path}: member {name!r}", info.file_size,
                                           kinds.get(name, NUMERIC_KINDS), limits)
            return out
    except NpyError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
            NotImplementedError, ValueError, RuntimeError) as exc:   # RuntimeError: an encrypted member
        if isinstance(exc, FileNotFoundError):
            raise
        raise NpyError(f"{path} is not a NumPy .npz archive or is damaged ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
