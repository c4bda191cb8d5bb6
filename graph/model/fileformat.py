"""Saving and loading graphs as versioned JSON, weights included bit for bit.

A file is one JSON object::

    {"format": "backprop-studio-graph", "version": 1,
     "nodes": [{"id": "conv1", "type": "Conv2D", "params": {...}, "position": [x, y],
                "label": "", "weights": {"W": {"dtype": "<f8", "shape": [30, 1, 5, 5],
                                               "data": "<base64>"}}}, ...],
     "edges": [{"src": "x", "src_port": "out", "dst": "conv1", "dst_port": "x"}, ...],
     "meta": {...}}

Weights are the raw little-endian float64 bytes of the C-ordered array, base64-encoded,
so a round trip is lossless. ``meta`` is optional free-form JSON (the GUI keeps view and
training settings there). Any problem while loading raises :class:`GraphFileError` naming
the file and the place (``apple.json: node 'conv1': unknown op type 'Conv3D' ...``); the
graph is built in a fresh :class:`Graph` and returned only when everything succeeded.
"""
from __future__ import annotations

import base64
import binascii
import copy
import gc
import json
import math
import os
from contextlib import contextmanager
from typing import Any

import numpy as np

from layers import ShapeError, UnknownOpError, get_op_class
from layers.base import ParamError, fmt_shape

from graph.model import safe_json
from graph.model.atomic_write import atomic_write_text
from graph.model.errors import GraphError
from graph.model.limits import Limits, LimitError, check_bytes, count_elements, current
from graph.model.graph import Graph

FORMAT = "backprop-studio-graph"
VERSION = 1
WEIGHT_DTYPE = "<f8"
MAX_POSITION = 1e9   # canvas coordinates; beyond this Qt's scene arithmetic loses precision


class GraphFileError(GraphError):
    """A graph file (or clipboard document) cannot be read; the message says what and where."""


