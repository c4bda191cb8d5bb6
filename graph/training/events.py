"""Progress events and settings of a training run (plain data, no Qt, no arrays on a device).

The GUI's worker thread receives these from :class:`graph.training.trainer.Trainer` and forwards
only copies of them to the window.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

MONITORS = {"val_loss": "min", "val_acc": "max", "train_loss": "min", "train_acc": "max"}


def fmt_duration(seconds: float) -> str:
    """A duration such as an ETA, rounded to whole seconds: ``"4:05"``, or ``"1:02:03"`` from
    an hour on; ``"-:--"`` when it is unknown (NaN or infinite); negative values read as 0."""
    if not math.isfinite(seconds):
        return "-:--"
    s = max(int(round(seconds)), 0)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class TrainError(ValueError):
    """Training cannot start or continue as asked; the message says why."""


@dataclass
class IterationEvent:
    """After each update. ``iteration`` counts from 1 over the whole run.

    ``samples_per_s`` is this epoch's training throughput and ``eta_s`` the time left
    (remaining iterations at the run's measured seconds per iteration, validation and
    checkpoints included, plus the final evaluation); both leave out paused time.
    """

    epoch: int
    iteration: int
    loss: float
    lr: float
    samples_per_s: float
    eta_s: float
    batch: int = 0
    batches_per_epoch: int = 0
    total_iterations: int = 0


@dataclass
class EpochEvent:
    """After each epoch: running train metrics of the epoch, validation metrics at its end."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    seconds: float
    lr: float = 0.0
    improved: bool = False
    iteration: int | None = None   # the run's iterations so far (where the epoch ends on a curve)


@dataclass
class PhaseEvent:
    """What the run is doing besides training batches, with progress: ``phase`` is
    ``validation``, ``checkpoint``, ``evaluation`` (the final weights on every split),
    ``float16`` (the half-precision check) or ``writing`` (the run folder); ``done`` of
    ``total`` counts samples (evaluation) or files. ``weights_final`` is set on the first
    event after which the weights no longer change (the final evaluation starts).
    """

    phase: str
    text: str
    done: int = 0
    total: int = 0
    weights_final: bool = False


@dataclass
class StoppedEvent:
    """Training ended early: ``kind`` is ``user``, ``nonfinite`` or ``early_stopping``."""

    reason: str
    kind: str = "user"


@dataclass
class DoneEvent:
    """Always last; ``result`` holds the final metrics (see :meth:`Trainer.result`)."""

    result: dict


@dataclass
class TrainConfig:
    """Settings of a run (all JSON-friendly; saved in the run folder and checkpoints).

    ``early_stopping`` is the patience in epochs (0 = off); ``monitor`` is one of
    ``val_loss``, ``val_acc``, ``train_loss``, ``train_acc``; ``scaling`` is ``auto``,
    ``unit``, ``standardize`` or ``none``; ``augment`` e.g. ``"shift=2,rotate=10"``.
    ``train_size`` trains on the first N samples of the training split only (the book's
    overfitting experiment uses 300); ``max_iterations`` ends the run normally after that
    many updates (the book's experiments count iterations, not epochs).
    ``restore_best=False`` keeps the final weights (needed to see overfitting).
    ``shuffle=False`` visits the training samples in the same order every epoch.
    """

    epochs: int = 10
    batch_size: int = 100
    optimizer: str = "adam"
    lr: float | None = None
    optimizer_options: dict = field(default_factory=dict)
    schedule: str | dict | None = None
    weight_decay: float = 0.0
    clip_norm: float | None = None
    early_stopping: int = 0
    monitor: str = "val_loss"
    restore_best: bool = True
    augment: str | dict | None = None
    scaling: str = "auto"
    backend: str = "numpy"
    dtype: str = "float32"
    seed: int = 0
    # 250: as fast per sample as 1000 once warm, and a quarter of the memory; the first
    # 1000-sample pass touched ~130 MB of fresh pages (SimpleConvNet), 0.2 s on a VM
    eval_batch_size: int = 250
    compare_float16: bool = True
    train_size: int | None = None
    max_iterations: int | None = None
    shuffle: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise TrainError("epochs, batch size and evaluation batch size must be >= 1")
        if self.monitor not in MONITORS:
            raise TrainError(f"unknown monitor {self.monitor!r} (choose from {', '.join(MONITORS)})")
        if self.dtype not in ("float32", "float64"):
            raise TrainError(f"training dtype must be float32 or float64 (float16 is for the inference "
                             f"comparison only), got {self.dtype!r}")
        if self.early_stopping < 0:
            raise TrainError(f"early stopping patience must be >= 0, got {self.early_stopping}")
        if self.train_size is not None and self.train_size < 1:
            raise TrainError(f"training-set size must be >= 1, got {self.train_size}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise TrainError(f"maximum iterations must be >= 1, got {self.max_iterations}")
