"""Built-in example graphs, with node ids in the book's words and a left-to-right layout.

``build(name)`` returns a fresh :class:`Graph`; ``names()`` lists the templates and
``describe(name)`` gives a one-line description. The trainable templates feed data to an
``Input`` with id ``x`` and integer labels to an ``Input`` with id ``t``, and end in a
``SoftmaxCrossEntropy`` node with id ``loss``.
"""
from __future__ import annotations

from typing import Callable

from graph.model.errors import GraphError
from graph.model.graph import Graph

COLUMN_WIDTH = 220.0
ROW_HEIGHT = 120.0

# The perceptron's inputs (x1, x2) in the book's truth-table order.
TRUTH_TABLE = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def layout(g: Graph) -> None:
    """Place nodes in columns by depth, left to right, each column centred vertically.

    Sources (nodes without inputs) sit in the column just before their first consumer,
    so the tax in ``apple`` is drawn next to the multiply that uses it.
    """
    column: dict[str, int] = {}
    for id in g.topo_order():
        preds = g.predecessors(id)
        column[id] = 1 + max((column[p] for p in preds), default=-1)
    for id in reversed(g.topo_order()):
        succ = g.successors(id)
        if not g.predecessors(id) and succ:
            column[id] = max(0, min(column[s] for s in succ) - 1)
    groups: dict[int, list[str]] = {}
    # within a column, computed nodes go above the sources that join them (tax, labels)
    for id in sorted(g.nodes(), key=lambda n: not g.predecessors(n)):
        groups.setdefault(column[id], []).append(id)
    for col, ids in groups.items():
        top = -(len(ids) - 1) * ROW_HEIGHT / 2
        for row, id in enumerate(ids):
            g.set_position(id, (col * COLUMN_WIDTH, top + row * ROW_HEIGHT))


def _chain(g: Graph, first: str, *ids: str) -> str:
    """Connect ``first -> ids[0] -> ids[1] ...`` (each into its first free port); return the last."""
    prev = first
    for id in ids:
        g.connect(prev, id)
        prev = id
    return prev


def _classifier_inputs(g: Graph, shape: list) -> None:
    g.add_node("Input", id="x", shape=shape, role="data", label="x (images)")
    g.add_node("Input", id="t", shape=[None], role="label", label="t (labels)")


def _softmax_loss(g: Graph, logits: str) -> None:
    g.add_node("SoftmaxCrossEntropy", id="loss", label="Softmax-with-Loss")
    g.connect(logits, "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")


# -- chapter 5: computational graphs ----------------------------------------------------
def _apple() -> Graph:
    g = Graph()
    g.add_node("Constant", id="apple", value=100.0, label="apple (price)")
    g.add_node("Constant", id="apple_num", value=2.0, label="apple_num")
    g.add_node("Mul", id="mul_apple", label="× (mul_apple_layer)")
    g.add_node("Constant", id="tax", value=1.1, label="tax")
    g.add_node("Mul", id="mul_tax", label="× (mul_tax_layer)")
    g.connect("apple", "mul_apple", "a")
    g.connect("apple_num", "mul_apple", "b")
    g.connect("mul_apple", "mul_tax", "a")
    g.connect("tax", "mul_tax", "b")
    return g


def _apple_orange() -> Graph:
    g = Graph()
    g.add_node("Constant", id="apple", value=100.0, label="apple (price)")
    g.add_node("Constant", id="apple_num", value=2.0, label="apple_num")
    g.add_node("Constant", id="orange", value=150.0, label="orange (price)")
    g.add_node("Constant", id="orange_num", value=3.0, label="orange_num")
    g.add_node("Mul", id="mul_apple", label="× (mul_apple_layer)")
    g.add_node("Mul", id="mul_orange", label="× (mul_orange_layer)")
    g.add_node("Add", id="add_apple_orange", label="+ (add_apple_orange_layer)")
    g.add_node("Constant", id="tax", value=1.1, label="tax")
    g.add_node("Mul", id="mul_tax", label="× (mul_tax_layer)")
    g.connect("apple", "mul_apple", "a")
    g.connect("apple_num", "mul_apple", "b")
    g.connect("orange", "mul_orange", "a")
    g.connect("orange_num", "mul_orange", "b")
    g.connect("mul_apple", "add_apple_orange", "a")
    g.connect("mul_orange", "add_apple_orange", "b")
    g.connect("add_apple_orange", "mul_tax", "a")
    g.connect("tax", "mul_tax", "b")
    return g


