"""The graph model without an engine: typed errors and their messages, shapes, parameter counts."""
from __future__ import annotations

import re

import numpy as np
import pytest

from graph import (
    CycleError, DuplicateNodeError, Engine, Graph, GraphError, GraphShapeError, MissingInputError,
    PortAlreadyFedError, UnknownNodeError, UnknownPortError, templates,
)
from layers import ParamError


def chain() -> Graph:
    """a -> relu1 -> relu2 (a is an Input (N, 4))."""
    g = Graph()
    g.add_node("Input", id="a", shape=[None, 4])
    g.add_node("ReLU", id="relu1")
    g.add_node("ReLU", id="relu2")
    g.connect("a", "relu1")
    g.connect("relu1", "relu2")
    return g


def test_cycle():
    g = chain()
    g.add_node("Add", id="add")
    g.connect("relu2", "add")
    g.disconnect("relu1", "x")
    with pytest.raises(CycleError, match=r"connecting add -> relu1 would make a cycle \(relu1 already feeds add\)"):
        g.connect("add", "relu1")
    assert g.fed_ports("relu1") == {}
    with pytest.raises(CycleError, match=r"connecting add -> add would make a cycle \(add already feeds add\)"):
        g.connect("add", "add")


def test_unknown_op():
    with pytest.raises(GraphError, match=r"unknown op type 'Conv3D' \(known: .*Conv2D"):
        Graph().add_node("Conv3D", id="c")


def test_unknown_ports():
    g = chain()
    g.add_node("Mul", id="mul")
    with pytest.raises(UnknownPortError, match=re.escape("mul (Mul) has no input port 'q' (it has a, b)")):
        g.connect("a", "mul", dst_port="q")
    with pytest.raises(UnknownPortError, match=re.escape("a (Input) has no output port 'y' (it has out)")):
        g.connect("a", "mul", src_port="y")
    with pytest.raises(UnknownPortError, match=re.escape("a (Input) has no input ports")):
        g.connect("relu2", "a")
    with pytest.raises(UnknownPortError, match="input mul.a is not connected"):
        g.disconnect("mul", "a")


def test_port_fed_twice():
    g = chain()
    g.add_node("Mul", id="mul")
    g.connect("a", "mul", "a")
    with pytest.raises(PortAlreadyFedError, match="input mul.a is already fed by a"):
        g.connect("relu1", "mul", "a")
    g.connect("relu1", "mul")            # first free port: b
    assert g.fed_ports("mul") == {"a": "a", "b": "relu1"}
    with pytest.raises(PortAlreadyFedError, match=re.escape("every input of mul (a, b) is already connected")):
        g.connect("relu2", "mul")


def test_shape_mismatch_names_both_nodes_and_shapes():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 3])
    g.add_node("Constant", id="w", value=[[1.0, 2.0], [3.0, 4.0]])
    g.add_node("MatMul", id="dot")
    g.connect("x", "dot", "a")
    with pytest.raises(GraphShapeError) as info:
        g.connect("w", "dot", "b")
    msg = str(info.value)
    assert msg.startswith("dot (MatMul) cannot take x (N, 3), w (2, 2): ")
    assert "MatMul: inner sizes differ: a (N, 3) has k = 3 but b (2, 2) has k = 2" in msg
    assert g.fed_ports("dot") == {"a": "x"}   # the rejected edge is not kept


def test_shape_error_explains_the_conv_formula():
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 1, 3, 3])
    g.add_node("Conv2D", id="conv1", out_channels=2, kernel_size=5)
    with pytest.raises(GraphShapeError, match=re.escape("conv1 (Conv2D) cannot take x (N, 1, 3, 3)")) as info:
        g.connect("x", "conv1")
    # the op's own explanation, numbers filled in (the minus sign's glyph is the op's choice)
    assert re.search(r"OH = \(H \+ 2P [−-] FH\) / S \+ 1 = \(3 \+ 0 [−-] 5\)/1 \+ 1", str(info.value))