# -- writing -------------------------------------------------------------------------
def encode_array(arr: np.ndarray) -> dict:
    """``{"dtype": "<f8", "shape": [...], "data": base64}`` for a float64 array (any shape)."""
    a = np.ascontiguousarray(np.asarray(arr, dtype=WEIGHT_DTYPE))
    return {"dtype": WEIGHT_DTYPE, "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode("ascii")}


def graph_to_dict(g: Graph, node_ids: list[str] | None = None, meta: dict | None = None) -> dict:
    """The JSON-ready document for ``g`` (or only ``node_ids`` and the edges between them).

    The subset form is what the editor puts on the clipboard.
    """
    keep = list(g.nodes()) if node_ids is None else [n for n in g.nodes() if n in set(node_ids)]
    kept = set(keep)
    nodes = []
    for id in keep:
        n = g.node(id)
        nodes.append({
            "id": n.id,
            "type": n.type,
            "params": copy.deepcopy(n.params),   # the document must not share lists with the graph
            "position": [float(n.position[0]), float(n.position[1])],
            "label": n.label,
            "weights": {name: encode_array(w) for name, w in n.weights.items()},
        })
    edges = [{"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
             for e in g.edges() if e.src in kept and e.dst in kept]
    doc = {"format": FORMAT, "version": VERSION, "nodes": nodes, "edges": edges}
    if meta:
        doc["meta"] = meta
    return doc


def save_graph(g: Graph, path, meta: dict | None = None) -> None:
    """Write ``g`` to ``path`` atomically (see :mod:`graph.model.atomic_write`).

    A crash or error mid-write leaves the previous file untouched and no temporary file
    behind; a symlink is followed; a new file honours the umask, an old one keeps its mode.
    """
    doc = graph_to_dict(g, meta=meta)

    def write(f) -> None:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")

    atomic_write_text(path, write)


# -- reading -------------------------------------------------------------------------
def load_graph(path) -> Graph:
    """Read a graph file; raise :class:`GraphFileError` for anything malformed.

    A missing file raises ``FileNotFoundError`` (the CLI reports it in one line).
    """
    return read_document(path)[0]


def read_document(path, limits: Limits | None = None) -> tuple[Graph, dict]:
    """``(graph, meta)`` from a graph file (``meta`` is ``{}`` when the file has none).

    Size, nesting depth and numbers are checked before anything is parsed or built
    (:mod:`graph.model.limits`); every problem is a :class:`GraphFileError`.
    """
    where = os.fspath(path)
    lim = limits or current()
    with open(where, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            check_bytes(size, "the file", lim)
        except LimitError as exc:
            raise GraphFileError(f"{where}: {exc}") from None
        raw = f.read(lim.max_file_bytes + 1)
    # the cyclic garbage collector would rescan the growing document and graph again and
    # again (a third of the time of a 10 MB load); nothing here builds reference cycles
    with _gc_paused():
        try:
            doc = safe_json.loads(raw, lim)
        except safe_json.JSONLimitError as exc:
            raise GraphFileError(f"{where}: {exc}") from None
        return _from_dict(doc, where, lim)


@contextmanager
def _gc_paused():
    """Disable the cyclic GC for the block (restored after, also on errors)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def graph_from_dict(doc: Any, source: str = "graph") -> Graph:
    """Build a new graph from a document made by :func:`graph_to_dict`.

    ``source`` prefixes error messages (a file name, ``"clipboard"``...).
    """
    return _from_dict(doc, source)[0]


class _Where:
    """Builds ``"file: node 'x': ..."`` messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, place: str, msg: str):
        prefix = f"{self.source}: {place}: " if place else f"{self.source}: "
        return GraphFileError(prefix + msg)


def _require(doc: dict, key: str, kind, where: _Where, place: str, what: str) -> Any:
    if key not in doc:
        raise where.fail(place, f"missing key {key!r}")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise where.fail(place, f"{key!r} must be {what}, got {_kind(value)}")
    return value


_RESERVED = frozenset({"type", "id", "position", "label", "weights"})


def _coordinate(v: Any) -> bool:
    """A finite canvas coordinate within +-MAX_POSITION (not a bool)."""
    return (type(v) is float or type(v) is int) and math.isfinite(v) and -MAX_POSITION <= v <= MAX_POSITION


def _show(value: Any) -> str:
    """At most 60 characters of ``value`` as JSON (``repr`` for what JSON cannot hold)."""
    try:
        return json.dumps(value, default=repr)[:60]
    except (ValueError, RecursionError):
        return repr(value)[:60]


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _from_dict(doc: Any, source: str, limits: Limits | None = None) -> tuple[Graph, dict]:
    w = _Where(source)
    lim = limits or current()
    if not isinstance(doc, dict):
        raise w.fail("", f"expected a JSON object at the top level, got {_kind(doc)}")
    fmt = _require(doc, "format", str, w, "", "a string")
    if fmt != FORMAT:
        raise w.fail("", f"not a Backprop Studio graph (format is {fmt!r}, expected {FORMAT!r})")
    version = _require(doc, "version", int, w, "", "a whole number")
    if version != VERSION:
        newer = " by a newer Backprop Studio" if version > VERSION else ""
        raise w.fail("", f"unsupported version {version} (written{newer}; this program reads version {VERSION})")
    nodes = _require(doc, "nodes", list, w, "", "a list")
    edges = _require(doc, "edges", list, w, "", "a list")
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise w.fail("", f"'meta' must be an object, got {_kind(meta)}")
    g = Graph()
    for i, nd in enumerate(nodes):
        _add_node(g, nd, i, w, lim)
    links = [_edge_tuple(g, ed, i, w) for i, ed in enumerate(edges)]
    try:
        # saved work in progress may have shape errors the editor shows; keep them. One
        # acyclicity check for the whole file: a check per edge made loading quadratic
        g.connect_many(links)
    except GraphError as exc:
        index = getattr(exc, "index", None)
        raise w.fail("edges" if index is None else f"edges[{index}]", str(exc)) from None
    _check_sizes(g, w, lim)
    _check_weight_shapes(g, w)
    return g, meta


def _add_node(g: Graph, nd: Any, i: int, w: _Where, lim: Limits) -> None:
    place = f"nodes[{i}]"
    if not isinstance(nd, dict):
        raise w.fail(place, f"expected an object, got {_kind(nd)}")
    id = _require(nd, "id", str, w, place, "a string")
    place = f"node {id!r}"
    type_name = _require(nd, "type", str, w, place, "a string")
    params = _require(nd, "params", dict, w, place, "an object")
    position = nd.get("position", [0.0, 0.0])
    if not isinstance(position, list) or len(position) != 2 or not (
            _coordinate(position[0]) and _coordinate(position[1])):
        raise w.fail(place, f"'position' must be a list of two finite numbers (within +-{MAX_POSITION:g}), "
                            f"got {_show(position)}")
    label = nd.get("label", "")
    if not isinstance(label, str):
        raise w.fail(place, f"'label' must be a string, got {_kind(label)}")
    raw_weights = nd.get("weights", {})
    if not isinstance(raw_weights, dict):
        raise w.fail(place, f"'weights' must be an object, got {_kind(raw_weights)}")
    try:
        get_op_class(type_name)
    except UnknownOpError as exc:
        raise w.fail(place, str(exc)) from None
    clash = _RESERVED.intersection(params)
    if clash:
        raise w.fail(place, f"{type_name} has no parameter {', '.join(sorted(clash))}")
    _check_numbers(params, w, place, lim)
    try:
        g.add_node(type_name, id=id, position=position, label=label, **params)
    except (GraphError, ParamError, ShapeError, TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise w.fail(place, str(exc) or type(exc).__name__) from None
    if not raw_weights:
        return
    node = g.node(id)
    # an instance's learnable names can depend on its config (Affine without bias has no b)
    allowed = set(node.op.learnable) | set(node.op.buffers)
    for name, enc in raw_weights.items():
        if name not in allowed:
            have = ", ".join(sorted(allowed)) or "none"
            raise w.fail(place, f"{type_name} has no weight {name!r} (it has: {have})")
        node.weights[name] = _decode_array(enc, w, f"{place}: weight {name!r}", lim)


def _decode_array(enc: Any, w: _Where, place: str, lim: Limits) -> np.ndarray:
    if not isinstance(enc, dict):
        raise w.fail(place, f"expected an object with dtype, shape and data, got {_kind(enc)}")
    dtype = _require(enc, "dtype", str, w, place, "a string")
    if dtype != WEIGHT_DTYPE:
        raise w.fail(place, f"unsupported dtype {dtype!r} "
                            f"(weights are stored as {WEIGHT_DTYPE!r}, little-endian float64)")
    shape = _require(enc, "shape", list, w, place, "a list")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise w.fail(place, f"'shape' must be a list of non-negative whole numbers, got {_show(shape)}")
    try:
        count = count_elements(shape, "'shape'", lim)
    except LimitError as exc:
        raise w.fail(place, str(exc)) from None
    data = _require(enc, "data", str, w, place, "a base64 string")
    if len(data) > 4 * -(-count * 8 // 3):   # never decode more than the shape can hold
        held = len(data) * 3 // 4 - len(data) + len(data.rstrip("="))
        raise w.fail(place, f"shape {fmt_shape(shape)} needs {count} float64 values ({count * 8} bytes) "
                            f"but 'data' holds {held} bytes")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise w.fail(place, f"'data' is not valid base64 ({exc})") from None
    if len(raw) != count * 8:
        raise w.fail(place, f"shape {fmt_shape(shape)} needs {count} float64 values ({count * 8} bytes) "
                            f"but 'data' holds {len(raw)} bytes")
    arr = np.frombuffer(raw, dtype=WEIGHT_DTYPE).reshape(shape).astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise w.fail(place, "holds NaN or infinite values")
    return arr


def _edge_tuple(g: Graph, ed: Any, i: int, w: _Where) -> tuple[str, str, str, str]:
    """``(src, src_port, dst, dst_port)`` of ``edges[i]``, its fields and nodes checked."""
    place = f"edges[{i}]"
    if not isinstance(ed, dict):
        raise w.fail(place, f"expected an object, got {_kind(ed)}")
    src = _require(ed, "src", str, w, place, "a string")
    dst = _require(ed, "dst", str, w, place, "a string")
    src_port = _require(ed, "src_port", str, w, place, "a string") if "src_port" in ed else "out"
    dst_port = _require(ed, "dst_port", str, w, place, "a string")
    for end, id in (("src", src), ("dst", dst)):
        if not g.has_node(id):
            raise w.fail(place, f"{end} {id!r} is not a node in this file")
    return src, src_port, dst, dst_port


def _check_numbers(value: Any, w: _Where, place: str, lim: Limits, depth: int = 0) -> None:
    """Numbers in ``params`` are finite and their integers short (documents built in Python
    too, e.g. the clipboard); nesting is bounded."""
    if depth > lim.max_depth:
        raise w.fail(place, f"parameters nested deeper than {lim.max_depth} levels")
    if isinstance(value, dict):
        for v in value.values():
            _check_numbers(v, w, place, lim, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_numbers(v, w, place, lim, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise w.fail(place, f"parameter value {value} is not a finite number")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** lim.max_int_digits:
        raise w.fail(place, f"parameter value with {len(str(abs(value)))} digits is out of range")


def _check_sizes(g: Graph, w: _Where, lim: Limits) -> None:
    """Every declared tensor (output and weight shapes, batch axis 1) is within the limit,
    so nothing sized by the file can be allocated before the user sees a message."""
    shapes, _ = g.infer_shapes()
    fine: set = set()   # shapes already within the limit (a long chain repeats one shape)
    for id in g.nodes():
        node = g.node(id)
        try:
            if id in shapes and shapes[id] not in fine:
                count_elements(shapes[id], f"output of {node.type}", lim)
                fine.add(shapes[id])
            ins = g.input_shapes(id) if node.op.learnable or node.op.buffers else None
            if ins is not None:
                try:
                    expected = node.op.param_shapes(*ins)
                except ShapeError:
                    expected = {}
                for name, shape in expected.items():
                    count_elements([d for d in shape if d is not None], f"weight {name!r}", lim)
        except LimitError as exc:
            raise w.fail(f"node {id!r}", str(exc)) from None


def _check_weight_shapes(g: Graph, w: _Where) -> None:
    """Stored weights must fit the op where the graph's shapes are known.

    Otherwise the engine would silently re-initialise them and trained weights would be lost.
    """
    for id in g.nodes():
        node = g.node(id)
        if not node.weights:
            continue
        ins = g.input_shapes(id)
        if ins is None:
            continue
        try:
            expected = node.op.param_shapes(*ins)
        except ShapeError:
            continue
        for name, arr in node.weights.items():
            want = expected.get(name)
            if want is not None and None not in want and tuple(want) != arr.shape:
                raise w.fail(f"node {id!r}", f"weight {name!r} has shape {fmt_shape(arr.shape)} "
                                             f"but {node.type} expects {fmt_shape(tuple(want))} here")
