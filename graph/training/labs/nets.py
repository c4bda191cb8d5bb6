"""The book's ``MultiLayerNet`` / ``MultiLayerNetExtend`` as graphs, and lab trainers.

``mlp(hidden=4, units=100)`` is ``Input (N, 784) → [Affine 100 → (BatchNorm) → act →
(Dropout)] × hidden → Affine 10 → Softmax-with-Loss``; the weight initialisation is one
of the book's choices (``he``, ``xavier``, ``std=0.01``...).
"""
from __future__ import annotations

from graph.model.graph import Graph
from graph.model.templates import layout
from graph.training.datasets import load_dataset
from graph.training.events import TrainConfig
from graph.training.labs.base import LabError
from graph.training.trainer import Trainer

ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
_DATA_CACHE: dict = {}


def parse_init(text: str) -> tuple[str, float]:
    """``"he"``, ``"xavier"``, ``"std=0.01"`` / ``"std0.01"`` / ``"0.01"`` -> (init, std)."""
    t = str(text).strip().lower().replace(" ", "")
    if t in ("he", "xavier", "zeros"):
        return t, 0.0
    number = t[4:] if t.startswith("std=") else t[3:] if t.startswith("std") else t
    try:
        std = float(number)
    except ValueError:
        raise LabError(f"unknown weight initialisation {text!r} (he, xavier, zeros or std=0.01)") from None
    if std < 0:
        raise LabError(f"weight std must be >= 0, got {std:g}")
    return "normal", std


def init_label(text: str) -> str:
    kind, std = parse_init(text)
    return {"he": "He", "xavier": "Xavier", "zeros": "zeros"}.get(kind, f"std={std:g}")


def mlp(hidden: int = 4, units: int = 100, activation: str = "relu", init: str = "he", inputs: int = 784,
        classes: int = 10, batchnorm: bool = False, dropout: float = 0.0) -> Graph:
    """A fully connected classifier (see the module docs); the output layer uses the same init."""
    if activation not in ACTIVATIONS:
        raise LabError(f"unknown activation {activation!r} (choose from {', '.join(ACTIVATIONS)})")
    kind, std = parse_init(init)
    g = Graph()
    g.add_node("Input", id="x", shape=[None, inputs], role="data", label="x (images)")
    g.add_node("Input", id="t", shape=[None], role="label", label="t (labels)")
    prev, width = "x", inputs
    for i in range(1, hidden + 2):
        last = i == hidden + 1
        out = classes if last else units
        g.add_node("Affine", id=f"affine{i}", out_features=out, init=kind, std=std,
                   label=f"Affine{i} ({width}→{out})")
        g.connect(prev, f"affine{i}")
        prev, width = f"affine{i}", out
        if last:
            break
        if batchnorm:
            g.add_node("BatchNorm", id=f"batchnorm{i}", label=f"BatchNorm{i}")
            g.connect(prev, f"batchnorm{i}")
            prev = f"batchnorm{i}"
        g.add_node(ACTIVATIONS[activation], id=f"act{i}", label=f"{ACTIVATIONS[activation]}{i}")
        g.connect(prev, f"act{i}")
        prev = f"act{i}"
        if dropout > 0:
            g.add_node("Dropout", id=f"dropout{i}", ratio=float(dropout), label=f"Dropout{i}")
            g.connect(prev, f"dropout{i}")
            prev = f"dropout{i}"
    g.add_node("SoftmaxCrossEntropy", id="loss", label="Softmax-with-Loss")
    g.connect(prev, "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
    layout(g)
    return g


def dataset(spec: str):
    """A dataset, loaded once per process (labs train many networks on the same data)."""
    if spec not in _DATA_CACHE:
        _DATA_CACHE[spec] = load_dataset(spec)
    return _DATA_CACHE[spec]


def trainer(graph: Graph, data, **config) -> Trainer:
    """A Trainer with lab defaults: no float16 comparison, nothing written to disk."""
    return Trainer(graph, data, TrainConfig(compare_float16=False, **config))


def epochs_for(iterations: int, train_samples: int, batch_size: int) -> int:
    per_epoch = -(-train_samples // batch_size)
    return max(1, -(-iterations // per_epoch))
