"""Generate readable PyTorch code for a graph: ``model.py`` (one ``nn.Module``) and its weights.

Layers with a PyTorch module (Conv2D, Affine, pools, BatchNorm, Dropout, activations)
become attributes named after their node ids; arithmetic (Add, MatMul, Step...) is
written as an expression in ``forward``, one line per node, with the node's output shape
as a comment. Constants are buffers, Parameter nodes ``nn.Parameter``s.

Conventions the generated ``load_weights`` converts: Affine ``W`` is (in, out) in the
app and ``nn.Linear.weight`` is (out, in), so it is transposed; BatchNorm's ``gamma``,
``beta`` are ``weight``, ``bias`` and its momentum ``m`` (share of the old running
statistic) is PyTorch's ``1 - m``. The mapping is the ``WEIGHTS`` table in ``model.py``.
Nothing here imports torch: only the generated code does.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from layers.base import fmt_shape

from graph.exchange.common import InferencePart, check_supported, inference_part, python_names, save_weights

SUPPORTED = ("Input", "Constant", "Parameter", "Add", "Sub", "Mul", "Div", "MatMul", "Sum", "Mean", "Step",
             "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "Identity", "Affine", "Flatten", "Conv2D",
             "MaxPool2D", "AvgPool2D", "GlobalAvgPool", "BatchNorm", "Dropout")
_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "MatMul": "@"}
_SIMPLE = {"ReLU": "nn.ReLU()", "Sigmoid": "nn.Sigmoid()", "Tanh": "nn.Tanh()", "Identity": "nn.Identity()",
           "Softmax": "nn.Softmax(dim=-1)", "Flatten": "nn.Flatten()"}

HEADER = '''"""{title}: PyTorch code exported from Backprop Studio.

{inputs_doc}
{outputs_doc}

Weights: ``build_model()`` loads weights.safetensors (or weights.npz) from this folder.
Their keys are "node/tensor" in Backprop Studio's layout; ``load_weights`` converts them
(Affine W is (in, out) there, nn.Linear.weight is (out, in); see WEIGHTS), and
``graph_weights`` converts back, so trained weights can be loaded into the app with
``backprop-studio import-weights``.
"""
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
'''

FOOTER = '''


# (key in the weights file, attribute of Net, transposed?)
WEIGHTS = {weights}
# keys whose tensors get weight decay when training (the app decays tensors named W only)
DECAY = {decay}


def read_weight_file(path):
    """``{{"node/tensor": float64 array}}`` from a .safetensors or .npz file."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file
        return dict(load_file(str(path)))
    with np.load(path) as data:
        return {{k: data[k] for k in data.files}}


def load_weights(model, weights):
    """Copy ``{{"node/tensor": array}}`` (app layout) into ``model``."""
    state = model.state_dict()  # tensors sharing memory with the parameters and buffers
    for key, attr, transpose in WEIGHTS:
        value = torch.as_tensor(np.asarray(weights[key]), dtype=state[attr].dtype)
        state[attr].copy_(value.T if transpose else value)
    return model


def graph_weights(model):
    """The model's tensors as ``{{"node/tensor": float64 array}}`` in the app's layout."""
    state = model.state_dict()
    out = {{}}
    for key, attr, transpose in WEIGHTS:
        value = state[attr].detach().cpu().double()
        out[key] = (value.T if transpose else value).contiguous().numpy()
    return out


def build_model(weights=None, dtype=torch.float32):
    """``Net`` with the graph's weights: from ``weights`` (a dict or a file path), else
    weights.safetensors or weights.npz beside this file."""
    model = Net().to(dtype)
    if weights is None:
        found = [HERE / name for name in ("weights.safetensors", "weights.npz") if (HERE / name).exists()]
        if not found:
            raise FileNotFoundError(f"no weights.safetensors or weights.npz in {{HERE}}")
        weights = found[0]
    if not isinstance(weights, dict):
        weights = read_weight_file(weights)
    load_weights(model, weights)
    return model.eval()


if __name__ == "__main__":
    model = build_model()
    print(model)
    print(sum(p.numel() for p in model.parameters()), "learnable parameters")
