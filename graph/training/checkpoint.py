"""Resumable training checkpoints: one ``.npz`` holding arrays plus a JSON header.

Nested state (dicts and lists of numbers, strings and NumPy arrays) is split into a JSON
document in which every array is replaced by ``{"__array__": i}`` and the arrays
themselves, stored as ``a<i>``. Files are written to a temporary name in the same folder
and moved into place with ``os.replace``, so a run killed mid-write leaves the previous
checkpoint intact. Loading uses ``allow_pickle=False``: a checkpoint cannot run code.
"""
from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from layers.base import to_host

from graph.training.metrics import atomic_write_bytes

MAGIC = "backprop-studio-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, damaged or from another program."""


def _split(obj, arrays: list):
    if isinstance(obj, dict):
        return {str(k): _split(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, arrays) for v in obj]
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and not np.isscalar(obj):
        arrays.append(np.asarray(to_host(obj)))
        return {"__array__": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(obj, arrays):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[f"a{obj['__array__']}"]
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` (nested dicts / lists / arrays / JSON scalars) atomically to ``path``."""
    arrays: list = []
    doc = {"format": MAGIC, "version": VERSION, "state": _split(state, arrays)}
    header = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, header=header, **{f"a{i}": a for i, a in enumerate(arrays)})
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`; arrays come back as NumPy."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            doc = json.loads(bytes(data["header"]).decode())
            if doc.get("format") != MAGIC:
                raise CheckpointError(f"{path} is not a Backprop Studio checkpoint")
            if doc.get("version") != VERSION:
                raise CheckpointError(f"{path}: checkpoint version {doc.get('version')} is not supported")
            arrays = {k: data[k] for k in data.files if k != "header"}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from None
    return _join(doc["state"], arrays)
