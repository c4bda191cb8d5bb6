"""``search``: random hyperparameter search on the validation split (the book's
``hyperparameter_optimization``), narrowing the ranges, and one final test.

Each trial draws the learning rate and the weight decay log-uniformly (book: lr in
10^-6..10^-2, λ in 10^-8..10^-4), trains a 7-layer MLP with SGD for a few epochs on a
reduced training set and is scored by its **validation** accuracy. The trials never see
the test set: they train on data whose test split is empty. Narrowing takes the ranges
spanned by the best k trials and starts the next round. The final run trains the chosen
setting on the full training split and evaluates the test set exactly once: a test score
used to choose settings would itself be fitted, and would no longer say how the network
does on data it has never seen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from graph.training.labs.base import Lab, LabError, LabProgress, LabSettings, option
from graph.training.labs.nets import dataset, mlp, trainer

WHY_ONCE = ("The test set is evaluated exactly once, after the search: every look at it that influences a "
            "choice fits the settings to it, and its score would stop measuring performance on unseen data. "
            "Choosing uses the validation split only.")


@dataclass
class SearchSettings(LabSettings):
    trials: int = option(100, "trials per round", low=1)
    epochs: int = option(50, "epochs per trial", low=1)
    train_size: int = option(400, "training samples per trial (book: 400 of 500, the rest validation)", low=1)
    val_size: int = option(100, "validation samples scoring each trial (book: 100)", low=1)
    lr_min: float = option(1e-6, "smallest learning rate", low=0)
    lr_max: float = option(1e-2, "largest learning rate", low=0)
    decay_min: float = option(1e-8, "smallest weight decay λ", low=0)
    decay_max: float = option(1e-4, "largest weight decay λ", low=0)
    best_k: int = option(5, "trials whose ranges the narrowing keeps", low=1)
    rounds: int = option(1, "rounds; each after the first searches the ranges of the previous best k", low=1)
    round: int = option(1, "number of the first round (the GUI counts rounds across narrowing)", low=1)
    hidden_layers: int = option(6, "hidden layers", low=0, high=50)
    units: int = option(100, "units per hidden layer", low=1)
    batch_size: int = option(100, "samples per update", low=1)
    final: bool = option(False, "after the search, train the best setting fully and test once")
    final_epochs: int = option(20, "epochs of the final run on the full training split", low=1)
    dataset: str = option("mnist-10k", "dataset")


def search_data(data, train_size: int, val_size: int):
    """The data a trial sees: reduced train and validation splits and **no test split**."""
    if val_size > len(data.y_val):
        raise LabError(f"val_size {val_size} is larger than the validation split ({len(data.y_val)})")
    return replace(data.first_train(train_size), x_val=data.x_val[:val_size], y_val=data.y_val[:val_size],
                   x_test=data.x_test[:0], y_test=data.y_test[:0], test_index=None)


def draw(rng, low: float, high: float) -> float:
    """Log-uniform in [low, high]."""
    return float(10 ** rng.uniform(math.log10(low), math.log10(high)))


def narrowed(settings: SearchSettings, trials: list[dict], k: int | None = None) -> SearchSettings:
    """The settings of the next round: ranges spanned by the ``k`` best trials."""
    k = settings.best_k if k is None else int(k)
    best = sorted(trials, key=lambda t: -t["val_acc"])[:max(k, 1)]
    if not best:
        raise LabError("no finished trials to narrow to")
    lrs = [t["lr"] for t in best]
    decays = [t["weight_decay"] for t in best]
    return replace(settings, lr_min=min(lrs), lr_max=max(lrs), decay_min=min(decays), decay_max=max(decays),
                   round=settings.round + 1)


class SearchLab(Lab):
    name = "search"
    title = "Hyperparameter search"
    about = ("The book's hyperparameter_optimization: 100 trials with lr 10^-6..10^-2 and weight decay "
             "10^-8..10^-4 (log-uniform), scored on the validation split; narrow to the best and search again; "
             "train the winner and test once.")
    Settings = SearchSettings

    def check(self) -> None:
        s = self.settings
        for lo, hi, what in ((s.lr_min, s.lr_max, "lr"), (s.decay_min, s.decay_max, "decay")):
            if not 0 < lo <= hi:
                raise LabError(f"{what} range must satisfy 0 < min <= max, got {lo:g}..{hi:g}")

    def _run(self):
        s = self.settings
        full = dataset(s.dataset)
        data = search_data(full, s.train_size, s.val_size)
        rounds, current, trials = [], s, []
        for r in range(s.rounds):
            if r:
                current = narrowed(current, trials)
            trials = yield from self._round(current, data)
            rounds.append({"round": current.round, "lr_range": [current.lr_min, current.lr_max],
                           "decay_range": [current.decay_min, current.decay_max], "trials": trials})
            if self.stop_requested or not trials:
                break
        best = max((t for rd in rounds for t in rd["trials"]), key=lambda t: t["val_acc"], default=None)
        out = {"rounds": rounds, "best": best, "why_test_once": WHY_ONCE,
               "next_ranges": None, "final": None}
        if trials:
            nxt = narrowed(current, trials)
            out["next_ranges"] = {"lr": [nxt.lr_min, nxt.lr_max], "weight_decay": [nxt.decay_min, nxt.decay_max]}
        summary = [f"{full.summary()}; trials train on {s.train_size} samples and are scored on {s.val_size} "
                   "validation samples; the test split is withheld"]
        for rd in rounds:
            top = sorted(rd["trials"], key=lambda t: -t["val_acc"])[:s.best_k]
            summary.append(f"round {rd['round']}: lr {rd['lr_range'][0]:.2g}..{rd['lr_range'][1]:.2g}, "
                           f"λ {rd['decay_range'][0]:.2g}..{rd['decay_range'][1]:.2g}, {len(rd['trials'])} trials")
            summary += [f"  val acc {t['val_acc']:.3f}  lr {t['lr']:.3g}  λ {t['weight_decay']:.3g}" for t in top]
        if s.final and best is not None and not self.stop_requested:
            final = yield from final_run(self, best["lr"], best["weight_decay"], s, full)
            out["final"] = final
            summary.append(f"final: lr {best['lr']:.3g}, λ {best['weight_decay']:.3g}, {s.final_epochs} epochs on "
                           f"{final['train_samples']} samples: test accuracy {final['test_accuracy']:.4f} "
                           "(the only look at the test set)")
        rows = [[rd["round"], t["trial"], t["lr"], t["weight_decay"], t["val_acc"], t["train_acc"]]
                for rd in rounds for t in sorted(rd["trials"], key=lambda t: -t["val_acc"])]
        return out, summary, {"trials": {"header": ["round", "trial", "lr", "weight_decay", "val_accuracy",
                                                    "train_accuracy"], "rows": rows}}

    def _round(self, s: SearchSettings, data):
        rng = np.random.default_rng([s.seed, s.round])
        trials = []
        for t in range(s.trials):
            if self.hold():
                break
            lr, decay = draw(rng, s.lr_min, s.lr_max), draw(rng, s.decay_min, s.decay_max)
            tr = trainer(mlp(s.hidden_layers, s.units, "relu", "he"), data, optimizer="sgd", lr=lr,
                         weight_decay=decay, epochs=s.epochs, batch_size=s.batch_size, seed=s.seed * 100003 + t,
                         restore_best=False)
            for _ in self.train(tr, f"trial {t + 1}", f"round {s.round}"):
                pass  # per-iteration progress of 100 short trials is noise; one event per trial below
            result = tr.result
            trial = {"trial": t + 1, "lr": lr, "weight_decay": decay, "val_acc": result["val_accuracy"],
                     "train_acc": result["train_accuracy"]}
            if tr.stopped is not None and tr.stopped.kind == "user":
                break
            trials.append(trial)
            yield LabProgress(f"round {s.round}", t + 1, s.trials,
                              f"trial {t + 1}/{s.trials}: val acc {trial['val_acc']:.3f} (lr {lr:.3g}, λ {decay:.3g})",
                              {"kind": "trial", "round": s.round, **trial})
        self.runs.clear()  # a hundred short trials would flood the run list; the final run is kept
        return trials


def final_run(lab: Lab, lr: float, weight_decay: float, s: SearchSettings, full):
    """Train the chosen setting on the full training split; evaluate the test set once."""
    tr = trainer(mlp(s.hidden_layers, s.units, "relu", "he"), full, optimizer="sgd", lr=lr,
                 weight_decay=weight_decay, epochs=s.final_epochs, batch_size=s.batch_size, seed=s.seed,
                 restore_best=True)
    result, _ = yield from lab.train(tr, f"final lr {lr:.3g} λ {weight_decay:.3g}", "final")
    return {"lr": lr, "weight_decay": weight_decay, "epochs": s.final_epochs, "train_samples": len(full.y_train),
            "val_accuracy": result["val_accuracy"], "test_accuracy": result["test_accuracy"],
            "train_accuracy": result["train_accuracy"], "why_test_once": WHY_ONCE}


@dataclass
class FinalSettings(SearchSettings):
    lr: float = option(0.005, "learning rate of the final run", low=0)
    weight_decay: float = option(1e-6, "weight decay λ of the final run", low=0)


class SearchFinalLab(Lab):
    """The final button: one full training run of a chosen setting, tested once."""

    name = "search-final"
    title = "Final run of the search"
    about = WHY_ONCE
    Settings = FinalSettings

    def _run(self):
        s = self.settings
        final = yield from final_run(self, s.lr, s.weight_decay, s, dataset(s.dataset))
        summary = [f"lr {s.lr:.3g}, λ {s.weight_decay:.3g}, {s.final_epochs} epochs on {final['train_samples']} "
                   f"samples: validation {final['val_accuracy']:.4f}, test {final['test_accuracy']:.4f}", WHY_ONCE]
        return {"final": final}, summary, {}
