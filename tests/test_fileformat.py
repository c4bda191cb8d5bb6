"""The graph file format: lossless round trips, one error type with its place, atomic saves."""
from __future__ import annotations

import base64
import copy
import json
import os
import re

import numpy as np
import pytest

import graph.model.fileformat as ff
from graph import Engine, GraphError, GraphFileError, graph_from_dict, graph_to_dict, load_graph, save_graph, templates
from graph.model.fileformat import read_document


def trained_like(name: str):
    """A template whose weights exist (initialised by an engine) and were changed a little."""
    g = templates.build(name)
    eng = Engine(g, seed=3)
    for id, tensor in eng.learnables():
        eng.set_param(id, tensor, eng.param(id, tensor) + np.pi / 7)
    return g


def assert_same_graph(a, b):
    assert a.nodes() == b.nodes()
    assert sorted(a.edges()) == sorted(b.edges())
    for id in a.nodes():
        na, nb = a.node(id), b.node(id)
        assert (na.type, na.params, na.position, na.label) == (nb.type, nb.params, nb.position, nb.label), id
        assert sorted(na.weights) == sorted(nb.weights), id
        for name, w in na.weights.items():
            assert w.dtype == nb.weights[name].dtype == np.float64
            assert w.shape == nb.weights[name].shape
            assert w.tobytes() == nb.weights[name].tobytes(), (id, name)   # bitwise


@pytest.mark.parametrize("name", templates.names())
def test_round_trip_every_template(name, tmp_path):
    g = trained_like(name)
    g.set_position(g.nodes()[0], (12.375, -0.1))
    path = tmp_path / f"{name}.json"
    save_graph(g, path)
    g2 = load_graph(path)
    assert_same_graph(g, g2)
    # saving the loaded graph again gives the same bytes
    path2 = tmp_path / "again.json"
    save_graph(g2, path2)
    assert path.read_bytes() == path2.read_bytes()


def test_round_trip_gives_the_same_numbers(tmp_path):
    g = trained_like("two_layer_net")
    save_graph(g, tmp_path / "net.json")
    x = np.random.default_rng(0).standard_normal((3, 784))
    feeds = {"x": x, "t": np.array([1, 2, 3])}
    a, b = Engine(g), Engine(load_graph(tmp_path / "net.json"))
    a.forward(feeds)
    b.forward(feeds)
    assert a.loss() == b.loss()


def test_document_shape():
    doc = graph_to_dict(templates.build("apple"))
    assert doc["format"] == "backprop-studio-graph" and doc["version"] == 1
    assert [n["id"] for n in doc["nodes"]] == ["apple", "apple_num", "mul_apple", "tax", "mul_tax"]
    assert {"src": "tax", "src_port": "out", "dst": "mul_tax", "dst_port": "b"} in doc["edges"]
    json.dumps(doc, allow_nan=False)
    w = ff.encode_array(np.arange(6.0).reshape(2, 3))
    assert w["dtype"] == "<f8" and w["shape"] == [2, 3]
    assert base64.b64decode(w["data"]) == np.arange(6.0, dtype="<f8").tobytes()


def test_subset_for_the_clipboard():
    g = templates.build("apple_orange")
    doc = graph_to_dict(g, node_ids=["apple", "apple_num", "mul_apple", "tax"])
    assert [n["id"] for n in doc["nodes"]] == ["apple", "apple_num", "mul_apple", "tax"]
    assert len(doc["edges"]) == 2
    frag = graph_from_dict(json.loads(json.dumps(doc)), "clipboard")
    assert sorted(frag.edges()) == sorted(e for e in g.edges() if e.dst == "mul_apple")


def test_meta_round_trip(tmp_path):
    save_graph(templates.build("apple"), tmp_path / "a.json", meta={"view": {"zoom": 1.5}})
    g, meta = read_document(tmp_path / "a.json")
    assert meta == {"view": {"zoom": 1.5}} and len(g) == 5
    assert read_document(save_and_path(tmp_path))[1] == {}


def save_and_path(tmp_path):
    p = tmp_path / "plain.json"
    save_graph(templates.build("apple"), p)
    return p


def test_graph_from_dict_does_not_modify_the_document():
    doc = graph_to_dict(trained_like("two_layer_net"))
    before = copy.deepcopy(doc)
    graph_from_dict(doc)
    assert doc == before


# -- malformed files ------------------------------------------------------------------------
def good_doc() -> dict:
    return json.loads(json.dumps(graph_to_dict(trained_like("simple_convnet"))))


def node_of(doc, id):
    return next(n for n in doc["nodes"] if n["id"] == id)


def broken(change):
    def make():
        doc = good_doc()
        return change(doc) or doc
    return make


def _set(path_fn, key, value):
    def change(doc):
        path_fn(doc)[key] = value
    return change


def _del(path_fn, key):
    def change(doc):
        del path_fn(doc)[key]
    return change