# -- chapter 2: perceptrons ---------------------------------------------------------------
def _perceptron(w: list, b: float) -> Graph:
    """y = step(x · w + b) over the four rows of the truth table (a = b + w1·x1 + w2·x2)."""
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 2], role="data", value=TRUTH_TABLE, label="x (x1, x2)")
    g.add_node("Constant", id="w", value=[[w[0]], [w[1]]], label="w (w1, w2)")
    g.add_node("MatMul", id="wx", label="w1·x1 + w2·x2")
    g.add_node("Constant", id="b", value=b, label="b (bias)")
    g.add_node("Add", id="a", label="a = wx + b")
    g.add_node("Step", id="y", label="y = h(a)")
    g.connect("x", "wx", "a")
    g.connect("w", "wx", "b")
    g.connect("wx", "a", "a")
    g.connect("b", "a", "b")
    g.connect("a", "y")
    return g


def _xor_two_layer() -> Graph:
    """XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)) as a two-layer perceptron.

    W1's columns are the NAND and OR weights, so layer 1 computes s = (s1, s2) = (NAND, OR)
    side by side; layer 2 is the AND gate on s.
    """
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 2], role="data", value=TRUTH_TABLE, label="x (x1, x2)")
    g.add_node("Constant", id="w1", value=[[-0.5, 0.5], [-0.5, 0.5]], label="w1 (NAND | OR)")
    g.add_node("MatMul", id="wx1", label="x · w1")
    g.add_node("Constant", id="b1", value=[0.7, -0.2], label="b1 (NAND | OR)")
    g.add_node("Add", id="a1", label="a1 = x · w1 + b1")
    g.add_node("Step", id="s", label="s = (s1, s2) = (NAND, OR)")
    g.add_node("Constant", id="w2", value=[[0.5], [0.5]], label="w2 (AND)")
    g.add_node("MatMul", id="sw2", label="s · w2")
    g.add_node("Constant", id="b2", value=-0.7, label="b2 (AND)")
    g.add_node("Add", id="a2", label="a2 = s · w2 + b2")
    g.add_node("Step", id="y", label="y = XOR(x1, x2)")
    g.connect("x", "wx1", "a")
    g.connect("w1", "wx1", "b")
    g.connect("wx1", "a1", "a")
    g.connect("b1", "a1", "b")
    g.connect("a1", "s")
    g.connect("s", "sw2", "a")
    g.connect("w2", "sw2", "b")
    g.connect("sw2", "a2", "a")
    g.connect("b2", "a2", "b")
    g.connect("a2", "y")
    return g


# -- chapters 5-8: trainable networks ----------------------------------------------------
def _two_layer_net() -> Graph:
    """The book's TwoLayerNet (ch. 5) with He initialisation, which trains faster than std 0.01."""
    g = Graph()
    _classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine1", out_features=50, init="he", label="Affine1 (784→50)")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("Affine", id="affine2", out_features=10, init="xavier", label="Affine2 (50→10)")
    _chain(g, "x", "affine1", "relu1", "affine2")
    _softmax_loss(g, "affine2")
    return g


def _simple_convnet() -> Graph:
    """The book's SimpleConvNet (ch. 7): conv 30×5×5 - ReLU - pool 2 - affine 100 - ReLU - affine 10."""
    g = Graph()
    _classifier_inputs(g, [None, 1, 28, 28])
    g.add_node("Conv2D", id="conv1", out_channels=30, kernel_size=5, stride=1, padding=0, init="he",
               label="Conv1 (30 filters 5×5)")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("MaxPool2D", id="pool1", kernel_size=2, stride=2, padding=0, label="Pool1 (max 2×2)")
    g.add_node("Affine", id="affine1", out_features=100, init="he", label="Affine1 (4320→100)")
    g.add_node("ReLU", id="relu2", label="Relu2")
    g.add_node("Affine", id="affine2", out_features=10, init="xavier", label="Affine2 (100→10)")
    _chain(g, "x", "conv1", "relu1", "pool1", "affine1", "relu2", "affine2")
    _softmax_loss(g, "affine2")
    return g


def _residual_block() -> Graph:
    """An MLP with one ResNet-style skip connection: out = ReLU(x + F(x)).

    The residual branch's add node passes the gradient to both the branch and the skip,
    so the first layer gets gradient even through a poorly initialised branch.
    """
    g = Graph()
    _classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine_in", out_features=64, init="he", label="Affine (784→64)")
    g.add_node("ReLU", id="relu_in", label="ReLU")
    g.add_node("Affine", id="res_affine1", out_features=64, init="he", label="F: Affine (64→64)")
    g.add_node("ReLU", id="res_relu1", label="F: ReLU")
    g.add_node("Affine", id="res_affine2", out_features=64, init="he", label="F: Affine (64→64)")
    g.add_node("Add", id="skip_add", label="x + F(x) (skip connection)")
    g.add_node("ReLU", id="relu_out", label="ReLU")
    g.add_node("Affine", id="affine_out", out_features=10, init="xavier", label="Affine (64→10)")
    _chain(g, "x", "affine_in", "relu_in", "res_affine1", "res_relu1", "res_affine2")
    g.connect("res_affine2", "skip_add", "a")
    g.connect("relu_in", "skip_add", "b")
    _chain(g, "skip_add", "relu_out", "affine_out")
    _softmax_loss(g, "affine_out")
    return g


