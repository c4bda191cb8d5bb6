"""A training run's results and files: the final metrics, the resumable state, the run folder.

These are the parts of :class:`graph.training.trainer.Trainer` that read or write its state
as a whole rather than step it; each takes the trainer as its first argument. Every file
is written atomically (temp file + ``os.replace``, see :mod:`graph.training.checkpoint` and
:mod:`graph.training.metrics`):

- after every epoch: ``checkpoint.npz`` (:func:`state_dict`), ``best.npz`` when the monitored
  metric improved, ``metrics.csv`` / ``metrics.json``;
- at the end: ``trained_graph.json`` and the final ``metrics`` / confusion files.

:func:`resume` rebuilds a trainer from ``checkpoint.npz`` (``Trainer.from_checkpoint``).
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from graph.training.checkpoint import (
    CheckpointError, check_optimizer_slots, check_run_state, check_weights, load_checkpoint, save_checkpoint,
)
from graph.training.datasets import DatasetError, DataSplits
from graph.training.events import PhaseEvent, StoppedEvent, TrainConfig
from graph.training.halfprec import float16_check
from graph.training.metrics import confusion_matrix, misclassified, write_metrics


def final_metrics(trainer):
    """Generator: evaluates the final weights on every split (yielding progress) and
    returns the result dict."""
    d = trainer.data
    phase = PhaseEvent("evaluation", "evaluating the final weights", 0,
                       len(d.y_train) + len(d.y_val) + len(d.y_test))
    yield PhaseEvent(phase.phase, phase.text, 0, phase.total, weights_final=True)
    train_loss, train_acc, _ = yield from trainer.evaluation("train", phase=phase)
    val_loss, val_acc, _ = yield from trainer.evaluation("val", phase=phase)
    test_loss, test_acc, preds = yield from trainer.evaluation("test", want_predictions=True, phase=phase)
    stopped = trainer.stopped
    result = {
        "train_accuracy": train_acc, "train_loss": train_loss, "val_accuracy": val_acc, "val_loss": val_loss,
        "test_accuracy": test_acc, "test_loss": test_loss, "epochs": trainer.epoch, "iterations": trainer.iteration,
        "best_epoch": trainer.best["epoch"] if trainer.best else None,
        "restored_best": bool(trainer.config.restore_best and trainer._best_weights is not None
                              and (stopped is None or stopped.kind == "early_stopping")),
        "stopped_reason": stopped.reason if stopped else None,
        "stopped_kind": stopped.kind if stopped else None,
        "dataset": d.name, "backend": trainer.engine.backend, "backend_note": trainer.backend_note,
        "dtype": trainer.config.dtype, "optimizer": trainer.optimizer.describe(),
        "schedule": trainer.schedule.describe(), "class_names": list(d.class_names), "history": trainer.history,
    }
    if preds is not None:
        cm = confusion_matrix(d.y_test, preds, d.num_classes)
        result["confusion_matrix"] = cm.tolist()
        result["misclassified"] = misclassified(d.y_test, preds, d.test_index)
    if trainer.config.compare_float16 and test_acc is not None:
        result.update((yield from float16_check(trainer, test_acc)))
    return result


def dataset_info(trainer) -> dict:
    """The dataset as a run folder records it: spec, source, split sizes, class names."""
    d = trainer.data
    return {"spec": trainer.data_spec, "source": d.source, "train": len(d.y_train), "val": len(d.y_val),
            "test": len(d.y_test), "classes": list(d.class_names)}


def state_dict(trainer) -> dict:
    """Everything :func:`resume` needs to continue after the last epoch."""
    from graph.model.fileformat import graph_to_dict  # noqa: PLC0415 - lazy: optional for headless math

    doc = graph_to_dict(trainer.graph)
    for node in doc["nodes"]:
        node["weights"] = {}
    return {
        "config": asdict(trainer.config), "dataset": dataset_info(trainer), "graph": doc,
        "weights": trainer._last_good, "optimizer": trainer.optimizer.state_dict(),
        "schedule": trainer.schedule.state_dict(), "epoch": trainer.epoch, "iteration": trainer.iteration,
        "history": trainer.history, "iteration_loss": np.asarray(trainer.iteration_loss, dtype=np.float64),
        "best": trainer.best, "bad_epochs": trainer.bad_epochs, "elapsed": trainer.elapsed,
        "stopped": asdict(trainer.stopped) if trainer.stopped else None,
        "rng": {"scheme": "per epoch e: SeedSequence([seed, stream, e]); streams 1 shuffle, "
                          "2 augmentation, 3 dropout", "seed": trainer.config.seed, "next_epoch": trainer.epoch + 1},
    }


def write_epoch_files(trainer, improved: bool) -> None:
    """The files written after every epoch (nothing without a run folder)."""
    if trainer.run_dir is None:
        return
    save_checkpoint(trainer.run_dir / "checkpoint.npz", state_dict(trainer))
    if improved:
        save_checkpoint(trainer.run_dir / "best.npz", {"best": trainer.best, "weights": trainer._best_weights})
    write_metrics(trainer.run_dir, {"history": trainer.history}, trainer.iteration_loss)


def write_final_files(trainer) -> None:
    """The trained graph and the final metrics (nothing without a run folder)."""
    if trainer.run_dir is None:
        return
    from graph.model.fileformat import save_graph  # noqa: PLC0415

    save_graph(trainer.graph, trainer.run_dir / "trained_graph.json",
               meta={"training": {"config": asdict(trainer.config), "dataset": dataset_info(trainer),
                                  "test_accuracy": trainer.result["test_accuracy"]}})
    write_metrics(trainer.run_dir, trainer.result, trainer.iteration_loss)


def resume(cls, run_dir, data: DataSplits | None = None, data_dir=None, dataset=None, **overrides):
    """Rebuild a trainer of class ``cls`` from ``run_dir/checkpoint.npz`` to continue after
    its last epoch.

    ``data`` defaults to reloading the dataset the run used (file datasets are stored
    with their absolute path), or ``dataset`` (a spec or path, e.g. where moved data
    now lives), with IDX files from ``data_dir``; ``overrides`` may raise ``epochs`` to
    train longer.
    """
    from graph.training.datasets import load_dataset  # noqa: PLC0415
    from graph.model.fileformat import graph_from_dict  # noqa: PLC0415

    run_dir = Path(run_dir)
    where = run_dir / "checkpoint.npz"
    state = load_checkpoint(where)
    check_run_state(state, where)
    graph = graph_from_dict(state["graph"], str(where))
    for id, tensors in check_weights(graph, state["weights"], where).items():
        graph.node(id).weights.update(tensors)
    if data is None and dataset is not None:
        data = load_dataset(dataset, data_dir=data_dir)
    elif data is None:
        spec = state["dataset"]["spec"]
        try:
            data = load_dataset(spec, data_dir=data_dir)
        except DatasetError as exc:
            raise DatasetError(f"{exc} (resuming {run_dir}: if the run's dataset moved, point at it "
                               "with --dataset PATH, or at IDX files with --data-dir DIR)") from None
    trainer = cls(graph, data, TrainConfig.from_dict(state["config"]), run_dir, **overrides)
    try:   # entries of the right type can still hold wrong values (a damaged or edited file)
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.schedule.load_state_dict(state["schedule"])
        trainer.epoch, trainer.iteration = int(state["epoch"]), int(state["iteration"])
        trainer.history = list(state["history"])
        trainer.iteration_loss = [float(v) for v in state["iteration_loss"]]
        trainer.best, trainer.bad_epochs = state["best"], int(state["bad_epochs"])
        trainer.elapsed = float(state["elapsed"])
        if state["stopped"] and state["stopped"]["kind"] == "early_stopping":
            trainer.stopped = StoppedEvent(**state["stopped"])
        check_optimizer_slots(trainer.optimizer, graph, where)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{where}: damaged training state ({type(exc).__name__}: {exc})") from None
    if (run_dir / "best.npz").is_file():
        trainer._best_weights = check_weights(graph, load_checkpoint(run_dir / "best.npz").get("weights"),
                                              run_dir / "best.npz")
    return trainer


def dataset_spec(name: str) -> str:
    """``name`` as stored in a run: file and folder datasets as an absolute path (so that
    ``--resume`` works from another working directory), built-in and toy specs unchanged."""
    from graph.training.datasets import BUILTIN  # noqa: PLC0415

    text = str(name)
    if text in BUILTIN or text.partition(":")[0].strip() in BUILTIN:
        return text
    path = Path(text).expanduser()
    return str(path.resolve()) if path.exists() else text