TOP = lambda d: d  # noqa: E731 - tiny selectors keep the table below readable
CONV = lambda d: node_of(d, "conv1")  # noqa: E731
CONV_W = lambda d: node_of(d, "conv1")["weights"]["W"]  # noqa: E731
EDGE2 = lambda d: d["edges"][2]  # noqa: E731

MALFORMED = [
    ("not an object", lambda: [1, 2], "F: expected a JSON object at the top level, got a list"),
    ("missing format", broken(_del(TOP, "format")), "F: missing key 'format'"),
    ("other format", broken(_set(TOP, "format", "keras")),
     "F: not a Backprop Studio graph (format is 'keras', expected 'backprop-studio-graph')"),
    ("newer version", broken(_set(TOP, "version", 2)),
     "F: unsupported version 2 (written by a newer Backprop Studio; this program reads version 1)"),
    ("version string", broken(_set(TOP, "version", "1")), "F: 'version' must be a whole number, got a string"),
    ("nodes not list", broken(_set(TOP, "nodes", {})), "F: 'nodes' must be a list, got an object"),
    ("missing edges", broken(_del(TOP, "edges")), "F: missing key 'edges'"),
    ("meta not object", broken(_set(TOP, "meta", 3)), "F: 'meta' must be an object, got a number"),
    ("node not object", broken(lambda d: d["nodes"].append("x")), "F: nodes[9]: expected an object, got a string"),
    ("node without id", broken(_del(CONV, "id")), "F: nodes[2]: missing key 'id'"),
    ("id not string", broken(_set(CONV, "id", 7)), "F: nodes[2]: 'id' must be a string, got a number"),
    ("missing type", broken(_del(CONV, "type")), "F: node 'conv1': missing key 'type'"),
    ("unknown op", broken(_set(CONV, "type", "Conv3D")), "F: node 'conv1': unknown op type 'Conv3D' (known: "),
    ("params not object", broken(_set(CONV, "params", [])), "F: node 'conv1': 'params' must be an object, got a list"),
    ("bad param", broken(lambda d: CONV(d)["params"].update(stride=0)), "F: node 'conv1': stride must be >= 1, got 0"),
    ("unknown param", broken(lambda d: CONV(d)["params"].update(filters=3)),
     "F: node 'conv1': Conv2D has no parameter filters (it has: out_channels"),
    ("reserved param", broken(lambda d: CONV(d)["params"].update(position=3)),
     "F: node 'conv1': Conv2D has no parameter position"),
    ("duplicate id", broken(lambda d: d["nodes"].append(dict(CONV(d)))),
     "F: node 'conv1': a node with id 'conv1' already exists"),
    ("bad id", broken(lambda d: CONV(d).update(id="1conv")), "F: node '1conv': invalid node id '1conv'"),
    ("bad position", broken(_set(CONV, "position", [1, "a"])),
     "F: node 'conv1': 'position' must be a list of two finite numbers (within +-1e+09), got [1, \"a\"]"),
    ("label not string", broken(_set(CONV, "label", None)), "F: node 'conv1': 'label' must be a string, got null"),
    ("weights not object", broken(_set(CONV, "weights", [])),
     "F: node 'conv1': 'weights' must be an object, got a list"),
    ("unknown weight", broken(lambda d: CONV(d)["weights"].update(gamma=CONV_W(d))),
     "F: node 'conv1': Conv2D has no weight 'gamma' (it has: W, b)"),
    ("weight not object", broken(lambda d: CONV(d)["weights"].update(W=[1, 2])),
     "F: node 'conv1': weight 'W': expected an object with dtype, shape and data, got a list"),
    ("weight without data", broken(_del(CONV_W, "data")), "F: node 'conv1': weight 'W': missing key 'data'"),
    ("weight dtype", broken(_set(CONV_W, "dtype", "<f4")),
     "F: node 'conv1': weight 'W': unsupported dtype '<f4' (weights are stored as '<f8', little-endian float64)"),
    ("weight shape type", broken(_set(CONV_W, "shape", [30, -1])),
     "F: node 'conv1': weight 'W': 'shape' must be a list of non-negative whole numbers, got [30, -1]"),
    ("bad base64", broken(_set(CONV_W, "data", "@@not base64@@")),
     "F: node 'conv1': weight 'W': 'data' is not valid base64"),
    ("byte count", broken(_set(CONV_W, "shape", [30, 1, 5, 4])),
     "F: node 'conv1': weight 'W': shape (30, 1, 5, 4) needs 600 float64 values (4800 bytes) "
     "but 'data' holds 6000 bytes"),
    ("non-finite weight", broken(_set(CONV_W, "data", base64.b64encode(np.full(750, np.nan).tobytes()).decode())),
     "F: node 'conv1': weight 'W': holds NaN or infinite values"),
    ("weight shape vs op", broken(lambda d: CONV(d)["params"].update(kernel_size=3)),
     "F: node 'conv1': weight 'W' has shape (30, 1, 5, 5) but Conv2D expects (30, 1, 3, 3) here"),
    ("edge not object", broken(lambda d: d["edges"].__setitem__(2, 5)),
     "F: edges[2]: expected an object, got a number"),
    ("edge unknown node", broken(_set(EDGE2, "src", "ghost")), "F: edges[2]: src 'ghost' is not a node in this file"),
    ("edge missing dst_port", broken(_del(EDGE2, "dst_port")), "F: edges[2]: missing key 'dst_port'"),
    ("edge unknown port", broken(_set(EDGE2, "dst_port", "z")),
     "F: edges[2]: relu1 (ReLU) has no input port 'z' (it has x)"),
    ("edge fed twice", broken(lambda d: d["edges"].append(dict(d["edges"][2]))),
     "F: edges[8]: input relu1.x is already fed by conv1"),
]


