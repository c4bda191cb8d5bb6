"""``init`` and ``init-train``: the book's weight-initialisation experiments.

``init`` (``weight_init_activation_histogram``): 1000 inputs from N(0, 1) pass through 5
layers of 100 units (no bias) with one activation; a histogram of every layer's output
for each weight choice. std 1 pushes sigmoid outputs to 0 and 1 (vanishing gradients),
std 0.01 squeezes them around 0.5 (every unit says the same), Xavier keeps them spread;
for ReLU, He keeps the spread across layers. The forward pass is the Engine's.

``init-train`` (``weight_init_compare``): a 5-layer ReLU MLP trained with SGD lr 0.01,
batch 128, 2000 iterations for std 0.01, Xavier and He; the book's losses at iteration
1900 are 2.30 (does not learn), 0.38 and 0.29.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.model.graph import Graph
from graph.model.templates import layout
from graph.run.engine import Engine
from graph.training.labs.base import Lab, LabError, LabProgress, LabSettings, option, smoothed, split_list
from graph.training.labs.nets import ACTIVATIONS, dataset, init_label, mlp, parse_init
from graph.training.labs.optimizers import curve_summary, train_curves

# the book's histogram ranges: sigmoid outputs in (0, 1), tanh in (-1, 1); ReLU as the book plots it
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 1.0)}


@dataclass
class InitSettings(LabSettings):
    activation: str = option("sigmoid", "activations, comma-separated: sigmoid, tanh, relu")
    inits: str = option("std=1,std=0.01,xavier,he", "weight choices, comma-separated (he, xavier, std=S)")
    layers: int = option(5, "hidden layers", low=1, high=50)
    units: int = option(100, "units per layer", low=1)
    samples: int = option(1000, "inputs drawn from N(0, 1)", low=1)
    bins: int = option(30, "histogram bins", low=2, high=1000)


def activation_graph(layers: int, units: int, activation: str, init: str) -> Graph:
    """Input (N, units) → [Affine (no bias) → activation] × layers."""
    kind, std = parse_init(init)
    g = Graph()
    g.add_node("Input", id="x", shape=[None, units], role="data", label="x ~ N(0, 1)")
    prev = "x"
    for i in range(1, layers + 1):
        g.add_node("Affine", id=f"affine{i}", out_features=units, init=kind, std=std, bias=False,
                   label=f"Affine{i} ({init_label(init)})")
        g.add_node(ACTIVATIONS[activation], id=f"act{i}", label=f"{ACTIVATIONS[activation]}{i}")
        g.connect(prev, f"affine{i}")
        g.connect(f"affine{i}", f"act{i}")
        prev = f"act{i}"
    layout(g)
    return g


def layer_stats(a: np.ndarray, activation: str) -> dict:
    """Statistics the tests and the summary use: spread and saturation of one layer's outputs."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    out = {"mean": float(a.mean()), "std": float(a.std()), "min": float(a.min()), "max": float(a.max())}
    if activation == "sigmoid":
        out["saturated"] = float(np.mean((a < 0.1) | (a > 0.9)))   # near 0 or 1
        out["near_half"] = float(np.mean(np.abs(a - 0.5) < 0.05))
    elif activation == "tanh":
        out["saturated"] = float(np.mean(np.abs(a) > 0.9))
    else:
        out["zero"] = float(np.mean(a == 0))
    return out


