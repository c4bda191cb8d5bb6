"""Export a graph's inference part to ONNX (opset 17, float32), built with ``onnx.helper``.

Each graph node becomes one ONNX node named after it whose output value carries the
node id, so Netron and ``import`` show the same names. Where one app op needs two ONNX
ops, the helper op is named ``"<id>/<what>"`` (``/`` never occurs in a node id), which
lets ``import`` fold them back into one node:

==============  ============================================================
Affine          Gemm(x, W (in, out), b) on 2-D input; ``<id>/flatten`` first for
                (N, C, H, W) input; MatMul (+ Add) for one sample (D,)
Conv2D          Conv (square kernel, stride, symmetric pads)
MaxPool2D       MaxPool;  AvgPool2D: AveragePool(count_include_pad=1)
GlobalAvgPool   ``<id>/gap`` GlobalAveragePool, then Flatten
BatchNorm       BatchNormalization (running statistics: inference)
Step            ``<id>/greater`` Greater(x, 0), then Cast to float
Sum, Mean       ReduceSum / ReduceMean (keepdims 0)
Input           a graph input (its default value, if any, as an initializer of the same name)
Constant        an initializer;  Parameter: an initializer (learnable, noted in the metadata)
==============  ============================================================

Everything else maps one to one (Add, Sub, Mul, Div, MatMul, Relu, LeakyRelu, Sigmoid,
Tanh, Softmax(axis=-1), Identity, Flatten, Dropout). Loss nodes are left out. The model's
``metadata_props`` hold ``backprop_studio``: a JSON note with each node's full params,
label and position and the training head (losses and label inputs), so an exported
graph imports back as the same graph.
"""
from __future__ import annotations

import json

import numpy as np

from graph.exchange.common import ExchangeError, InferencePart, check_supported, inference_part
from graph.model.fileformat import graph_to_dict
from graph.model.graph import Graph

OPSET = 17
METADATA_KEY = "backprop_studio"
SUPPORTED = ("Input", "Constant", "Parameter", "Add", "Sub", "Mul", "Div", "MatMul", "Sum", "Mean", "Step",
             "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity", "Affine", "Flatten", "Conv2D",
             "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "BatchNorm", "Dropout")
_SAME = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "MatMul": "MatMul", "Sigmoid": "Sigmoid",
         "Tanh": "Tanh", "ReLU": "Relu", "Identity": "Identity"}
MISSING_ONNX = "ONNX export and import need the onnx package: pip install 'backprop-studio[onnx]' (or pip install onnx)"


def require_onnx():
    """The ``onnx`` module, or a one-line ``ExchangeError`` saying how to install it."""
    try:
        import onnx  # noqa: PLC0415 - optional extra
    except ImportError:
        raise ExchangeError(MISSING_ONNX) from None
    return onnx


class _Builder:
    """Collects ONNX nodes and initializers for one graph."""

    def __init__(self, onnx) -> None:
        self.onnx, self.h = onnx, onnx.helper
        self.nodes: list = []
        self.inits: list = []

    def tensor(self, name: str, arr, dtype=np.float32) -> str:
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list, output: str, name: str, **attrs) -> str:
        self.nodes.append(self.h.make_node(op, inputs, [output], name=name, **attrs))
        return output


def export_onnx(g: Graph, path=None, meta: dict | None = None):
    """The ONNX ``ModelProto`` of ``g``'s inference part; written to ``path`` when given.

    The model is checked with ``onnx.checker`` (full check, with shape inference) before
    it is returned. Raises ``ExchangeError`` for graphs that cannot be exported.
    """
    onnx = require_onnx()
    part = inference_part(g)
    check_supported(part, SUPPORTED, "ONNX")
    b = _Builder(onnx)
    graph_inputs = []
    for id in part.order:
        _emit(b, part, id, graph_inputs)
    outputs = [onnx.helper.make_tensor_value_info(id, onnx.TensorProto.FLOAT, _dims(part.shapes[id]))
               for id in part.outputs]
    graph = onnx.helper.make_graph(b.nodes, "backprop_studio", graph_inputs, outputs, b.inits)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="backprop-studio", producer_version="0.1.0")
    model.ir_version = min(model.ir_version, 8)  # readable by older onnxruntime releases too
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(_note(part, meta))})
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # noqa: BLE001 - onnx raises several checker/inference error types
        raise ExchangeError(f"the exported ONNX model does not pass onnx.checker: {' '.join(str(exc).split())}") from None
    if path is not None:
        onnx.save(model, str(path))
    return model


def _dims(shape) -> list:
    return ["N" if d is None else int(d) for d in shape]


