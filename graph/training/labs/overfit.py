"""``overfit``: overfitting and its cures (the book's ``overfit_weight_decay`` / ``overfit_dropout``).

300 training samples, a 7-layer MLP (6 hidden layers of 100 units, He init), SGD lr 0.01,
batch 100, 201 epochs; one run per weight decay λ (book: 0 and 0.1), optionally with
dropout. Train and test accuracy are evaluated after every epoch, as in the book, and
the final weights are kept (restoring the best epoch would hide the overfitting).
The book: without decay train accuracy reaches 1.0 with a large gap to test; with
λ = 0.1 train ≈ 0.93, test ≈ 0.72.
"""
from __future__ import annotations

from dataclasses import dataclass

from graph.training.labs.base import Lab, LabSettings, numbers, option
from graph.training.labs.nets import dataset, mlp, trainer


@dataclass
class OverfitSettings(LabSettings):
    train_size: int = option(300, "training samples (few, so the net can memorise them)", low=1)
    hidden_layers: int = option(6, "hidden layers (the book's 7-layer net has 6)", low=0, high=50)
    units: int = option(100, "units per hidden layer", low=1)
    weight_decays: str = option("0,0.1", "weight decay λ values, comma-separated, one run each")
    dropout: float = option(0.0, "dropout ratio after every hidden layer (book's overfit_dropout: 0.2)",
                            low=0, high=0.95)
    epochs: int = option(201, "epochs", low=1)
    batch_size: int = option(100, "samples per update", low=1)
    lr: float = option(0.01, "SGD learning rate", low=0)
    keep_final: bool = option(True, "keep the final weights (restoring the best epoch hides overfitting)")
    dataset: str = option("mnist-10k", "dataset")


class OverfitLab(Lab):
    name = "overfit"
    title = "Overfitting: weight decay and dropout"
    about = ("The book's overfit_weight_decay: 300 training samples, 7 layers of 100 units. Without weight "
             "decay train accuracy reaches 1.0 far above test; with λ = 0.1 train ≈ 0.93, test ≈ 0.72.")
    Settings = OverfitSettings

    def check(self) -> None:
        numbers(self.settings.weight_decays, "weight_decays")

    def _run(self):
        s = self.settings
        data = dataset(s.dataset)
        runs, rows = {}, []
        for lam in numbers(s.weight_decays, "weight_decays") or [0.0]:
            if self.stop_requested:
                break
            label = f"λ = {lam:g}" + (f", dropout {s.dropout:g}" if s.dropout else "")
            tr = trainer(mlp(s.hidden_layers, s.units, "relu", "he", dropout=s.dropout), data, optimizer="sgd",
                         lr=s.lr, weight_decay=lam, epochs=s.epochs, batch_size=s.batch_size,
                         train_size=s.train_size, seed=s.seed, restore_best=not s.keep_final)
            train_acc, test_acc = [], []

            def on_epoch(ev, tr=tr, train_acc=train_acc, test_acc=test_acc):
                train_acc.append(tr.evaluate("train")[1])
                test_acc.append(tr.evaluate("test")[1])
                return {"eval_train_acc": train_acc[-1], "test_acc": test_acc[-1]}

            result, _ = yield from self.train(tr, label, label, on_epoch)
            runs[label] = {"weight_decay": lam, "train_acc": train_acc, "test_acc": test_acc,
                           "final_train_accuracy": result["train_accuracy"],
                           "final_test_accuracy": result["test_accuracy"]}
            rows += [[label, e + 1, a, b] for e, (a, b) in enumerate(zip(train_acc, test_acc))]
        summary = [f"{data.summary()}; {s.train_size} training samples, {s.hidden_layers + 1} layers × {s.units}, "
                   f"SGD lr {s.lr:g}, {s.epochs} epochs, {'final' if s.keep_final else 'best-epoch'} weights"]
        for label, r in runs.items():
            gap = r["final_train_accuracy"] - r["final_test_accuracy"]
            summary.append(f"{label:22s} train {r['final_train_accuracy']:.4f}  test {r['final_test_accuracy']:.4f}"
                           f"  gap {gap:.4f}")
        summary.append("book: λ = 0 train 1.0 with a large gap; λ = 0.1 train ≈ 0.93, test ≈ 0.72")
        return {"runs": runs}, summary, {"accuracy": {"header": ["run", "epoch", "train_accuracy", "test_accuracy"],
                                                      "rows": rows}}
