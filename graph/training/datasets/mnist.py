"""MNIST-style data in IDX files: the embedded ``mnist-10k`` and ``mnist`` / ``fashion-mnist``.

``mnist-10k`` is the official MNIST test file (10,000 images, CC BY-SA 3.0, LeCun, Cortes
and Burges; see ``resources/datasets/mnist-10k/README.md``) shipped with the app and split
8000 / 1000 / 1000 (:mod:`graph.training.datasets.split`).

The full ``mnist`` and ``fashion-mnist`` sets are read from the four standard IDX files
(``.gz`` or uncompressed) found in the first of these folders that has them:

1. the folder the user names (``--data-dir``), then its ``mnist/`` (or ``fashion-mnist/``)
   subfolder;
2. ``$BACKPROP_STUDIO_DATA`` (and its subfolder);
3. the user cache ``$XDG_CACHE_HOME/backprop-studio/<name>`` (``~/.cache/...``).

:func:`download` fetches them into the cache (or a given folder) on request only, through
pooch (md5 verification, temporary files moved into place only when they verify) with
mirror fallback; ``file://`` mirrors are read locally. Nothing here touches the network at
import.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import zlib
import urllib.parse
import urllib.request
from contextlib import nullcontext
from importlib import resources as importlib_resources
from pathlib import Path

import numpy as np
import platformdirs
import pooch

from graph.model.limits import Limits, LimitError, check_bytes, count_elements, current

from graph.training.datasets.base import DatasetError, check_finite

ENV_VAR = "BACKPROP_STUDIO_DATA"

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# md5 of the published .gz files (the checksums torchvision and the dataset pages give)
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"],
}

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DownloadError(DatasetError):
    """Every mirror failed (offline, blocked, or a checksum mismatch)."""


def read_idx(path, limits: Limits | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a native-endian array.

    The header is two zero bytes, a dtype code, the number of dimensions, then each
    dimension as a big-endian uint32; the data follows in C order. The header is read
    and the declared size checked against :mod:`graph.model.limits` first; then exactly
    that many bytes are read (a ``.gz`` is inflated in bounded chunks, never further),
    so a small file that declares or inflates to gigabytes is refused, not allocated.
    """
    path = Path(path)
    lim = limits or current()
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
                raise DatasetError(f"{path} is not an IDX file (bad magic number)")
            ndim = head[3]
            raw_dims = fh.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DatasetError(f"{path} is truncated inside its header")
            dims = tuple(int(d) for d in np.frombuffer(raw_dims, ">u4", count=ndim))
            dtype = np.dtype(_IDX_DTYPES[head[2]])
            try:
                count = count_elements(dims, str(path), lim)
                check_bytes(count * dtype.itemsize, str(path), lim)
            except LimitError as exc:
                raise DatasetError(str(exc)) from None
            data = _read_bounded(fh, count * dtype.itemsize)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if len(data) < count * dtype.itemsize:
        raise DatasetError(f"{path} is truncated: header says {dims} but the file is too short")
    arr = np.frombuffer(data, dtype, count=count).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _read_bounded(fh, nbytes: int, chunk: int = 1 << 22) -> bytes:
    """At most ``nbytes`` bytes, read in chunks of ``chunk``."""
    parts, left = [], nbytes
    while left > 0:
        part = fh.read(min(chunk, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def embedded_dir() -> Path:
    """Folder of the embedded ``mnist-10k`` files inside the installed ``resources`` package."""
    return Path(str(importlib_resources.files("resources"))) / "datasets" / "mnist-10k"


def load_mnist_10k() -> tuple[np.ndarray, np.ndarray]:
    """The embedded MNIST test set: images (10000, 1, 28, 28) uint8, labels (10000,) int64."""
    folder = embedded_dir()
    x = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    y = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    return x.reshape(-1, 1, 28, 28), y.astype(np.int64)


def cache_dir() -> Path:
    """The per-user cache folder (platformdirs: ``$XDG_CACHE_HOME/backprop-studio`` or
    ``~/.cache/backprop-studio`` on Linux, the platform's cache folder elsewhere)."""
    return Path(platformdirs.user_cache_dir("backprop-studio", appauthor=False))


def search_dirs(name: str, data_dir=None) -> list[Path]:
    """Folders searched for ``name``'s IDX files, in order (see module docs)."""
    roots = []
    if data_dir:
        roots.append(Path(data_dir))
    if os.environ.get(ENV_VAR):
        roots.append(Path(os.environ[ENV_VAR]))
    dirs = []
    for root in roots:
        dirs += [root, root / name]
    dirs.append(cache_dir() / name)
    return dirs


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / (stem + ".gz"), folder / stem):
        if candidate.is_file():
            return candidate
    return None


def locate(name: str, data_dir=None) -> dict[str, Path]:
    """Paths of the four IDX files of ``name``, or a ``DatasetError`` saying where to put them."""
    if name not in CHECKSUMS:
        raise DatasetError(f"unknown IDX dataset {name!r} (known: {', '.join(CHECKSUMS)})")
    dirs = search_dirs(name, data_dir)
    for folder in dirs:
        found = {key: _find_file(folder, stem) for key, stem in FILES.items()}
        if all(found.values()):
            return found
    raise DatasetError(missing_message(name, dirs))


def missing_message(name: str, dirs) -> str:
    """One line naming the files and where they may go."""
    names = ", ".join(f"{stem}.gz" for stem in FILES.values())
    where = ", ".join(str(d) for d in dirs)
    return (f"{name}: IDX files not found. Put {names} (or the uncompressed files) in one of: "
            f"{where}; or run `backprop-studio download {name}`")


def load_idx_set(name: str, data_dir=None):
    """Load ``mnist`` or ``fashion-mnist``.

    Returns
    -------
    tuple
        ``(x_train (60000, 1, 28, 28) uint8, y_train (60000,) int64, x_test (10000, 1, 28,
        28) uint8, y_test (10000,) int64)``.
    """
    paths = locate(name, data_dir)
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for part in ("train", "test"):
        x, y = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DatasetError(f"{name}: {part} images {x.shape} and labels {y.shape} do not match")
        if len(y) == 0:
            raise DatasetError(f"{name}: the {part} files hold no samples")
        check_finite(x, f"{name}: {paths[f'{part}_images']}")
        check_finite(y, f"{name}: {paths[f'{part}_labels']}")
    return (arrays["train_images"][:, None], arrays["train_labels"].astype(np.int64),
            arrays["test_images"][:, None], arrays["test_labels"].astype(np.int64))


def file_digest(path, algorithm: str = "md5") -> str:
    """Hex digest of a file (``md5`` or ``sha256``), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, expected: str) -> bool:
    """True when the file's md5 (32 hex digits) or sha256 (64 hex digits) is ``expected``."""
    algorithm = "sha256" if len(expected) == 64 else "md5"
    return file_digest(path, algorithm) == expected.lower()


class _Progress:
    """The progress-bar object pooch's HTTP downloader drives, forwarding to ``progress``."""

    def __init__(self, filename: str, progress) -> None:
        self.filename, self.progress, self.total, self.done = filename, progress, 0, 0

    def update(self, n: int) -> None:
        self.done += n
        self.progress(self.filename, self.done, self.total or 0)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        pass


def _file_downloader(filename: str, progress):
    """A pooch downloader for ``file://`` mirrors (a local copy, an offline classroom share)."""
    def fetch(url: str, output_file, _pooch) -> None:
        source = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        total, done = source.stat().st_size, 0
        with open(source, "rb") as src, (open(output_file, "wb") if isinstance(output_file, (str, Path))
                                         else nullcontext(output_file)) as out:
            for chunk in iter(lambda: src.read(1 << 16), b""):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(filename, done, total)
    return fetch


def _fetch(url: str, folder: Path, filename: str, md5: str, progress, timeout: float) -> None:
    """Download ``url`` into ``folder/filename`` through pooch, verifying the md5.

    pooch writes to a temporary file with an unpredictable name in ``folder`` and moves
    it into place only when the checksum matches (``ValueError`` otherwise).
    """
    if url.startswith("file:"):
        downloader = _file_downloader(filename, progress)
    else:
        bar = _Progress(filename, progress) if progress is not None else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=timeout)
    pooch.retrieve(url, known_hash=f"md5:{md5}", fname=filename, path=folder, downloader=downloader)