'''


def _literal(value) -> str:
    """A Python literal for a number or nested list of numbers (exact float repr)."""
    return json.dumps(value) if not isinstance(value, float) else repr(value)


class _Code:
    def __init__(self, part: InferencePart) -> None:
        self.part = part
        self.g = part.graph
        self.names = python_names(part.order)
        self.init: list = []
        self.body: list = []
        self.weights: list = []
        self.args: list = []

    def shape_of(self, id: str) -> str:
        return fmt_shape(self.part.shapes.get(id))

    def emit(self, id: str) -> None:
        g, n = self.g, self.names[id]
        node = g.node(id)
        t, p = node.type, node.params
        src = [self.names[s] for s in g.inputs_of(id)]
        note = f"  # {node.label}" if node.label and node.label != id else ""
        if t == "Input":
            if p.get("value") is None:
                self.args.append(n)
            else:
                self.args.append(f"{n}=None")
                self.init.append(f"self.register_buffer('{n}_default', torch.tensor({_literal(p['value'])}, dtype=torch.float64))")
                self.body.append(f"if {n} is None:\n            {n} = self.{n}_default")
            return
        if t == "Constant":
            self.init.append(f"self.register_buffer('{n}', torch.tensor({_literal(p['value'])}, dtype=torch.float64)){note}")
            self.body.append(f"{n} = self.{n}")
            return
        if t == "Parameter":
            self.init.append(f"self.{n} = nn.Parameter(torch.zeros({tuple(p['shape'])})){note}")
            self.weights.append((f"{id}/value", n, False))
            self.body.append(f"{n} = self.{n}")
            return
        expr = self._layer(id, t, p, src, n, note)
        self.body.append(f"{n} = {expr}  # {self.shape_of(id)}")

    def _module(self, n: str, ctor: str, note: str) -> None:
        self.init.append(f"self.{n} = {ctor}{note}")

    def _layer(self, id, t, p, src, n, note) -> str:
        if t in _OPERATORS:
            return f"{src[0]} {_OPERATORS[t]} {src[1]}"
        if t in _SIMPLE:
            self._module(n, _SIMPLE[t], note)
            return f"self.{n}({src[0]})"
        if t == "LeakyReLU":
            self._module(n, f"nn.LeakyReLU({p['alpha']!r})", note)
            return f"self.{n}({src[0]})"
        if t == "Dropout":
            self._module(n, f"nn.Dropout(p={p['ratio']!r})", note)
            return f"self.{n}({src[0]})"
        if t == "Step":
            return f"({src[0]} > 0).to({src[0]}.dtype)  # step function (its gradient is 0)"
        if t in ("Sum", "Mean"):
            fn = t.lower()
            return f"{src[0]}.{fn}()" if p["axis"] == -999 else f"{src[0]}.{fn}(dim={p['axis']})"
        if t == "GlobalAvgPool":
            return f"{src[0]}.mean(dim=(2, 3))"
        in_shape = self.part.shapes[self.g.inputs_of(id)[0]]
        if t == "Affine":
            w = self.g.node(id).weights["W"]
            self._module(n, f"nn.Linear({w.shape[0]}, {w.shape[1]}, bias={p['bias']})", note)
            self.weights.append((f"{id}/W", f"{n}.weight", True))
            if p["bias"]:
                self.weights.append((f"{id}/b", f"{n}.bias", False))
            x = f"{src[0]}.flatten(1)" if len(in_shape) > 2 else src[0]
            return f"self.{n}({x})"
        if t == "Conv2D":
            w = self.g.node(id).weights["W"]
            self._module(n, f"nn.Conv2d({w.shape[1]}, {w.shape[0]}, kernel_size={p['kernel_size']}, "
                            f"stride={p['stride']}, padding={p['padding']}, bias={p['bias']})", note)
            self.weights.append((f"{id}/W", f"{n}.weight", False))
            if p["bias"]:
                self.weights.append((f"{id}/b", f"{n}.bias", False))
            return f"self.{n}({src[0]})"
        if t in ("MaxPool2D", "AvgPool2D"):
            extra = ", count_include_pad=True" if t == "AvgPool2D" else ""
            cls = "MaxPool2d" if t == "MaxPool2D" else "AvgPool2d"
            self._module(n, f"nn.{cls}(kernel_size={p['kernel_size']}, stride={p['stride']}, "
                            f"padding={p['padding']}{extra})", note)
            return f"self.{n}({src[0]})"
        if t == "BatchNorm":
            c = self.g.node(id).weights["gamma"].shape[0]
            cls = "BatchNorm2d" if len(in_shape) == 4 else "BatchNorm1d"
            self._module(n, f"nn.{cls}({c}, eps={p['eps']!r}, momentum={1 - p['momentum']!r})", note)
            for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("running_mean", "running_mean"),
                                 ("running_var", "running_var")):
                self.weights.append((f"{id}/{ours}", f"{n}.{theirs}", False))
            return f"self.{n}({src[0]})"
        raise AssertionError(f"unmapped op {t}")  # check_supported keeps this unreachable


def model_source(g, title: str = "Net") -> str:
    """The text of ``model.py`` for ``g`` (see the module docs)."""
    part = inference_part(g)
    check_supported(part, SUPPORTED, "PyTorch")
    code = _Code(part)
    for id in part.order:
        code.emit(id)
    outs = [code.names[o] for o in part.outputs]
    ins_doc = "Inputs: " + ", ".join(f"{code.names[i]} {code.shape_of(i)}" for i in part.inputs) \
        if part.inputs else "Inputs: none (the graph computes from its constants)."
    fed = {g.fed_ports(loss).get("x") for loss in part.losses}
    outs_doc = "model(...) returns " + ", ".join(
        f"{code.names[o]} {code.shape_of(o)}" + (" (the scores that feed the loss)" if o in fed else "")
        for o in part.outputs) + "."
    lines = [HEADER.format(title=title, inputs_doc=ins_doc, outputs_doc=outs_doc), "",
             "class Net(nn.Module):",
             f'    """{title} as one module; attributes are named after the graph\'s nodes."""', "",
             "    def __init__(self):", "        super().__init__()"]
    lines += [f"        {line}" for line in code.init]
    lines += ["", f"    def forward(self{''.join(', ' + a for a in code.args)}):"]
    lines += [f"        {line}" for line in code.body]
    lines.append(f"        return {outs[0]}" if len(outs) == 1 else f"        return {', '.join(outs)}")
    decay = [k for k, _, _ in code.weights if k.endswith("/W")]
    weights = "[\n" + "".join(f"    {w!r},\n" for w in code.weights) + "]"
    return "\n".join(lines) + FOOTER.format(weights=weights, decay=repr(decay))


def data_input_name(g) -> str:
    """The Python name of the model's data argument (what ``train.py`` feeds)."""
    part = inference_part(g)
    return python_names(part.order)[part.inputs[0]] if part.inputs else ""


def write_weights_file(weights: dict, folder: Path, kind: str = "npz") -> Path:
    """``weights.npz`` or ``weights.safetensors`` in ``folder``."""
    return save_weights({k: np.asarray(v, dtype=np.float64) for k, v in weights.items()},
                        Path(folder) / f"weights.{kind}")