def test_missing_input():
    g = Graph()
    g.add_node("Constant", id="c", value=2.0)
    g.add_node("Mul", id="mul")
    g.connect("c", "mul", "a")
    with pytest.raises(MissingInputError, match="mul: input b is not connected"):
        g.validate()
    with pytest.raises(MissingInputError, match="mul: input b is not connected"):
        Engine(g)
    g.add_node("ReLU", id="relu")
    g.connect("mul", "relu")
    _, errors = g.infer_shapes()
    assert str(errors["relu"]) == "relu: input mul has no shape (it has an error)"


def test_node_id_errors():
    g = chain()
    with pytest.raises(DuplicateNodeError, match="a node with id 'a' already exists"):
        g.add_node("ReLU", id="a")
    with pytest.raises(GraphError, match="invalid node id '1x'"):
        g.add_node("ReLU", id="1x")
    with pytest.raises(UnknownNodeError, match="no node 'zz' in the graph"):
        g.node("zz")
    with pytest.raises(UnknownNodeError, match="no node 'zz' in the graph"):
        g.connect("zz", "relu1")


def test_param_errors():
    g = Graph()
    with pytest.raises(ParamError, match=r"Conv2D has no parameter filters \(it has: out_channels"):
        g.add_node("Conv2D", id="c", filters=3)
    with pytest.raises(ParamError, match="out_channels must be >= 1"):
        g.add_node("Conv2D", id="c", out_channels=0)
    assert not g.has_node("c")


def test_fresh_ids():
    g = Graph()
    assert g.add_node("ReLU") == "relu"
    assert g.add_node("ReLU") == "relu_2"
    assert g.add_node("Conv2D") == "conv2d"


@pytest.mark.parametrize("name, counts, total", [
    ("two_layer_net", {"affine1": 784 * 50 + 50, "affine2": 50 * 10 + 10, "relu1": 0, "x": 0}, 39760),
    ("simple_convnet", {"conv1": 30 * 25 + 30, "affine1": 4320 * 100 + 100, "affine2": 1010, "pool1": 0}, 433890),
    ("batchnorm_mlp", {"batchnorm1": 200, "affine2": 100 * 100 + 100}, 78500 + 200 + 10100 + 200 + 1010),
])
def test_param_count(name, counts, total):
    g = templates.build(name)
    for id, n in counts.items():
        assert g.param_count(id) == n, id
    assert g.total_params() == total


def test_shape_inference_whole_graph():
    g = templates.build("simple_convnet")
    shapes, errors = g.infer_shapes()
    assert errors == {}
    assert shapes["x"] == (None, 1, 28, 28)
    assert shapes["conv1"] == (None, 30, 24, 24)
    assert shapes["pool1"] == (None, 30, 12, 12)
    assert shapes["affine1"] == (None, 100)
    assert shapes["affine2"] == (None, 10)
    assert shapes["loss"] == ()
    assert g.input_shapes("loss") == [(None, 10), (None,)]


def test_topo_order_cached_until_change():
    g = chain()
    first = g.topo_order()
    assert first == ["a", "relu1", "relu2"]
    assert g.topo_order() is first
    g.add_node("Identity", id="idn")
    assert g.topo_order() is not first and g.topo_order()[-1] == "idn"


def test_set_params_drops_stale_weights():
    g = templates.build("two_layer_net")
    Engine(g)
    assert g.node("affine2").weights["W"].shape == (50, 10)
    g.set_params("affine1", out_features=20)
    assert "W" not in g.node("affine1").weights
    eng = Engine(g)
    assert eng.param("affine1", "W").shape == (784, 20)


def test_remove_rename_copy():
    g = chain()
    removed = g.remove_node("relu1")
    assert [tuple(e) for e in removed] == [("a", "out", "relu1", "x"), ("relu1", "out", "relu2", "x")]
    g = templates.build("apple")
    g.rename("tax", "vat")
    assert g.fed_ports("mul_tax") == {"a": "mul_apple", "b": "vat"}
    g.node("vat").weights["dummy"] = np.ones(2)
    c = g.copy()
    c.node("vat").weights["dummy"][0] = 5
    assert g.node("vat").weights["dummy"][0] == 1
    assert c.nodes() == g.nodes() and sorted(c.edges()) == sorted(g.edges())
