"""``batchnorm``: training with and without batch normalisation across weight scales.

The book's ``batch_norm_test``: 1000 training samples, a 6-layer MLP (5 hidden layers of
100 units), SGD lr 0.01, batch 100, 20 epochs, weights drawn with std from
``logspace(0, -4, 16)``; the same seed (same initial weights and batches) with and without
BatchNorm after every hidden Affine. Training accuracy is evaluated on the training set
before training and after each epoch (inference mode, as the book's ``accuracy``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.training.labs.base import Lab, LabSettings, option
from graph.training.labs.nets import dataset, mlp, trainer


@dataclass
class BatchNormSettings(LabSettings):
    scales: int = option(16, "weight scales, log-spaced from the largest to the smallest", low=1, high=64)
    largest: float = option(1.0, "largest weight std", low=0)
    smallest: float = option(1e-4, "smallest weight std", low=0)
    train_size: int = option(1000, "training samples", low=1)
    epochs: int = option(20, "epochs per run", low=1)
    batch_size: int = option(100, "samples per update", low=1)
    lr: float = option(0.01, "SGD learning rate", low=0)
    hidden_layers: int = option(5, "hidden layers", low=0, high=50)
    units: int = option(100, "units per hidden layer", low=1)
    dataset: str = option("mnist-10k", "dataset")


class BatchNormLab(Lab):
    name = "batchnorm"
    title = "Batch normalisation"
    about = ("The book's batch_norm_test: with vs without batch normalisation for 16 weight scales from 1 to "
             "1e-4 (same seeds). With BatchNorm training starts fast at almost every scale; without it, "
             "most scales barely learn.")
    Settings = BatchNormSettings

    def _run(self):
        s = self.settings
        data = dataset(s.dataset)
        scales = np.logspace(np.log10(s.largest), np.log10(s.smallest), s.scales) if s.scales > 1 else [s.largest]
        curves, rows = [], []
        for i, scale in enumerate(scales):
            entry = {"scale": float(scale)}
            for bn in (True, False):
                if self.stop_requested:
                    break
                label = f"w std {scale:.2g} {'with' if bn else 'without'} BN"
                tr = trainer(mlp(s.hidden_layers, s.units, "relu", f"std={scale}", batchnorm=bn), data,
                             optimizer="sgd", lr=s.lr, epochs=s.epochs, batch_size=s.batch_size,
                             train_size=s.train_size, seed=s.seed, restore_best=False)
                accs = [tr.evaluate("train")[1]]

                def on_epoch(ev, tr=tr, accs=accs, i=i, bn=bn):
                    accs.append(tr.evaluate("train")[1])
                    return {"eval_train_acc": accs[-1], "panel": i, "bn": bn}

                yield from self.train(tr, label, f"scale {i + 1}/{len(scales)}", on_epoch)
                entry["with_bn" if bn else "without_bn"] = accs
                for epoch, acc in enumerate(accs):
                    rows.append([float(scale), "with" if bn else "without", epoch, acc])
            if "without_bn" not in entry:
                break
            curves.append(entry)
        summary = [f"{data.summary()}; {s.train_size} training samples, {s.hidden_layers} hidden layers, "
                   f"SGD lr {s.lr:g}, {s.epochs} epochs"]
        wins = 0
        for c in curves:
            wins += c["with_bn"][-1] > c["without_bn"][-1]
            summary.append(f"w std {c['scale']:<9.3g} final train accuracy with BN {c['with_bn'][-1]:.3f}, "
                           f"without {c['without_bn'][-1]:.3f}")
        if curves:
            summary.append(f"with BN ahead at {wins} of {len(curves)} scales (book: almost all)")
        data_out = {"scales": [c["scale"] for c in curves], "curves": curves}
        return data_out, summary, {"accuracy": {"header": ["w_std", "batchnorm", "epoch", "train_accuracy"],
                                                "rows": rows}}
