"""Convolutional templates of chapters 7 and 8 (all for 28×28 single-channel digits).

Every one feeds ``x`` (N, 1, 28, 28) and integer labels ``t`` (N,) and ends in
``SoftmaxCrossEntropy`` with id ``loss``; the shape after each layer is in its label.
"""
from __future__ import annotations

from graph.model.graph import Graph
from graph.model.templates.common import chain, classifier_inputs, softmax_loss


def _conv(g: Graph, id: str, channels: int, kernel: int = 3, stride: int = 1, padding: int = 1,
          label: str = "") -> str:
    g.add_node("Conv2D", id=id, out_channels=channels, kernel_size=kernel, stride=stride, padding=padding,
               init="he", label=label or f"{id} ({channels} filters {kernel}×{kernel})")
    return id


def lenet() -> Graph:
    """LeNet-like (LeCun 1998) with ReLU and max-pooling in place of sigmoid and subsampling.

    28×28 -conv 6×5×5 pad 2-> 6×28×28 -pool-> 6×14×14 -conv 16×5×5-> 16×10×10 -pool->
    16×5×5 -> Affine 120 -> Affine 84 -> Affine 10.
    """
    g = Graph()
    classifier_inputs(g, [None, 1, 28, 28])
    _conv(g, "conv1", 6, 5, padding=2, label="Conv1 (6 filters 5×5, pad 2) → 6×28×28")
    g.add_node("ReLU", id="relu1", label="ReLU")
    g.add_node("MaxPool2D", id="pool1", kernel_size=2, stride=2, label="Pool1 (max 2×2) → 6×14×14")
    _conv(g, "conv2", 16, 5, padding=0, label="Conv2 (16 filters 5×5) → 16×10×10")
    g.add_node("ReLU", id="relu2", label="ReLU")
    g.add_node("MaxPool2D", id="pool2", kernel_size=2, stride=2, label="Pool2 (max 2×2) → 16×5×5")
    g.add_node("Affine", id="affine1", out_features=120, init="he", label="Affine1 (400→120)")
    g.add_node("ReLU", id="relu3", label="ReLU")
    g.add_node("Affine", id="affine2", out_features=84, init="he", label="Affine2 (120→84)")
    g.add_node("ReLU", id="relu4", label="ReLU")
    g.add_node("Affine", id="affine3", out_features=10, init="xavier", label="Affine3 (84→10)")
    chain(g, "x", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "affine1", "relu3", "affine2",
          "relu4", "affine3")
    softmax_loss(g, "affine3")
    return g


def conv_residual() -> Graph:
    """A ResNet basic block on feature maps: out = ReLU(h + F(h)), F = conv-ReLU-conv (3×3, pad 1).

    Padding 1 keeps 14×14, so the skip connection adds maps of the same shape; the add
    node hands the same gradient to the branch and to the skip.
    """
    g = Graph()
    classifier_inputs(g, [None, 1, 28, 28])
    _conv(g, "conv_in", 16, label="Conv (16 filters 3×3, pad 1) → 16×28×28")
    g.add_node("ReLU", id="relu_in", label="ReLU")
    g.add_node("MaxPool2D", id="pool_in", kernel_size=2, stride=2, label="Pool (max 2×2) → h: 16×14×14")
    _conv(g, "res_conv1", 16, label="F: Conv (16, 3×3, pad 1)")
    g.add_node("ReLU", id="res_relu1", label="F: ReLU")
    _conv(g, "res_conv2", 16, label="F: Conv (16, 3×3, pad 1)")
    g.add_node("Add", id="skip_add", label="h + F(h) (skip connection)")
    g.add_node("ReLU", id="relu_out", label="ReLU")
    g.add_node("MaxPool2D", id="pool_out", kernel_size=2, stride=2, label="Pool (max 2×2) → 16×7×7")
    g.add_node("Affine", id="affine_out", out_features=10, init="xavier", label="Affine (784→10)")
    chain(g, "x", "conv_in", "relu_in", "pool_in", "res_conv1", "res_relu1", "res_conv2")
    g.connect("res_conv2", "skip_add", "a")
    g.connect("pool_in", "skip_add", "b")
    chain(g, "skip_add", "relu_out", "pool_out", "affine_out")
    softmax_loss(g, "affine_out")
    return g


