"""Trainable templates of chapters 5-8 built from Affine layers (and SimpleConvNet)."""
from __future__ import annotations

from graph.model.graph import Graph
from graph.model.templates.common import chain, classifier_inputs, softmax_loss


# -- chapters 5-8: trainable networks ----------------------------------------------------
def two_layer_net() -> Graph:
    """The book's TwoLayerNet (ch. 5) with He initialisation, which trains faster than std 0.01."""
    g = Graph()
    classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine1", out_features=50, init="he", label="Affine1 (784→50)")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("Affine", id="affine2", out_features=10, init="xavier", label="Affine2 (50→10)")
    chain(g, "x", "affine1", "relu1", "affine2")
    softmax_loss(g, "affine2")
    return g


def simple_convnet() -> Graph:
    """The book's SimpleConvNet (ch. 7): conv 30×5×5 - ReLU - pool 2 - affine 100 - ReLU - affine 10."""
    g = Graph()
    classifier_inputs(g, [None, 1, 28, 28])
    g.add_node("Conv2D", id="conv1", out_channels=30, kernel_size=5, stride=1, padding=0, init="he",
               label="Conv1 (30 filters 5×5)")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("MaxPool2D", id="pool1", kernel_size=2, stride=2, padding=0, label="Pool1 (max 2×2)")
    g.add_node("Affine", id="affine1", out_features=100, init="he", label="Affine1 (4320→100)")
    g.add_node("ReLU", id="relu2", label="Relu2")
    g.add_node("Affine", id="affine2", out_features=10, init="xavier", label="Affine2 (100→10)")
    chain(g, "x", "conv1", "relu1", "pool1", "affine1", "relu2", "affine2")
    softmax_loss(g, "affine2")
    return g


def residual_block() -> Graph:
    """An MLP with one ResNet-style skip connection: out = ReLU(x + F(x)).

    The residual branch's add node passes the gradient to both the branch and the skip,
    so the first layer gets gradient even through a poorly initialised branch.
    """
    g = Graph()
    classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine_in", out_features=64, init="he", label="Affine (784→64)")
    g.add_node("ReLU", id="relu_in", label="ReLU")
    g.add_node("Affine", id="res_affine1", out_features=64, init="he", label="F: Affine (64→64)")
    g.add_node("ReLU", id="res_relu1", label="F: ReLU")
    g.add_node("Affine", id="res_affine2", out_features=64, init="he", label="F: Affine (64→64)")
    g.add_node("Add", id="skip_add", label="x + F(x) (skip connection)")
    g.add_node("ReLU", id="relu_out", label="ReLU")
    g.add_node("Affine", id="affine_out", out_features=10, init="xavier", label="Affine (64→10)")
    chain(g, "x", "affine_in", "relu_in", "res_affine1", "res_relu1", "res_affine2")
    g.connect("res_affine2", "skip_add", "a")
    g.connect("relu_in", "skip_add", "b")
    chain(g, "skip_add", "relu_out", "affine_out")
    softmax_loss(g, "affine_out")
    return g


def batchnorm_mlp() -> Graph:
    """The book's batch-norm network (ch. 6) in small: (Affine - BatchNorm - ReLU) × 2 - Affine."""
    g = Graph()
    classifier_inputs(g, [None, 784])
    g.add_node("Affine", id="affine1", out_features=100, init="he", label="Affine1 (784→100)")
    g.add_node("BatchNorm", id="batchnorm1", label="BatchNorm1")
    g.add_node("ReLU", id="relu1", label="Relu1")
    g.add_node("Affine", id="affine2", out_features=100, init="he", label="Affine2 (100→100)")
    g.add_node("BatchNorm", id="batchnorm2", label="BatchNorm2")
    g.add_node("ReLU", id="relu2", label="Relu2")
    g.add_node("Affine", id="affine3", out_features=10, init="xavier", label="Affine3 (100→10)")
    chain(g, "x", "affine1", "batchnorm1", "relu1", "affine2", "batchnorm2", "relu2", "affine3")
    softmax_loss(g, "affine3")
    return g


def toy_mlp() -> Graph:
    """A TensorFlow-Playground-style classifier for the 2-D toy sets (circle, xor, spiral...)."""
    g = Graph()
    classifier_inputs(g, [None, 2])
    g.set_label("x", "x (2-D points)")
    g.add_node("Affine", id="affine1", out_features=32, init="xavier", label="Affine1 (2→32)")
    g.add_node("Tanh", id="tanh1", label="Tanh1")
    g.add_node("Affine", id="affine2", out_features=32, init="xavier", label="Affine2 (32→32)")
    g.add_node("Tanh", id="tanh2", label="Tanh2")
    g.add_node("Affine", id="affine3", out_features=2, init="xavier", label="Affine3 (32→2)")
    chain(g, "x", "affine1", "tanh1", "affine2", "tanh2", "affine3")
    softmax_loss(g, "affine3")
    return g


