"""Resumable training checkpoints: one ``.npz`` holding arrays plus a JSON header.

Nested state (dicts and lists of numbers, strings and NumPy arrays) is split into a JSON
document in which every array is replaced by ``{"__array__": i}`` and the arrays
themselves, stored as ``a<i>``. Files are written to a temporary name in the same folder
and moved into place with ``os.replace``, so a run killed mid-write leaves the previous
checkpoint intact. Loading reads only plain numeric arrays after checking their headers
(:mod:`graph.training.npyfile`): a checkpoint cannot run code or exhaust memory.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from layers.base import ShapeError, to_host

from graph.model import safe_json
from graph.training import npyfile
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


def _join(obj, arrays, where: str):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            key = f"a{obj['__array__']}"
            if isinstance(obj["__array__"], bool) or not isinstance(obj["__array__"], int) or key not in arrays:
                raise CheckpointError(f"{where}: the header refers to a missing array {obj['__array__']!r}")
            return arrays[key]
        return {k: _join(v, arrays, where) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays, where) for v in obj]
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
    """Read a checkpoint written by :func:`save_checkpoint`; arrays come back as NumPy.

    Every member's header is checked before it is read (:mod:`graph.training.npyfile`),
    the JSON header is parsed with bounded depth and numbers; any problem is a
    :class:`CheckpointError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        arrays = npyfile.load_npz(path, kinds={"header": "u"})
    except npyfile.NpyError as exc:
        raise CheckpointError(f"cannot read checkpoint {exc}") from None
    header = arrays.pop("header", None)
    if header is None or header.ndim != 1 or header.dtype != np.uint8:
        raise CheckpointError(f"{path} is not a Backprop Studio checkpoint (no header)")
    try:
        doc = safe_json.loads(header.tobytes())
    except safe_json.JSONLimitError as exc:
        raise CheckpointError(f"{path}: damaged header: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != MAGIC:
        raise CheckpointError(f"{path} is not a Backprop Studio checkpoint")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {doc.get('version')} is not supported")
    if not isinstance(doc.get("state"), dict):
        raise CheckpointError(f"{path}: the checkpoint holds no state")
    return _join(doc["state"], arrays, str(path))


# what a resumable run's state holds, and the type of each entry
RUN_STATE = {"config": dict, "dataset": dict, "graph": dict, "weights": dict, "optimizer": dict,
             "schedule": dict, "epoch": int, "iteration": int, "history": list, "iteration_loss": np.ndarray,
             "best": (dict, type(None)), "bad_epochs": int, "elapsed": (int, float),
             "stopped": (dict, type(None))}


def check_run_state(state: dict, where) -> None:
    """Raise ``CheckpointError`` naming the first missing or mistyped entry of a run's state."""
    for key, kind in RUN_STATE.items():
        if key not in state:
            raise CheckpointError(f"{where}: the checkpoint has no {key!r} entry")
        value = state[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{where}: the checkpoint's {key!r} entry is a {type(value).__name__}")
    if not isinstance(state["dataset"].get("spec"), str):
        raise CheckpointError(f"{where}: the checkpoint names no dataset")
    if state["epoch"] < 0 or state["iteration"] < 0 or state["bad_epochs"] < 0:
        raise CheckpointError(f"{where}: negative epoch or iteration counts")


def check_weights(graph, weights, where) -> dict:
    """Weights ``{node id: {name: array}}`` that fit ``graph``: every id, name, shape checked.

    A weight that does not fit would be silently re-initialised by the engine and the
    trained values lost, so it is an error here. Returns float64 copies.
    """
    if not isinstance(weights, dict):
        raise CheckpointError(f"{where}: the weights entry is a {type(weights).__name__}, not a mapping")
    out = {}
    for id, tensors in weights.items():
        if not graph.has_node(id):
            raise CheckpointError(f"{where}: weights for node {id!r}, which the graph does not have")
        if not isinstance(tensors, dict):
            raise CheckpointError(f"{where}: node {id!r}: weights are a {type(tensors).__name__}")
        node = graph.node(id)
        ins = graph.input_shapes(id)
        try:
            expected = node.op.param_shapes(*ins) if ins is not None else {}
        except ShapeError:
            expected = {}
        allowed = set(node.op.learnable) | set(node.op.buffers)
        out[id] = {}
        for name, arr in tensors.items():
            if name not in allowed:
                raise CheckpointError(f"{where}: node {id!r} ({node.type}) has no weight {name!r}")
            if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
                raise CheckpointError(f"{where}: node {id!r}: weight {name!r} is not a numeric array")
            want = expected.get(name)
            if want is not None and None not in want and tuple(want) != arr.shape:
                raise CheckpointError(f"{where}: node {id!r}: weight {name!r} has shape {arr.shape} but "
                                      f"{node.type} needs {tuple(want)} in this graph")
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                raise CheckpointError(f"{where}: node {id!r}: weight {name!r} holds NaN or Inf")
            out[id][name] = np.asarray(arr, dtype=np.float64)
    return out


def check_optimizer_slots(optimizer, graph, where) -> None:
    """Optimizer slots (momentum, Adam's m and v) must match their weight's shape."""
    for key, slots in optimizer.state.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
            raise CheckpointError(f"{where}: optimizer state for an unknown tensor {key!r}")
        id, name = key
        if not graph.has_node(id):
            raise CheckpointError(f"{where}: optimizer state for node {id!r}, which the graph does not have")
        weight = graph.node(id).weights.get(name)
        for slot, arr in slots.items():
            if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
                raise CheckpointError(f"{where}: optimizer slot {slot!r} of {id}.{name} is not a numeric array")
            if weight is not None and arr.shape != weight.shape:
                raise CheckpointError(f"{where}: optimizer slot {slot!r} of {id}.{name} has shape {arr.shape}, "
                                      f"the weight {weight.shape}")
