"""``optimizers``: the book's ``optimizer_compare_mnist``, loss curves of several optimizers.

A 5-layer ReLU MLP (4 hidden layers of 100 units, He init) trains on MNIST with batch 128
for 2000 iterations once per optimizer (same seed, so the same initial weights and
batches); the per-iteration losses are overlaid. Training runs through the Trainer.
"""
from __future__ import annotations

from dataclasses import dataclass

from graph.training.labs.base import Lab, LabSettings, loss_at, option, smoothed
from graph.training.labs.nets import dataset, epochs_for, mlp, trainer
from graph.training.labs.race import optimizer_names
from graph.training.optim import OPTIMIZERS

# the book's optimizers with their default learning rates (common/optimizer.py)
BOOK_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01,
           "adadelta": 1.0, "adam": 0.001}


@dataclass
class OptimizersSettings(LabSettings):
    optimizers: str = option("sgd,momentum,adagrad,adam", f"comma-separated: {', '.join(OPTIMIZERS)}")
    iterations: int = option(2000, "updates per optimizer", low=1)
    batch_size: int = option(128, "samples per update", low=1)
    hidden_layers: int = option(4, "hidden layers (the book's 5-layer net has 4)", low=0, high=50)
    units: int = option(100, "units per hidden layer", low=1)
    dataset: str = option("mnist-10k", "dataset (mnist-10k is embedded; mnist needs 'download')")
    lr_sgd: float | None = option(None, "SGD learning rate (book 0.01)", low=0)
    lr_momentum: float | None = option(None, "Momentum learning rate (book 0.01)", low=0)
    lr_nesterov: float | None = option(None, "Nesterov learning rate (0.01)", low=0)
    lr_adagrad: float | None = option(None, "AdaGrad learning rate (book 0.01)", low=0)
    lr_rmsprop: float | None = option(None, "RMSprop learning rate (0.01)", low=0)
    lr_adadelta: float | None = option(None, "Adadelta learning rate (1)", low=0)
    lr_adam: float | None = option(None, "Adam learning rate (book 0.001)", low=0)


def train_curves(lab: Lab, configs: list[tuple[str, object, dict]], iterations: int, batch_size: int, data,
                 seed: int):
    """Train one network per ``(label, graph, trainer options)`` for ``iterations`` updates.

    A generator (yields the lab's progress) returning ``{label: [loss per iteration]}`` and
    ``{label: final result}``.
    """
    losses, finals = {}, {}
    epochs = epochs_for(iterations, len(data.y_train), batch_size)
    for label, graph, options in configs:
        if lab.stop_requested:
            break
        tr = trainer(graph, data, epochs=epochs, batch_size=batch_size, max_iterations=iterations, seed=seed,
                     **options)
        result, record = yield from lab.train(tr, label, label)
        losses[label] = list(record.loss)
        finals[label] = result
    return losses, finals


def curve_summary(losses: dict, iterations: int) -> tuple[list[str], dict]:
    """Lines and a table with the loss near the end (mean of the last 100 batches, like the
    book's printout every 100 iterations)."""
    at = min(1900, iterations) if iterations >= 1900 else iterations
    lines, rows = [], []
    for label, values in losses.items():
        near = loss_at(values, at)
        batch = values[at - 1] if len(values) >= at else None
        lines.append(f"{label:10s} loss at iteration {at}: {batch if batch is None else round(batch, 4)} "
                     f"(mean of iterations {max(at - 99, 1)}-{at}: {near if near is None else round(near, 4)})")
    for label, values in losses.items():
        for i, v in enumerate(values):
            rows.append([label, i + 1, v])
    return lines, {"loss": {"header": ["run", "iteration", "loss"], "rows": rows}}


class OptimizersLab(Lab):
    name = "optimizers"
    title = "Optimizers on MNIST"
    about = ("The book's optimizer_compare_mnist: a 5-layer ReLU MLP (100 units) on MNIST, batch 128, 2000 "
             "iterations with SGD, Momentum, AdaGrad and Adam; SGD learns slowest, AdaGrad and Adam fastest.")
    Settings = OptimizersSettings

    def check(self) -> None:
        optimizer_names(self.settings.optimizers)

    def _run(self):
        s = self.settings
        data = dataset(s.dataset)
        configs = []
        for name in optimizer_names(s.optimizers):
            lr = getattr(s, f"lr_{name}")
            configs.append((name, mlp(s.hidden_layers, s.units, "relu", "he"),
                            {"optimizer": name, "lr": BOOK_LR[name] if lr is None else lr}))
        losses, finals = yield from train_curves(self, configs, s.iterations, s.batch_size, data, s.seed)
        lines, tables = curve_summary(losses, s.iterations)
        summary = [f"{data.summary()}; {s.hidden_layers + 1}-layer ReLU MLP, batch {s.batch_size}",
                   *lines, "book (60k MNIST): SGD slowest; Momentum, AdaGrad and Adam clearly faster, AdaGrad "
                           "often lowest"]
        data_out = {"losses": losses, "smoothed": {k: smoothed(v, 50) for k, v in losses.items()},
                    "lr": {label: opts["lr"] for label, _, opts in configs},
                    "final": {k: {"train_accuracy": r["train_accuracy"], "test_accuracy": r["test_accuracy"]}
                              for k, r in finals.items()}}
        return data_out, summary, tables
