"""Graph files from untrusted sources: every hostile file is one GraphFileError naming file and place."""
from __future__ import annotations

import copy
import json

import networkx as nx
import pytest

from graph import GraphFileError, graph_to_dict, load_graph, templates
from graph.model import limits
from graph.model.safe_json import max_depth


@pytest.fixture
def base():
    return graph_to_dict(templates.build("two_layer_net"))


def write(tmp_path, doc_or_text, name="g.json"):
    path = tmp_path / name
    path.write_text(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))
    return path


def load_error(path) -> str:
    with pytest.raises(GraphFileError) as info:
        load_graph(path)
    text = str(info.value)
    assert text.startswith(str(path) + ": ")
    return text


def test_deep_nesting_is_refused_without_recursion(tmp_path, base):
    assert "100000 levels deep" in load_error(write(tmp_path, "[" * 100000 + "]" * 100000))
    text = json.dumps(base)[:-1] + ', "meta": ' + '{"a":' * 2000 + "1" + "}" * 2000 + "}"
    assert "levels deep" in load_error(write(tmp_path, text))


@pytest.mark.parametrize("bad, word", [("Infinity", "Infinity"), ("NaN", "NaN"), ("1e400", "out of range"),
                                       ("9" * 5000, "digits"), ("1" + "0" * 400, "digits")])
def test_numbers_must_be_finite_and_short(tmp_path, base, bad, word):
    text = json.dumps(base).replace('"std": 0.01', f'"std": {bad}', 1)
    assert word in load_error(write(tmp_path, text))
    text = json.dumps(base).replace('"position": [', f'"position": [{bad}, ', 1)
    assert word in load_error(write(tmp_path, text))


def test_numbers_in_documents_built_in_python_are_checked_too(base):
    from graph import graph_from_dict
    doc = copy.deepcopy(base)
    doc["nodes"][2]["params"]["std"] = float("inf")
    with pytest.raises(GraphFileError, match="clipboard: node 'affine1': .*not a finite"):
        graph_from_dict(doc, "clipboard")
    doc["nodes"][2]["params"]["std"] = 10 ** 400
    with pytest.raises(GraphFileError, match="out of range"):
        graph_from_dict(doc, "clipboard")


@pytest.mark.parametrize("shape", [[2 ** 32, 2 ** 32], [2 ** 62, 4], [10 ** 18]])
def test_weight_shapes_that_overflow_are_refused_before_decoding(tmp_path, base, shape):
    base["nodes"][2]["weights"] = {"W": {"dtype": "<f8", "shape": shape, "data": ""}}
    text = load_error(write(tmp_path, base))
    assert "node 'affine1': weight 'W'" in text and "limit" in text and "-" not in text.split("values")[0][-3:]


def test_declared_sizes_are_checked_against_the_limit(tmp_path, base, monkeypatch):
    doc = copy.deepcopy(base)
    doc["nodes"][0]["params"]["shape"] = [None, 10 ** 18]
    assert "node 'x'" in load_error(write(tmp_path, doc, "input.json"))
    doc = copy.deepcopy(base)
    doc["nodes"][2]["params"]["out_features"] = 2_000_000      # 784 x 2M = 11.7 GiB of weights
    path = write(tmp_path, doc, "affine.json")
    assert "--max-elements" in load_error(path)
    monkeypatch.setenv("BACKPROP_STUDIO_MAX_ELEMENTS", str(2 * 10 ** 9))
    assert len(load_graph(path)) == 6
    monkeypatch.delenv("BACKPROP_STUDIO_MAX_ELEMENTS")
    limits.override(max_elements=10)
    try:
        assert "limit" in load_error(write(tmp_path, base, "small.json"))
    finally:
        limits.override(max_elements=None)


def test_file_size_limit(tmp_path, base):
    path = write(tmp_path, base)
    limits.override(max_file_bytes=100)
    try:
        assert "--max-file-bytes" in load_error(path)
    finally:
        limits.override(max_file_bytes=None)


def test_depth_scan_ignores_brackets_in_strings():
    assert max_depth(b'{"a": "[[[[[[", "b": [1, "\\"[["]}') == 2
    assert max_depth(b"") == 0


def chain(n: int, reverse: bool) -> dict:
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [None, 2]}}]
    nodes += [{"id": f"r{i}", "type": "ReLU", "params": {}} for i in range(1, n)]
    edges = [{"src": "x" if i == 1 else f"r{i - 1}", "dst": f"r{i}", "dst_port": "x"} for i in range(1, n)]
    return {"format": "backprop-studio-graph", "version": 1, "nodes": nodes,
            "edges": edges[::-1] if reverse else edges}


def test_loading_checks_acyclicity_once_not_per_edge(tmp_path, monkeypatch):
    calls = []
    real = nx.has_path
    monkeypatch.setattr(nx, "has_path", lambda *a: calls.append(a) or real(*a))
    g = load_graph(write(tmp_path, chain(300, reverse=True)))
    assert len(g) == 300 and calls == [] and g.topo_order()[-1] == "r299"


def test_a_cycle_in_a_file_is_still_reported(tmp_path):
    doc = {"format": "backprop-studio-graph", "version": 1,
           "nodes": [{"id": "a", "type": "Add", "params": {}}, {"id": "b", "type": "ReLU", "params": {}}],
           "edges": [{"src": "a", "dst": "b", "dst_port": "x"}, {"src": "b", "dst": "a", "dst_port": "a"}]}
    assert "cycle" in load_error(write(tmp_path, doc))


@pytest.mark.parametrize("text", ["[" * 100000, '{"format": "backprop-studio-graph", "version": 1, "nodes": '
                                  '[{"id": "c", "type": "Constant", "params": {"value": 1e400}}], "edges": []}'])
def test_cli_prints_one_line_and_exits_2(tmp_path, capsys, text):
    from graph.cli.main import main
    path = write(tmp_path, text)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


def test_feed_files_are_read_without_pickle_advice(tmp_path, capsys):
    from graph.cli.main import main
    (tmp_path / "bad.npy").write_bytes(b"\x80\x04garbage-pickle")
    assert main(["run", "two_layer_net", "--feed", f"x={tmp_path / 'bad.npy'}"]) == 2
    err = capsys.readouterr().err
    assert "bad.npy" in err and "allow_pickle" not in err and err.count("\n") == 1
