"""Generate standalone NumPy code in the book's style: ``book_layers.py``, ``net.py``, ``weights.npz``.

``book_layers.py`` is copied from ``resources/exchange``: one class per layer with
``forward``/``backward`` and shapes in the docstrings, like the book's
``common/layers.py``. ``net.py`` is generated: a ``Net`` whose attributes are the graph's
nodes, ``predict(x)`` running them in order, and, when the graph ends in a loss fed by
a label Input, ``loss(x, t)`` and ``gradient(x, t)`` (backpropagation written out node
by node, gradients summed where a value feeds several nodes). Only NumPy is imported.
"""
from __future__ import annotations

import json
import shutil
from importlib import resources as importlib_resources
from pathlib import Path

import numpy as np

from graph.exchange.common import check_supported, inference_part, python_names, weight_dict
from graph.model.graph import Graph

SUPPORTED = ("Input", "Constant", "Parameter", "Add", "Sub", "Mul", "Div", "MatMul", "Sum", "Mean", "Step",
             "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity", "Affine", "Flatten", "Conv2D",
             "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "BatchNorm", "Dropout")
_BINARY = {"Add": "AddLayer", "Sub": "SubLayer", "Mul": "MulLayer", "Div": "DivLayer", "MatMul": "MatMulLayer"}
_PLAIN = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Step": "Step", "Softmax": "Softmax",
          "Identity": "Identity", "Flatten": "Flatten", "GlobalAvgPool": "GlobalAvgPooling"}
_LOSSES = {"SoftmaxCrossEntropy": "SoftmaxWithLoss", "MSE": "MeanSquaredError", "SSE": "SumSquaredError",
           "SigmoidBCE": "SigmoidWithBCE"}
# the learnable tensors of each layer class and the attribute holding their gradient
_GRADS = {"Affine": (("W", "dW"), ("b", "db")), "Conv2D": (("W", "dW"), ("b", "db")),
          "BatchNorm": (("gamma", "dgamma"), ("beta", "dbeta"))}


def _ctor(g: Graph, id: str, n: str) -> str | None:
    """The constructor call of node ``id`` (``None`` for nodes without a layer object)."""
    node = g.node(id)
    t, p = node.type, node.params
    w = (lambda k: f'w["{id}/{k}"]')
    if t in _BINARY:
        return f"{_BINARY[t]}()"
    if t in _PLAIN:
        return f"{_PLAIN[t]}()"
    if t in ("Sum", "Mean"):
        return f"{t}Layer(axis={None if p['axis'] == -999 else p['axis']})"
    if t == "LeakyReLU":
        return f"LeakyRelu(alpha={p['alpha']!r})"
    if t == "Dropout":
        return f"Dropout(ratio={p['ratio']!r})"
    if t == "Affine":
        return f"Affine({w('W')}, {w('b') if p['bias'] else None})"
    if t == "Conv2D":
        return f"Convolution({w('W')}, {w('b') if p['bias'] else None}, stride={p['stride']}, pad={p['padding']})"
    if t in ("MaxPool2D", "AvgPool2D"):
        cls = "Pooling" if t == "MaxPool2D" else "AvgPooling"
        k = p["kernel_size"]
        return f"{cls}({k}, {k}, stride={p['stride']}, pad={p['padding']})"
    if t == "BatchNorm":
        args = ", ".join(w(k) for k in ("gamma", "beta", "running_mean", "running_var"))
        return f"BatchNormalization({args}, momentum={p['momentum']!r}, eps={p['eps']!r})"
    return None


