"""Import an ONNX model as a graph with weights and an automatic layout.

Supported ONNX ops (default domain): Conv, MaxPool, AveragePool, GlobalAveragePool,
Gemm, MatMul, Add, Sub, Mul, Div, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, Flatten,
Reshape to (N, features), BatchNormalization, Dropout, Identity, Constant and
initializers; also Greater(x, 0) → Cast (a step function) and ReduceSum / ReduceMean
over one or all axes, which the exporter writes. Anything else is refused in one line
naming every unsupported op and node.

Weights of Conv, Gemm and BatchNormalization become the node's weights (Gemm's
``transB``, ``alpha`` and ``beta`` folded into the Affine layout W (in, out)); other
initializers become ``Constant`` nodes, except a 2-D matrix multiplied from the right in
a MatMul, which becomes a learnable ``Parameter``. A model written by the exporter
carries a ``backprop_studio`` note (:mod:`graph.exchange.onnx_export`) that restores
node params, labels, positions and the training head; a foreign classifier with one
(N, K) output gets a label Input ``t`` and a ``SoftmaxCrossEntropy`` loss so it trains.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from layers.base import ParamError, ShapeError

from graph.exchange.common import ExchangeError
from graph.exchange.onnx_export import METADATA_KEY, require_onnx
from graph.model.errors import GraphError
from graph.model.graph import Graph
from graph.model.templates import layout
from graph.run.engine import Engine

SUPPORTED = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div",
             "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Flatten", "Reshape", "BatchNormalization",
             "Dropout", "Identity", "Constant", "Greater", "Cast", "ReduceSum", "ReduceMean")
_UNARY = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Identity": "Identity"}
_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "MatMul": "MatMul"}


def load_onnx_model(path):
    """Read and check an ONNX file; a problem is one ``ExchangeError`` line naming the file."""
    onnx = require_onnx()
    path = Path(path)
    if not path.is_file():
        raise ExchangeError(f"no such ONNX file: {path}")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001 - protobuf and the checker raise many error types
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ExchangeError(f"{path}: not a readable ONNX model ({reason})") from None
    return model


def import_onnx(path, add_loss: bool = True) -> tuple[Graph, dict]:
    """``(graph, meta)`` from an ONNX file; see the module docs. Raises ``ExchangeError``."""
    model = load_onnx_model(path)
    return _Importer(model, Path(path).name, add_loss).run()


def _attrs(node, onnx) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Importer:
    def __init__(self, model, source: str, add_loss: bool) -> None:
        self.onnx = onnx = require_onnx()
        self.source, self.add_loss = source, add_loss
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:  # noqa: BLE001 - shapes are a help, not a requirement
            pass
        self.model, self.graph = model, model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        props = {p.key: p.value for p in model.metadata_props}
        try:
            self.note = json.loads(props[METADATA_KEY]) if METADATA_KEY in props else {}
        except ValueError:
            self.note = {}
        self.hints = self.note.get("nodes", {}) if isinstance(self.note.get("nodes"), dict) else {}
        self.consts = {t.name: onnx.numpy_helper.to_array(t) for t in self.graph.initializer}
        self.shapes = {}
        for vi in list(self.graph.input) + list(self.graph.value_info) + list(self.graph.output):
            self.shapes[vi.name] = self._shape(vi)
        self.consumers: dict = {}
        for n in self.graph.node:
            for name in n.input:
                self.consumers.setdefault(name, []).append(n)
        self.g = Graph()
        self.value_node: dict = {}   # ONNX value name -> graph node id producing it
        self.skip: set = set()       # ONNX nodes already folded into another node
        self.problems: list = []

    # -- helpers -----------------------------------------------------------------------------------
    def _shape(self, vi):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            return None
        return [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]

    def _id(self, name: str) -> str:
        clean = re.sub(r"[^A-Za-z0-9_.\-]", "_", name.strip("/")) or "node"
        if not clean[0].isalpha():
            clean = "n" + clean
        id, i = clean, 2
        while self.g.has_node(id):
            id = f"{clean}_{i}"
            i += 1
        return id

    def _where(self, node) -> str:
        return f"node {node.name!r}" if node.name else f"node #{list(self.graph.node).index(node)} ({node.output[0]!r})"

    def _add(self, type: str, name: str, params: dict, weights: dict | None = None) -> str:
        """Add a node, merging the exporter's note (init settings, label, position) when it fits."""
        hint = self.hints.get(name)
        label, position = "", (0.0, 0.0)
        if isinstance(hint, dict) and hint.get("type") == type and not self.g.has_node(name):
            saved = dict(hint.get("params", {}))
            # ONNX holds float32: where the note's float64 value rounds to it, keep the note's
            params = {**saved, **{k: saved[k] if _same32(saved.get(k), v) else v for k, v in params.items()}}
            label, position = hint.get("label", ""), tuple(hint.get("position", (0.0, 0.0)))
        id = self._id(name)
        try:
            self.g.add_node(type, id=id, label=label, position=position, weights=weights, **params)
        except (GraphError, ParamError, ShapeError) as exc:
            raise ExchangeError(f"{self.source}: node {name!r}: {exc}") from None
        return id

    def _value(self, name: str, node, as_param: bool = False) -> str:
        """The graph node giving ONNX value ``name`` (initializers become Constant/Parameter nodes)."""
        if name in self.value_node:
            return self.value_node[name]
        if name not in self.consts:
            raise ExchangeError(f"{self.source}: {self._where(node)} reads {name!r}, which nothing computes")
        arr = np.asarray(self.consts[name], dtype=np.float64)
        hint = self.hints.get(name, {})
        if (as_param or hint.get("type") == "Parameter") and hint.get("type") != "Constant":
            id = self._add("Parameter", name, {"shape": list(arr.shape)}, {"value": arr})
        else:
            id = self._add("Constant", name, {"value": arr.tolist()})
        self.value_node[name] = id
        return id

    def _connect(self, srcs: list, dst: str) -> None:
        op = self.g.node(dst).op
        for src, port in zip(srcs, op.inputs):
            self.g.connect(src, dst, dst_port=port, check_shapes=False)

    def _const(self, name: str):
        return None if not name else self.consts.get(name)

    def _used(self, name: str) -> bool:
        return bool(name) and (name in self.consumers or any(o.name == name for o in self.graph.output))

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> tuple[Graph, dict]:
        bad = [f"{n.op_type} ({self._where(n)})" for n in self.graph.node
               if n.op_type not in SUPPORTED or n.domain not in ("", "ai.onnx")]
        if bad:
            raise ExchangeError(f"{self.source}: unsupported ONNX ops: {', '.join(bad)}")
        for n in self.graph.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = self._constant_value(n)
        init_names = set(self.consts)
        for vi in self.graph.input:
            self._graph_input(vi, vi.name in init_names)
        for n in self.graph.node:
            if n.op_type != "Constant" and id_(n) not in self.skip:
                try:
                    self._convert(n)
                except _Refused as exc:
                    self.problems.append(f"{n.op_type} ({self._where(n)}): {exc}")
        if self.problems:
            raise ExchangeError(f"{self.source}: unsupported ONNX usage: {'; '.join(self.problems)}")
        self._head()
        if not all(isinstance(self.hints.get(n), dict) for n in self.g.nodes() if n not in self._head_ids):
            layout(self.g)
        try:
            Engine(self.g)
        except (GraphError, ShapeError) as exc:
            raise ExchangeError(f"{self.source}: the imported graph does not run: {' '.join(str(exc).split())}") from None
        meta = {"training": self.note["training"]} if isinstance(self.note.get("training"), dict) else {}
        return self.g, meta

    def _constant_value(self, n):
        a = _attrs(n, self.onnx)
        for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
            if key in a:
                v = a[key]
                return self.onnx.numpy_helper.to_array(v) if key == "value" else np.asarray(v)
        raise ExchangeError(f"{self.source}: Constant {self._where(n)} has no numeric value")

    def _graph_input(self, vi, has_default: bool) -> None:
        shape = self.shapes.get(vi.name) or []
        if shape and (shape[0] is None or shape[0] in (0, 1)) and not has_default:
            shape = [None] + shape[1:]
        hint = self.hints.get(vi.name, {})
        params = {"shape": [d if d else None for d in shape]}
        if has_default:
            if hint.get("type") != "Input":
                return  # an old-style initializer listed among the inputs: a constant
            params["value"] = np.asarray(self.consts.pop(vi.name), dtype=np.float64).tolist()
        elem = vi.type.tensor_type.elem_type
        is_float = elem in (self.onnx.TensorProto.FLOAT, self.onnx.TensorProto.DOUBLE, self.onnx.TensorProto.FLOAT16)
        params["role"] = hint.get("params", {}).get("role", "data" if is_float else "label")
        self.value_node[vi.name] = self._add("Input", vi.name, params)

    def _head(self) -> None:
        """Re-attach the training head from the note, or give a lone (N, K) output a loss."""
        self._head_ids: set = set()
        head = self.note.get("head") if isinstance(self.note.get("head"), dict) else None
        if head:
            for nd in head.get("nodes", []):
                id = self._add(nd["type"], nd["id"], dict(nd.get("params", {})))
                self.g.set_label(id, nd.get("label", ""))
                self.g.set_position(id, nd.get("position", (0.0, 0.0)))
                self._head_ids.add(id)
            for e in head.get("edges", []):
                src = self.value_node.get(e["src"], e["src"])
                if self.g.has_node(src) and self.g.has_node(e["dst"]):
                    self.g.connect(src, e["dst"], dst_port=e["dst_port"], check_shapes=False)
            return
        outs = [self.value_node.get(o.name) for o in self.graph.output]
        if not self.add_loss or len(outs) != 1 or outs[0] is None:
            return
        shapes, _ = self.g.infer_shapes()
        out = outs[0]
        if len(shapes.get(out, ())) != 2:
            return
        if self.g.node(out).type == "Softmax":  # the loss applies its own softmax
            out = self.g.inputs_of(out)[0]
        t = self._add("Input", "t", {"shape": [None], "role": "label"})
        loss = self._add("SoftmaxCrossEntropy", "loss", {})
        self.g.connect(out, loss, dst_port="x", check_shapes=False)
        self.g.connect(t, loss, dst_port="t", check_shapes=False)

    # -- one ONNX node -----------------------------------------------------------------------------
    def _convert(self, n) -> None:
        a = _attrs(n, self.onnx)
        op = n.op_type
        name = n.name or n.output[0]
        for extra in n.output[1:]:
            if self._used(extra):
                raise _Refused(f"its output {extra!r} is used (only the first output is supported)")
        if op in _UNARY:
            id = self._add(_UNARY[op], name, {})
            self._connect([self._value(n.input[0], n)], id)
        elif op == "LeakyRelu":
            id = self._add("LeakyReLU", name, {"alpha": float(a.get("alpha", 0.01))})
            self._connect([self._value(n.input[0], n)], id)
        elif op == "Softmax":
            rank = len(self.shapes.get(n.input[0]) or [])
            axis = a.get("axis", -1 if self.opset >= 13 else 1)
            if axis not in (-1, rank - 1):
                raise _Refused(f"axis={axis} (only the last axis is supported)")
            id = self._add("Softmax", name, {})
            self._connect([self._value(n.input[0], n)], id)
        elif op in _BINARY:
            id = self._binary(n, name)
        elif op in ("Flatten", "Reshape"):
            id = self._flatten(n, name, a)
            if id is None:
                return
        elif op == "Dropout":
            ratio = self._const(n.input[1]) if len(n.input) > 1 and n.input[1] else a.get("ratio", 0.5)
            id = self._add("Dropout", name, {"ratio": float(np.asarray(ratio))})
            self._connect([self._value(n.input[0], n)], id)
        elif op == "Conv":
            id = self._conv(n, name, a)
        elif op in ("MaxPool", "AveragePool"):
            id = self._pool(n, name, a)
        elif op == "GlobalAveragePool":
            id = self._gap(n, name)
        elif op == "Gemm":
            id = self._gemm(n, name, a)
        elif op == "BatchNormalization":
            ws = [self._const(x) for x in n.input[1:5]]
            if any(w is None for w in ws):
                raise _Refused("scale, bias, mean and variance must be initializers")
            weights = dict(zip(("gamma", "beta", "running_mean", "running_var"), ws))
            id = self._add("BatchNorm", name, {"eps": float(a.get("epsilon", 1e-5)),
                                               "momentum": float(a.get("momentum", 0.9))}, weights)
            self._connect([self._value(n.input[0], n)], id)
        elif op == "Greater":
            id = self._step(n)
        elif op in ("ReduceSum", "ReduceMean"):
            id = self._reduce(n, name, a)
        else:  # a lone Cast
            raise _Refused("only Cast after Greater(x, 0) (a step function) is supported")
        self.value_node[n.output[0]] = id

    def _binary(self, n, name: str) -> str:
        x, y = n.input[0], n.input[1]
        base = name[:-len("/matmul")] if name.endswith("/matmul") else name
        w = self._const(y)
        if n.op_type == "MatMul" and y == f"{base}/W" and w is not None:  # the exporter's one-sample Affine
            nxt = self.consumers.get(n.output[0], [])
            bias = nxt[0] if name.endswith("/matmul") and len(nxt) == 1 and nxt[0].op_type == "Add" else None
            weights = {"W": w}
            if bias is not None:
                weights["b"] = self._const(bias.input[1])
                self.skip.add(id_(bias))
            aid = self._add("Affine", base, {"out_features": int(w.shape[1]), "bias": bias is not None},
                            weights)
            self._connect([self._value(x, n)], aid)
            if bias is not None:
                self.value_node[bias.output[0]] = aid
            return aid
        as_param = n.op_type == "MatMul" and w is not None and w.ndim == 2 and x not in self.consts
        srcs = [self._value(x, n), self._value(y, n, as_param=as_param)]
        id = self._add(_BINARY[n.op_type], name, {})
        self._connect(srcs, id)
        return id

    def _flatten(self, n, name: str, a: dict):
        shape_in = self.shapes.get(n.input[0])
        if n.op_type == "Flatten":
            if a.get("axis", 1) != 1:
                raise _Refused(f"axis={a.get('axis')} (only axis=1, to (N, features), is supported)")
        else:
            target = self._const(n.input[1])
            rest = math.prod(shape_in[1:]) if shape_in and None not in shape_in[1:] else None
            ok = (target is not None and target.size == 2 and int(target[0]) in (0, -1, *(shape_in or [])[:1])
                  and int(target[1]) in (-1, rest))
            if not ok:
                raise _Refused("only a reshape to (N, features) is supported")
        consumers = self.consumers.get(n.output[0], [])
        if len(consumers) == 1 and consumers[0].op_type == "Gemm" and name == f"{consumers[0].name}/flatten":
            self.value_node[n.output[0]] = self._value(n.input[0], n)  # the exporter's flatten of an Affine
            return None
        id = self._add("Flatten", name, {})
        self._connect([self._value(n.input[0], n)], id)
        return id

    def _square(self, a: dict, what: str) -> tuple:
        k = list(a.get("kernel_shape", []))
        s = list(a.get("strides", [1] * len(k)))
        p = list(a.get("pads", [0] * 2 * len(k)))
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            raise _Refused(f"auto_pad={a['auto_pad']!r} (give explicit pads)")
        if len(k) != 2 or k[0] != k[1]:
            raise _Refused(f"kernel_shape={k} (only square 2-D {what} kernels are supported)")
        if len(set(s)) != 1:
            raise _Refused(f"strides={s} (only equal strides are supported)")
        if len(set(p)) != 1:
            raise _Refused(f"pads={p} (only the same padding on every side is supported)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise _Refused(f"dilations={list(a['dilations'])} (only 1 is supported)")
        return k[0], s[0], p[0]

    def _conv(self, n, name: str, a: dict) -> str:
        w = self._const(n.input[1])
        b = self._const(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if w is None or w.ndim != 4:
            raise _Refused("the weights must be a 4-D initializer")
        if a.get("group", 1) != 1:
            raise _Refused(f"group={a['group']} (only group=1 is supported)")
        a.setdefault("kernel_shape", list(w.shape[2:]))
        k, s, p = self._square(a, "Conv")
        weights = {"W": w} if b is None else {"W": w, "b": b}
        id = self._add("Conv2D", name, {"out_channels": int(w.shape[0]), "kernel_size": k, "stride": s,
                                        "padding": p, "bias": b is not None}, weights)
        self._connect([self._value(n.input[0], n)], id)
        return id

    def _pool(self, n, name: str, a: dict) -> str:
        if a.get("ceil_mode", 0):
            raise _Refused("ceil_mode=1 (only floor mode is supported)")
        k, s, p = self._square(a, n.op_type)
        if n.op_type == "AveragePool" and p and not a.get("count_include_pad", 0):
            raise _Refused("padding with count_include_pad=0 (the app counts padding as zeros)")
        id = self._add("MaxPool2D" if n.op_type == "MaxPool" else "AvgPool2D", name,
                       {"kernel_size": k, "stride": s, "padding": p})
        self._connect([self._value(n.input[0], n)], id)
        return id

    def _gap(self, n, name: str) -> str:
        nxt = self.consumers.get(n.output[0], [])
        if len(nxt) == 1 and nxt[0].op_type in ("Flatten", "Reshape") and not self._used_as_output(n.output[0]):
            flat = nxt[0]
            id = self._add("GlobalAvgPool", flat.name or flat.output[0] if name.endswith("/gap") else name, {})
            self._connect([self._value(n.input[0], n)], id)
            self.skip.add(id_(flat))
            self.value_node[flat.output[0]] = id
            return id
        shape = self.shapes.get(n.input[0])
        if not shape or len(shape) != 4 or shape[2] is None or shape[2] != shape[3]:
            raise _Refused("without a following Flatten, only square feature maps of known size are supported")
        id = self._add("AvgPool2D", name, {"kernel_size": shape[2], "stride": shape[2], "padding": 0})
        self._connect([self._value(n.input[0], n)], id)
        return id

    def _used_as_output(self, value: str) -> bool:
        return any(o.name == value for o in self.graph.output)

    def _gemm(self, n, name: str, a: dict) -> str:
        w = self._const(n.input[1])
        c = self._const(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if w is None or w.ndim != 2:
            raise _Refused("B must be a 2-D initializer (weights)")
        if a.get("transA", 0):
            raise _Refused("transA=1 is not supported")
        w = (w.T if a.get("transB", 0) else w).astype(np.float64) * float(a.get("alpha", 1.0))
        weights = {"W": w}
        if c is not None:
            weights["b"] = np.broadcast_to(np.asarray(c, dtype=np.float64) * float(a.get("beta", 1.0)),
                                           (w.shape[1],)).copy()
        id = self._add("Affine", name, {"out_features": int(w.shape[1]), "bias": c is not None}, weights)
        self._connect([self._value(n.input[0], n)], id)
        return id

    def _step(self, n) -> str:
        zero = self._const(n.input[1])
        nxt = self.consumers.get(n.output[0], [])
        if zero is None or zero.size != 1 or float(zero) != 0 or len(nxt) != 1 or nxt[0].op_type != "Cast":
            raise _Refused("only Greater(x, 0) followed by Cast (a step function) is supported")
        cast = nxt[0]
        id = self._add("Step", cast.name or cast.output[0], {})
        self._connect([self._value(n.input[0], n)], id)
        self.skip.add(id_(cast))
        self.value_node[cast.output[0]] = id
        return id

    def _reduce(self, n, name: str, a: dict) -> str:
        if a.get("keepdims", 1):
            raise _Refused("keepdims=1 (only keepdims=0 is supported)")
        axes = list(a.get("axes", []))
        if len(n.input) > 1 and n.input[1]:
            axes = [int(v) for v in np.asarray(self._const(n.input[1])).reshape(-1)]
        if len(axes) > 1:
            raise _Refused(f"axes={axes} (one axis or all)")
        id = self._add("Sum" if n.op_type == "ReduceSum" else "Mean", name,
                       {"axis": axes[0] if axes else -999})
        self._connect([self._value(n.input[0], n)], id)
        return id


def _same32(a, b) -> bool:
    """Whether two numbers or nested lists are equal once rounded to float32."""
    if a is None or b is None or isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
        return False
    try:
        return np.array_equal(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
    except (TypeError, ValueError):
        return False


def id_(node) -> int:
    """Identity of an ONNX node proto (protos are not hashable)."""
    return id(node)


class _Refused(Exception):
    """An ONNX node whose attributes the app cannot represent (collected into one line)."""