def download(name: str, dest=None, progress=None, mirrors=None, timeout: float = 15.0) -> Path:
    """Fetch the four ``.gz`` files of ``name`` into ``dest`` (default: the user cache).

    Files already present with the right checksum are kept. Each file is tried on every
    mirror in turn; a download whose md5 does not match is discarded and the next mirror
    is tried.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    dest : path, optional
        Target folder; default ``cache_dir() / name``.
    progress : callable, optional
        ``progress(filename, bytes_done, bytes_total)``; ``bytes_total`` is 0 when unknown.
    mirrors : sequence of str, optional
        Base URLs ending in ``/``; default :data:`MIRRORS` ``[name]``.
    timeout : float
        Seconds per connection attempt, so an offline machine fails fast.

    Returns
    -------
    Path
        The folder holding the verified files.

    Raises
    ------
    DownloadError
        When a file cannot be fetched from any mirror; the message names the files and
        the folder to put them in by hand.
    """
    if name not in CHECKSUMS:
        raise DatasetError(f"unknown dataset {name!r} for download (known: {', '.join(CHECKSUMS)})")
    folder = Path(dest) if dest else cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    mirrors = tuple(mirrors) if mirrors else MIRRORS[name]
    for filename, md5 in CHECKSUMS[name].items():
        target = folder / filename
        if target.is_file() and verify(target, md5):
            continue
        errors = []
        for base in mirrors:
            try:
                _fetch(base + filename, folder, filename, md5, progress, timeout)
            except ValueError as exc:   # pooch: the hash does not match; the download is discarded
                errors.append(f"{base}: checksum mismatch ({' '.join(str(exc).split())[:80]})")
                continue
            except OSError as exc:      # requests' errors are OSErrors too (offline, refused, 404)
                errors.append(f"{base}: {getattr(exc, 'reason', None) or exc}")
                continue
            if verify(target, md5):
                break
            target.unlink(missing_ok=True)
            errors.append(f"{base}: checksum mismatch")
        else:
            raise DownloadError(
                f"could not download {filename} ({'; '.join(errors)}). Offline? Copy "
                f"{', '.join(CHECKSUMS[name])} into {folder} (or any folder given with "
                f"--data-dir or ${ENV_VAR})")
    return folder