@pytest.mark.parametrize("doc_fn, expected", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_documents(doc_fn, expected, tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc_fn()))
    with pytest.raises(GraphFileError) as info:
        load_graph(path)
    assert str(info.value).startswith(expected.replace("F: ", f"{path}: ", 1))
    assert isinstance(info.value, GraphError)


def test_cycle_in_file(tmp_path):
    doc = graph_to_dict(templates.build("apple"))
    doc["edges"].append({"src": "mul_tax", "src_port": "out", "dst": "apple", "dst_port": "x"})
    with pytest.raises(GraphFileError, match=r"clip: edges\[4\]: apple \(Constant\) has no input ports"):
        graph_from_dict(doc, "clip")
    g = templates.build("apple")
    g.add_node("Add", id="add")
    doc = graph_to_dict(g)
    doc["edges"] += [{"src": "mul_tax", "dst": "add", "dst_port": "a"},
                     {"src": "add", "dst": "mul_apple", "dst_port": "c"}]
    with pytest.raises(GraphFileError, match=r"clip: edges\[5\]: mul_apple \(Mul\) has no input port 'c'"):
        graph_from_dict(doc, "clip")
    doc["edges"][-1] = {"src": "add", "dst": "add", "dst_port": "b"}
    with pytest.raises(GraphFileError, match=r"clip: edges\[5\]: connecting add -> add would make a cycle"):
        graph_from_dict(doc, "clip")


def test_not_json_and_not_utf8(tmp_path):
    p = tmp_path / "apple.json"
    p.write_text('{"format": "backprop-studio-graph", ')
    where = re.escape(str(p))
    with pytest.raises(GraphFileError, match=rf"^{where}: not valid JSON: Expecting property name enclosed in "
                                             r"double quotes \(line 1, column 37\)"):
        load_graph(p)
    p.write_bytes(b"\xff\xfe{}")
    with pytest.raises(GraphFileError, match=rf"^{where}: not a UTF-8 text file"):
        load_graph(p)


def test_shape_errors_are_kept_as_work_in_progress(tmp_path):
    g = templates.build("simple_convnet")
    g.set_params("conv1", kernel_size=29)      # no longer fits 28×28: the editor shows the error
    save_graph(g, tmp_path / "wip.json")
    g2 = load_graph(tmp_path / "wip.json")
    assert "conv1" in g2.infer_shapes()[1]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_graph(tmp_path / "nope.json")


# -- atomic saving --------------------------------------------------------------------------
def leftovers(folder) -> list[str]:
    return sorted(p for p in os.listdir(folder) if p != "net.json")


@pytest.mark.parametrize("target", ["dump", "replace", "fsync"])
def test_failed_save_keeps_the_old_file(target, tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    save_graph(templates.build("apple"), path)
    old = path.read_bytes()

    def boom(*args, **kwargs):
        if target == "dump":
            args[1].write('{"format": "backprop-studio-graph", "nodes": [')   # half a document
        raise OSError("disk full")

    patch = {"dump": (json, "dump"), "replace": (os, "replace"), "fsync": (os, "fsync")}[target]
    monkeypatch.setattr(*patch, boom)
    with pytest.raises(OSError, match="disk full"):
        save_graph(trained_like("two_layer_net"), path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert leftovers(tmp_path) == []
    assert len(load_graph(path)) == 5


def test_save_creates_a_readable_file(tmp_path):
    path = tmp_path / "net.json"
    save_graph(templates.build("apple"), str(path))
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    os.chmod(path, 0o600)
    save_graph(templates.build("apple"), path)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert leftovers(tmp_path) == []


# -- audit fixes ------------------------------------------------------------------------------
def test_save_into_a_missing_folder_names_the_target_not_the_temp_file(tmp_path):
    target = tmp_path / "nope" / "g.json"
    with pytest.raises(OSError) as info:
        save_graph(templates.build("apple"), target)
    text = str(info.value)
    assert str(target) in text and str(tmp_path / "nope") in text and "does not exist" in text
    assert ".tmp" not in text and info.value.filename == str(target)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_save_into_a_read_only_folder_names_the_target(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            save_graph(templates.build("apple"), folder / "g.json")
    finally:
        folder.chmod(0o700)
    assert info.value.filename == str(folder / "g.json") and "not writable" in str(info.value)
