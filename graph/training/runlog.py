"""A finished training run as plain data, for comparing runs side by side.

Every run the Training dock or a lab finishes becomes a :class:`RunRecord`; the GUI keeps
them in a session list and overlays any set of them (loss per iteration, accuracy per
epoch, learning rate). Qt-free, so the CLI and tests read the same records.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

_ids = itertools.count(1)

# per-epoch columns a record may hold (labs add test accuracy, evaluated train accuracy...)
EPOCH_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc", "eval_train_acc", "lr")


@dataclass
class RunRecord:
    """One run: per-iteration loss and learning rate, per-epoch metrics, final figures.

    Attributes
    ----------
    label : str
        What the legend says ("sgd", "He", "λ = 0.1", "training 3"...).
    source : str
        Where it came from: ``"training"`` or a lab's name.
    iterations, loss, lr : list
        One entry per update (iteration counts from 1).
    epochs : list of dict
        ``{"epoch": e, "train_loss": ..., "val_acc": ..., ...}`` per epoch.
    final : dict
        Scalar final metrics (test accuracy...).
    """

    label: str
    source: str = "training"
    iterations: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    final: dict = field(default_factory=dict)
    note: str = ""
    id: int = field(default_factory=lambda: next(_ids))

    def add_iteration(self, iteration: int, loss: float, lr: float) -> None:
        self.iterations.append(int(iteration))
        self.loss.append(float(loss))
        self.lr.append(float(lr))

    def add_epoch(self, event, extra: dict | None = None) -> None:
        """Record an :class:`~graph.training.events.EpochEvent` (plus extra columns)."""
        row = {"epoch": event.epoch, "train_loss": event.train_loss, "train_acc": event.train_acc,
               "val_loss": event.val_loss, "val_acc": event.val_acc, "lr": event.lr}
        row.update(extra or {})
        self.epochs.append(row)

    @classmethod
    def from_history(cls, label: str, history: list, iterations=(), loss=(), lr=(), final: dict | None = None,
                     source: str = "training") -> "RunRecord":
        """A record from a trainer result's ``history`` and per-iteration arrays."""
        rec = cls(label=label, source=source)
        rec.iterations = [int(i) for i in iterations]
        rec.loss = [float(v) for v in loss]
        rec.lr = [float(v) for v in lr]
        rec.epochs = [dict(row) for row in history]
        rec.final = dict(final or {})
        return rec

    @property
    def title(self) -> str:
        return f"#{self.id} {self.label} ({self.source})"

    def epoch_series(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, values)`` of one per-epoch column, skipping epochs without it."""
        xs = [r["epoch"] for r in self.epochs if r.get(column) is not None]
        ys = [r[column] for r in self.epochs if r.get(column) is not None]
        return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "source": self.source, "iterations": list(self.iterations),
                "loss": list(self.loss), "lr": list(self.lr), "epochs": [dict(r) for r in self.epochs],
                "final": dict(self.final), "note": self.note}


def runs_csv_rows(records: list[RunRecord]) -> tuple[list[str], list[list]]:
    """One long table of several runs: ``run, label, kind, x, column, value``."""
    header = ["run", "label", "kind", "x", "column", "value"]
    rows: list[list] = []
    for rec in records:
        for it, loss, lr in zip(rec.iterations, rec.loss, rec.lr):
            rows.append([rec.id, rec.label, "iteration", it, "loss", loss])
            rows.append([rec.id, rec.label, "iteration", it, "lr", lr])
        for row in rec.epochs:
            for column in EPOCH_COLUMNS:
                if row.get(column) is not None:
                    rows.append([rec.id, rec.label, "epoch", row["epoch"], column, row[column]])
    return header, rows