def _batchnorm_mlp() -> Graph:
    """The book's batch-norm network (ch. 6) in small: (Affine - BatchNorm - ReLU) × 2 - Affine."""
    g = Graph()
    _classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine1", out_features=100, init="he", label="Affine1 (784→100)")
    g.add_node("BatchNorm", id="batchnorm1", label="BatchNorm1")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("Affine", id="affine2", out_features=100, init="he", label="Affine2 (100→100)")
    g.add_node("BatchNorm", id="batchnorm2", label="BatchNorm2")
    g.add_node("ReLU", id="relu2", label="Relu2")
    g.add_node("Affine", id="affine3", out_features=10, init="xavier", label="Affine3 (100→10)")
    _chain(g, "x", "affine1", "batchnorm1", "relu1", "affine2", "batchnorm2", "relu2", "affine3")
    _softmax_loss(g, "affine3")
    return g


def _toy_mlp() -> Graph:
    """A TensorFlow-Playground-style classifier for the 2-D toy sets (circle, xor, spiral...)."""
    g = Graph()
    _classifier_inputs(g, [None, 2])
    g.set_label("x", "x (2-D points)")
    g.add_node("Affine", id="affine1", out_features=32, init="xavier", label="Affine1 (2→32)")
    g.add_node("Tanh", id="tanh1", label="Tanh1")
    g.add_node("Affine", id="affine2", out_features=32, init="xavier", label="Affine2 (32→32)")
    g.add_node("Tanh", id="tanh2", label="Tanh2")
    g.add_node("Affine", id="affine3", out_features=2, init="xavier", label="Affine3 (32→2)")
    _chain(g, "x", "affine1", "tanh1", "affine2", "tanh2", "affine3")
    _softmax_loss(g, "affine3")
    return g


_TEMPLATES: dict[str, tuple[Callable[[], Graph], str]] = {
    "apple": (_apple, "buy apples: 100 × 2 × tax 1.1 = 220; backprop gives dapple 2.2, dapple_num 110, dtax 200"),
    "apple_orange": (_apple_orange, "buy apples and oranges: (100 × 2 + 150 × 3) × 1.1 = 715; the add node "
                                    "passes gradients through, multiply nodes swap their inputs"),
    "and_gate": (lambda: _perceptron([0.5, 0.5], -0.7), "AND perceptron y = step(0.5·x1 + 0.5·x2 − 0.7) "
                                                       "over the truth table"),
    "nand_gate": (lambda: _perceptron([-0.5, -0.5], 0.7), "NAND perceptron y = step(−0.5·x1 − 0.5·x2 + 0.7) "
                                                         "over the truth table"),
    "or_gate": (lambda: _perceptron([0.5, 0.5], -0.2), "OR perceptron y = step(0.5·x1 + 0.5·x2 − 0.2) "
                                                      "over the truth table"),
    "xor_two_layer": (_xor_two_layer, "XOR needs two layers: NAND and OR side by side, then AND"),
    "toy_mlp": (_toy_mlp, "2-D classifier for the toy sets (circle, xor, gauss, spiral, moons): "
                          "Affine 32, Tanh, Affine 32, Tanh, Affine 2, Softmax-with-Loss"),
    "two_layer_net": (_two_layer_net, "TwoLayerNet for MNIST: Affine 784→50, ReLU, Affine 50→10, "
                                      "Softmax-with-Loss"),
    "simple_convnet": (_simple_convnet, "SimpleConvNet: Conv 30×5×5, ReLU, max-pool 2, Affine 100, ReLU, "
                                        "Affine 10, Softmax-with-Loss"),
    "residual_block": (_residual_block, "MLP with a ResNet skip connection: ReLU(h + F(h)), "
                                        "F = Affine-ReLU-Affine"),
    "batchnorm_mlp": (_batchnorm_mlp, "MLP with batch normalization: (Affine 100, BatchNorm, ReLU) × 2, "
                                      "Affine 10, Softmax-with-Loss"),
}


def names() -> list[str]:
    """Template names, simplest first."""
    return list(_TEMPLATES)


def describe(name: str) -> str:
    """One-line description of a template."""
    return _TEMPLATES[_check(name)][1]


def build(name: str) -> Graph:
    """A fresh graph for the template ``name``, laid out left to right."""
    g = _TEMPLATES[_check(name)][0]()
    layout(g)
    return g


def _check(name: str) -> str:
    if name not in _TEMPLATES:
        raise GraphError(f"unknown template {name!r} (templates: {', '.join(_TEMPLATES)})")
    return name
