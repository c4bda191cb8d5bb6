"""Real training on the embedded MNIST set (slow: about a minute on 2 cores).

Targets from the training issue: ``two_layer_net`` >= 0.93 test accuracy; ``simple_convnet``
(Adam 1e-3, batch 100) reaches 0.968 after 5 epochs in PyTorch on the same split, so 4
epochs here must give >= 0.96 (10 epochs give about 0.974, see ``bench/``).
"""
from __future__ import annotations

import pytest

from graph import templates
from graph.training.datasets import load_dataset
from graph.training.trainer import Trainer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist-10k")


def test_two_layer_net_on_mnist_10k(mnist):
    r = Trainer(templates.build("two_layer_net"), mnist, epochs=20, batch_size=100, optimizer="adam",
                lr=0.001, seed=0, compare_float16=False).run()
    assert r["test_accuracy"] >= 0.93, r["history"][-1]
    assert r["train_accuracy"] > r["test_accuracy"]  # the train/test gap the app shows


def test_simple_convnet_few_epochs_and_half_precision(mnist, tmp_path):
    r = Trainer(templates.build("simple_convnet"), mnist, epochs=4, batch_size=100, optimizer="adam",
                lr=0.001, seed=0, run_dir=tmp_path).run()
    assert r["test_accuracy"] >= 0.96, r["history"]
    # the book's half-precision experiment: float16 inference loses (almost) nothing
    assert abs(r["float16_test_accuracy"] - r["float32_test_accuracy"]) <= 0.005
    assert sum(map(sum, r["confusion_matrix"])) == 1000
    assert len(r["misclassified"]) == round((1 - r["test_accuracy"]) * 1000)