def deep_convnet() -> Graph:
    """The book's DeepConvNet (ch. 8, ``deep_convnet.py``): VGG-like 3×3 convolutions, He init.

    conv-ReLU-conv-ReLU-pool three times (16, 16 | 32, 32 | 64, 64 filters; the fourth conv
    has padding 2 as in the book, so 14 -> 16 -> pool 8), then Affine 50 - ReLU - Dropout
    0.5 - Affine 10 - Dropout 0.5. 28 -> 28 -> pool 14 -> 16 -> pool 8 -> pool 4: 64×4×4.
    """
    g = Graph()
    classifier_inputs(g, [None, 1, 28, 28])
    ids = []
    for i, (ch, pad) in enumerate(((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)), start=1):
        ids.append(_conv(g, f"conv{i}", ch, 3, padding=pad,
                         label=f"Conv{i} ({ch} filters 3×3{', pad 2' if pad == 2 else ''})"))
        g.add_node("ReLU", id=f"relu{i}", label=f"ReLU{i}")
        ids.append(f"relu{i}")
        if i % 2 == 0:
            side = {2: 14, 4: 8, 6: 4}[i]
            g.add_node("MaxPool2D", id=f"pool{i // 2}", kernel_size=2, stride=2,
                       label=f"Pool{i // 2} (max 2×2) → {ch}×{side}×{side}")
            ids.append(f"pool{i // 2}")
    g.add_node("Affine", id="affine1", out_features=50, init="he", label="Affine1 (1024→50)")
    g.add_node("ReLU", id="relu7", label="ReLU7")
    g.add_node("Dropout", id="dropout1", ratio=0.5, label="Dropout 0.5")
    g.add_node("Affine", id="affine2", out_features=10, init="he", label="Affine2 (50→10)")
    g.add_node("Dropout", id="dropout2", ratio=0.5, label="Dropout 0.5")
    chain(g, "x", *ids, "affine1", "relu7", "dropout1", "affine2", "dropout2")
    softmax_loss(g, "dropout2")
    return g


def all_conv() -> Graph:
    """All-convolutional net (Springenberg et al. 2015): stride-2 convs instead of pooling and
    a 1×1 conv to 10 class maps averaged by global average pooling instead of Affine layers.

    28 -conv 3×3-> 28 -conv 3×3 stride 2-> 14 -conv-> 14 -conv stride 2-> 7 -conv 1×1-> 10×7×7
    -global average pool-> 10 scores.
    """
    g = Graph()
    classifier_inputs(g, [None, 1, 28, 28])
    _conv(g, "conv1", 16, label="Conv1 (16, 3×3, pad 1) → 16×28×28")
    g.add_node("ReLU", id="relu1", label="ReLU1")
    _conv(g, "conv2", 16, stride=2, label="Conv2 (16, 3×3, stride 2) → 16×14×14")
    g.add_node("ReLU", id="relu2", label="ReLU2")
    _conv(g, "conv3", 32, label="Conv3 (32, 3×3, pad 1) → 32×14×14")
    g.add_node("ReLU", id="relu3", label="ReLU3")
    _conv(g, "conv4", 32, stride=2, label="Conv4 (32, 3×3, stride 2) → 32×7×7")
    g.add_node("ReLU", id="relu4", label="ReLU4")
    _conv(g, "class_conv", 10, 1, padding=0, label="Conv (10 filters 1×1) → 10×7×7")
    g.add_node("GlobalAvgPool", id="gap", label="Global average pool → 10")
    chain(g, "x", "conv1", "relu1", "conv2", "relu2", "conv3", "relu3", "conv4", "relu4", "class_conv", "gap")
    softmax_loss(g, "gap")
    return g