class InitLab(Lab):
    name = "init"
    title = "Weight initialisation: activation histograms"
    about = ("The book's weight_init_activation_histogram: 1000 inputs from N(0, 1) through 5 layers of 100 "
             "units. std 1 saturates sigmoids at 0 and 1, std 0.01 collapses them to 0.5, Xavier keeps them "
             "spread; ReLU needs He.")
    Settings = InitSettings

    def check(self) -> None:
        for act in split_list(self.settings.activation):
            if act not in ACTIVATIONS:
                raise LabError(f"unknown activation {act!r} (choose from {', '.join(ACTIVATIONS)})")
        for init in split_list(self.settings.inits):
            parse_init(init)
        if not split_list(self.settings.activation) or not split_list(self.settings.inits):
            raise LabError("name at least one activation and one weight choice")

    def _run(self):
        s = self.settings
        x = np.random.default_rng(s.seed).standard_normal((s.samples, s.units))
        rows = [(act, init) for act in split_list(s.activation) for init in split_list(s.inits)]
        hists, stats, table = [], [], []
        for r, (act, init) in enumerate(rows):
            if self.hold():
                break
            eng = Engine(activation_graph(s.layers, s.units, act, init), dtype="float64", seed=s.seed)
            eng.forward({"x": x})
            lo, hi = RANGES[act]
            row_h, row_s = [], []
            for layer in range(1, s.layers + 1):
                a = eng.value(f"act{layer}")
                counts, edges = np.histogram(a.reshape(-1), bins=s.bins, range=(lo, hi))
                st = layer_stats(a, act)
                row_h.append({"counts": counts.tolist(), "edges": edges.tolist()})
                row_s.append(st)
                table.append([act, init_label(init), layer, *(st.get(k) for k in
                                                                ("mean", "std", "saturated", "near_half", "zero"))])
                yield LabProgress(f"{act} {init_label(init)}", r + 1, len(rows), "",
                                  {"kind": "hist", "row": r, "col": layer - 1, "counts": counts.tolist(),
                                   "edges": edges.tolist(), "label": f"{act}, {init_label(init)}"})
            hists.append(row_h)
            stats.append(row_s)
        labels = [f"{act}, {init_label(init)}" for act, init in rows[:len(hists)]]
        summary = [f"{s.samples} inputs N(0, 1), {s.layers} layers × {s.units} units, no bias"]
        for label, row in zip(labels, stats):
            summary.append(f"{label:18s} std per layer: " + " ".join(f"{st['std']:.3f}" for st in row))
        summary.append("book: sigmoid std 1 → outputs pile up at 0 and 1; std 0.01 → all near 0.5; Xavier → "
                       "spread; ReLU: std 0.01 → near 0, Xavier → shrinking with depth, He → even across layers")
        data = {"rows": labels, "layers": s.layers, "histograms": hists, "stats": stats}
        tables = {"stats": {"header": ["activation", "init", "layer", "mean", "std", "saturated", "near_half",
                                       "zero"], "rows": table}}
        return data, summary, tables


@dataclass
class InitTrainSettings(LabSettings):
    inits: str = option("std=0.01,xavier,he", "weight choices, comma-separated (he, xavier, std=S)")
    iterations: int = option(2000, "updates per choice", low=1)
    batch_size: int = option(128, "samples per update", low=1)
    lr: float = option(0.01, "SGD learning rate", low=0)
    hidden_layers: int = option(4, "hidden layers (the book's 5-layer net has 4)", low=0, high=50)
    units: int = option(100, "units per hidden layer", low=1)
    dataset: str = option("mnist-10k", "dataset (mnist-10k is embedded; mnist needs 'download')")


class InitTrainLab(Lab):
    name = "init-train"
    title = "Weight initialisation: training"
    about = ("The book's weight_init_compare: a 5-layer ReLU MLP, SGD lr 0.01, batch 128, 2000 iterations. "
             "Loss at iteration 1900 on 60k MNIST: std 0.01 2.30 (does not learn), Xavier 0.38, He 0.29.")
    Settings = InitTrainSettings

    def check(self) -> None:
        for init in split_list(self.settings.inits):
            parse_init(init)

    def _run(self):
        s = self.settings
        data = dataset(s.dataset)
        configs = [(init_label(init), mlp(s.hidden_layers, s.units, "relu", init), {"optimizer": "sgd", "lr": s.lr})
                   for init in split_list(s.inits)]
        losses, finals = yield from train_curves(self, configs, s.iterations, s.batch_size, data, s.seed)
        lines, tables = curve_summary(losses, s.iterations)
        summary = [f"{data.summary()}; {s.hidden_layers + 1}-layer ReLU MLP, SGD lr {s.lr:g}, batch {s.batch_size}",
                   *lines, "book (60k MNIST) at iteration 1900: std=0.01 2.30, Xavier 0.38, He 0.29"]
        data_out = {"losses": losses, "smoothed": {k: smoothed(v, 50) for k, v in losses.items()},
                    "final": {k: {"train_accuracy": r["train_accuracy"], "test_accuracy": r["test_accuracy"]}
                              for k, r in finals.items()}}
        return data_out, summary, tables