def net_source(g: Graph, title: str = "graph") -> str:
    """The text of ``net.py`` (see the module docs)."""
    part = inference_part(g)
    check_supported(part, SUPPORTED, "NumPy")
    names = python_names(part.order)
    init, body, args, used = [], [], [], set()
    for id in part.order:
        node, n = g.node(id), names[id]
        src = [names[s] for s in g.inputs_of(id)]
        if node.type == "Input":
            if node.params.get("value") is None:
                args.append(n)
            else:
                args.append(f"{n}=None")
                init.append(f"self.{n}_default = np.array({json.dumps(node.params['value'])})")
                body.append(f"if {n} is None:\n            {n} = self.{n}_default")
            continue
        if node.type == "Constant":
            init.append(f"self.{n} = np.array({json.dumps(node.params['value'])})")
            body.append(f"{n} = self.{n}")
            continue
        if node.type == "Parameter":
            init.append(f'self.{n} = w["{id}/value"]')
            body.append(f"{n} = self.{n}")
            continue
        ctor = _ctor(g, id, n)
        used.add(ctor.split("(")[0])
        init.append(f"self.{n} = {ctor}")
        extra = "" if node.type in _BINARY or node.type in ("Sum", "Mean") else ", train_flg"
        body.append(f"{n} = self.{n}.forward({', '.join(src)}{extra})  # {_shape(part.shapes[id])}")
    outs = [names[o] for o in part.outputs]
    body.append(f"return {', '.join(outs)}")
    trains = _training(g, part, names, used)
    lines = [f'"""{title}: NumPy code exported from Backprop Studio, in the style of "Deep Learning from Scratch".',
             "", "Layers are in book_layers.py; weights.npz holds the graph's weights under 'node/tensor' keys",
             "(Affine W is (in, out), Conv2D W is (FN, C, FH, FW)). Only NumPy is needed:", "",
             "    from net import predict", "    scores = predict(x)", '"""',
             "from pathlib import Path", "", "import numpy as np", "",
             f"from book_layers import {', '.join(sorted(used)) or 'softmax'}", "",
             "HERE = Path(__file__).resolve().parent", "", "",
             "class Net:", f'    """{title}: one attribute per node of the graph."""', "",
             "    def __init__(self, w):", '        """w: {"node/tensor": array}, e.g. load_weights()."""']
    lines += [f"        {x}" for x in init] or ["        pass"]
    sig = ", ".join(["self"] + args + ["train_flg=False"])
    lines += ["", f"    def predict({sig}):",
              f'        """Forward pass: {", ".join(f"{names[i]} {_shape(part.shapes[i])}" for i in part.inputs) or "no inputs"}'
              f' -> {", ".join(f"{names[o]} {_shape(part.shapes[o])}" for o in part.outputs)}."""']
    lines += [f"        {x}" for x in body]
    lines += trains
    lines += ["", "", "def load_weights(path=HERE / 'weights.npz'):",
              '    """{"node/tensor": array} from the exported weights file."""',
              "    with np.load(path) as data:", "        return {k: data[k] for k in data.files}", "", "",
              f"def predict({', '.join(args)}):", '    """The graph\'s output(s) for the given input(s), with the exported weights."""',
              f"    return Net(load_weights()).predict({', '.join(a.split('=')[0] for a in args)})", "", "",
              'if __name__ == "__main__":', "    net = Net(load_weights())",
              *_demo(g, part, names), ""]
    return "\n".join(lines)


def _shape(shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _demo(g, part, names) -> list:
    feeds = []
    for i in part.inputs:
        if g.node(i).params.get("value") is None:
            shape = [2 if d is None else d for d in g.node(i).params["shape"]]
            feeds.append(f"np.random.default_rng(0).random({tuple(shape)})")
    return [f"    print(net.predict({', '.join(feeds)}))"]


def _training(g: Graph, part, names: dict, used: set) -> list:
    """``loss`` and ``gradient`` methods when one loss is fed by the scores and a label Input."""
    if len(part.losses) != 1:
        return []
    loss = g.node(part.losses[0])
    fed = g.fed_ports(loss.id)
    t = fed.get("t")
    if t is None or t in part.order or fed.get("x") != part.outputs[0] or len(part.outputs) != 1:
        return []
    data_args = [names[i] for i in part.inputs if g.node(i).params.get("value") is None]
    cls = _LOSSES[loss.type]
    used.add(cls)
    head = ", ".join(["self"] + data_args + ["t"])
    call = ", ".join(data_args + ["train_flg=True"])
    out = ["", f"    def loss({head}):", f'        """The {loss.type} loss of the scores against labels t."""',
           f"        if not hasattr(self, 'loss_layer'):\n            self.loss_layer = {cls}()",
           f"        return self.loss_layer.forward(self.predict({call}), t)",
           "", f"    def gradient({head}):",
           '        """Backpropagation, node by node in reverse order: {"node/tensor": gradient}."""',
           f"        self.loss({', '.join(data_args + ['t'])})", "        grads = {}",
           f"        d_{names[part.outputs[0]]} = self.loss_layer.backward(1.0)"]
    have = {part.outputs[0]}
    for id in reversed(part.order):
        node = g.node(id)
        if id not in have or node.type in ("Input", "Constant"):
            continue
        n = names[id]
        if node.type == "Parameter":
            out.append(f'        grads["{id}/value"] = d_{n}')
            continue
        srcs = g.inputs_of(id)
        targets = [f"d_in{k}" for k in range(len(srcs))]
        out.append(f"        {', '.join(targets)} = self.{n}.backward(d_{n})")
        for ours, attr in _GRADS.get(node.type, ()):
            if ours in node.weights:
                out.append(f'        grads["{id}/{ours}"] = self.{n}.{attr}')
        for s, d in zip(srcs, targets):
            if g.node(s).type in ("Input", "Constant"):
                continue
            out.append(f"        d_{names[s]} = {d}" if s not in have else f"        d_{names[s]} = d_{names[s]} + {d}")
            have.add(s)
    out.append("        return grads")
    return out


def export_numpy(g: Graph, folder, name: str = "graph") -> list[str]:
    """Write book_layers.py, net.py and weights.npz into ``folder``; one line per file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    part = inference_part(g)
    source = net_source(g, name)
    src = Path(str(importlib_resources.files("resources"))) / "exchange" / "book_layers.py"
    shutil.copyfile(src, folder / "book_layers.py")
    (folder / "net.py").write_text(source, encoding="utf-8")
    np.savez(folder / "weights.npz", **weight_dict(g, part.order))
    return [f"{folder / 'book_layers.py'}: one class per layer with forward/backward (the book's style)",
            f"{folder / 'net.py'}: Net (predict, loss, gradient) and predict(x)",
            f"{folder / 'weights.npz'}: the graph's weights"]
