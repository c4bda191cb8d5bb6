"""Templates of chapters 2 and 5: the apple examples and the perceptron gates."""
from __future__ import annotations

from graph.model.graph import Graph
from graph.model.templates.common import TRUTH_TABLE


# -- chapter 5: computational graphs ----------------------------------------------------
def apple() -> Graph:
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


def apple_orange() -> Graph:
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
def perceptron(w: list, b: float) -> Graph:
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


def xor_two_layer() -> Graph:
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