def _note(part: InferencePart, meta: dict | None) -> dict:
    """What ONNX cannot say: every node's params, labels, positions and the training head."""
    g = part.graph
    doc = graph_to_dict(g)
    inner = set(part.order)
    nodes = {nd["id"]: {k: nd[k] for k in ("type", "params", "label", "position")}
             for nd in doc["nodes"] if nd["id"] in inner}
    head_ids = {n["id"] for n in doc["nodes"] if n["id"] not in inner}
    head = {"nodes": [n for n in doc["nodes"] if n["id"] in head_ids],
            "edges": [e for e in doc["edges"] if e["dst"] in head_ids]}
    note = {"version": 1, "nodes": nodes, "head": head}
    if meta and isinstance(meta.get("training"), dict):
        note["training"] = meta["training"]
    return note


def _emit(b: _Builder, part: InferencePart, id: str, graph_inputs: list) -> None:
    """Append the ONNX for node ``id`` (its output value is named ``id``)."""
    g = part.graph
    node = g.node(id)
    t, p, w = node.type, node.params, node.weights
    src = g.inputs_of(id)
    h = b.h
    if t == "Input":
        graph_inputs.append(h.make_tensor_value_info(id, b.onnx.TensorProto.FLOAT, _dims(p["shape"])))
        if p.get("value") is not None:
            b.tensor(id, p["value"])
    elif t == "Constant":
        b.tensor(id, p["value"])
    elif t == "Parameter":
        b.tensor(id, w["value"])
    elif t in _SAME:
        b.node(_SAME[t], src, id, id)
    elif t == "LeakyReLU":
        b.node("LeakyRelu", src, id, id, alpha=float(p["alpha"]))
    elif t == "Softmax":
        b.node("Softmax", src, id, id, axis=-1)
    elif t == "Flatten":
        b.node("Flatten", src, id, id, axis=1)
    elif t == "Dropout":
        b.node("Dropout", [src[0], b.tensor(f"{id}/ratio", np.float32(p["ratio"]))], id, id)
    elif t == "Step":
        zero = b.tensor(f"{id}/zero", np.float32(0))
        b.node("Greater", [src[0], zero], f"{id}/greater", f"{id}/greater")
        b.node("Cast", [f"{id}/greater"], id, id, to=b.onnx.TensorProto.FLOAT)
    elif t in ("Sum", "Mean"):
        axis = p["axis"]
        if t == "Sum":
            axes = [] if axis == -999 else [b.tensor(f"{id}/axes", np.array([axis]), np.int64)]
            b.node("ReduceSum", src + axes, id, id, keepdims=0)
        elif axis == -999:
            b.node("ReduceMean", src, id, id, keepdims=0)
        else:
            b.node("ReduceMean", src, id, id, keepdims=0, axes=[axis])
    elif t == "Affine":
        _affine(b, part, id, src[0])
    elif t == "Conv2D":
        k, s, pad = p["kernel_size"], p["stride"], p["padding"]
        ins = [src[0], b.tensor(f"{id}/W", w["W"])] + ([b.tensor(f"{id}/b", w["b"])] if p["bias"] else [])
        b.node("Conv", ins, id, id, kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4)
    elif t in ("MaxPool2D", "AvgPool2D"):
        k, s, pad = p["kernel_size"], p["stride"], p["padding"]
        extra = {"count_include_pad": 1} if t == "AvgPool2D" else {}
        b.node("MaxPool" if t == "MaxPool2D" else "AveragePool", src, id, id,
               kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4, **extra)
    elif t == "GlobalAvgPool":
        b.node("GlobalAveragePool", src, f"{id}/gap", f"{id}/gap")
        b.node("Flatten", [f"{id}/gap"], id, id, axis=1)
    elif t == "BatchNorm":
        ins = [src[0]] + [b.tensor(f"{id}/{n}", w[n]) for n in ("gamma", "beta", "running_mean", "running_var")]
        b.node("BatchNormalization", ins, id, id, epsilon=float(p["eps"]), momentum=float(p["momentum"]))
    else:  # check_supported keeps this unreachable; a new op type must be mapped above
        raise ExchangeError(f"cannot export to ONNX: no ONNX equivalent for {t} (node {id!r})")


def _affine(b: _Builder, part: InferencePart, id: str, x: str) -> None:
    w = part.graph.node(id).weights
    bias = part.graph.node(id).params["bias"]
    ndim = len(part.shapes[x])
    wt = b.tensor(f"{id}/W", w["W"])
    bt = b.tensor(f"{id}/b", w["b"]) if bias else None
    if ndim == 1:  # one sample (D,): Gemm needs a matrix
        if bt is None:
            b.node("MatMul", [x, wt], id, id)
        else:
            b.node("MatMul", [x, wt], f"{id}/matmul", f"{id}/matmul")
            b.node("Add", [f"{id}/matmul", bt], id, id)
        return
    if ndim > 2:
        x = b.node("Flatten", [x], f"{id}/flatten", f"{id}/flatten", axis=1)
    b.node("Gemm", [x, wt] + ([bt] if bt else []), id, id)
