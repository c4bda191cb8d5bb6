"""Built-in example graphs, with node ids in the book's words and a left-to-right layout.

``build(name)`` returns a fresh :class:`Graph`; ``names()`` lists the templates and
``describe(name)`` gives a one-line description. The trainable templates feed data to an
``Input`` with id ``x`` and integer labels to an ``Input`` with id ``t``, and end in a
``SoftmaxCrossEntropy`` node with id ``loss``.

The builders live by chapter: :mod:`.basics` (computational graphs, perceptrons),
:mod:`.networks` (Affine networks and SimpleConvNet), :mod:`.convnets` (deeper CNNs).
"""
from __future__ import annotations

from typing import Callable

from graph.model.errors import GraphError
from graph.model.graph import Graph
from graph.model.templates import basics, convnets, networks
from graph.model.templates.common import COLUMN_WIDTH, ROW_HEIGHT, TRUTH_TABLE, layout

__all__ = ["COLUMN_WIDTH", "ROW_HEIGHT", "TRUTH_TABLE", "build", "describe", "layout", "names"]

# measured with `backprop-studio train deep_convnet --dataset mnist-10k --epochs 5` (Adam 1e-3,
# batch 100, seed 0, float32, NumPy) on a 2-core machine shared with other jobs
DEEP_CONVNET_RESULT = ("measured on mnist-10k with 5 epochs (the book trains 20 on 60k): test accuracy 0.960, "
                       "about 5 min of training (40-85 s per epoch on 2 shared CPU cores)")

_TEMPLATES: dict[str, tuple[Callable[[], Graph], str]] = {
    "apple": (basics.apple, "buy apples: 100 × 2 × tax 1.1 = 220; backprop gives dapple 2.2, dapple_num 110, "
                            "dtax 200"),
    "apple_orange": (basics.apple_orange, "buy apples and oranges: (100 × 2 + 150 × 3) × 1.1 = 715; the add "
                                          "node passes gradients through, multiply nodes swap their inputs"),
    "and_gate": (lambda: basics.perceptron([0.5, 0.5], -0.7), "AND perceptron y = step(0.5·x1 + 0.5·x2 − 0.7) "
                                                              "over the truth table"),
    "nand_gate": (lambda: basics.perceptron([-0.5, -0.5], 0.7), "NAND perceptron y = step(−0.5·x1 − 0.5·x2 + "
                                                                "0.7) over the truth table"),
    "or_gate": (lambda: basics.perceptron([0.5, 0.5], -0.2), "OR perceptron y = step(0.5·x1 + 0.5·x2 − 0.2) "
                                                             "over the truth table"),
    "xor_two_layer": (basics.xor_two_layer, "XOR needs two layers: NAND and OR side by side, then AND"),
    "toy_mlp": (networks.toy_mlp, "2-D classifier for the toy sets (circle, xor, gauss, spiral, moons): "
                                  "Affine 32, Tanh, Affine 32, Tanh, Affine 2, Softmax-with-Loss"),
    "two_layer_net": (networks.two_layer_net, "TwoLayerNet for MNIST: Affine 784→50, ReLU, Affine 50→10, "
                                              "Softmax-with-Loss"),
    "simple_convnet": (networks.simple_convnet, "SimpleConvNet: Conv 30×5×5, ReLU, max-pool 2, Affine 100, "
                                                "ReLU, Affine 10, Softmax-with-Loss"),
    "residual_block": (networks.residual_block, "MLP with a ResNet skip connection: ReLU(h + F(h)), "
                                                "F = Affine-ReLU-Affine"),
    "batchnorm_mlp": (networks.batchnorm_mlp, "MLP with batch normalization: (Affine 100, BatchNorm, ReLU) × 2, "
                                              "Affine 10, Softmax-with-Loss"),
    "lenet": (convnets.lenet, "LeNet-like CNN: Conv 6×5×5 (pad 2), max-pool, Conv 16×5×5, max-pool, "
                              "Affine 120, 84, 10 (ReLU instead of sigmoid)"),
    "conv_residual": (convnets.conv_residual, "Convolutional residual block: ReLU(h + F(h)), "
                                              "F = Conv 3×3 - ReLU - Conv 3×3 (pad 1 keeps the shape)"),
    "deep_convnet": (convnets.deep_convnet, "The book's deep CNN (ch. 8, VGG-like): 6 Conv 3×3 (16-16-32-32-64-64, "
                                            "He init), 3 max-pools, Affine 50, Dropout, Affine 10, Dropout; "
                                            + DEEP_CONVNET_RESULT),
    "all_conv": (convnets.all_conv, "All-convolutional net: stride-2 convs instead of pooling, a 1×1 conv to "
                                    "10 class maps, global average pooling instead of Affine layers"),
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
