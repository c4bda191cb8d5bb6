"""Classification metrics and the files a run folder holds (metrics.csv / .json, confusion).

Everything here works on host NumPy arrays except :func:`count_correct`, which stays on
the engine's device so that only a number crosses per batch.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from graph.model.atomic_write import atomic_write

EPOCH_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


def count_correct(scores, labels) -> int:
    """Number of rows of ``scores`` (B, K) whose argmax equals ``labels`` (B,) (any device)."""
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return int((scores.reshape(scores.shape[0], -1).argmax(axis=1) == labels).sum())


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts (K, K) int64: row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    k = max(int(num_classes), int(y_true.max(initial=-1)) + 1, int(y_pred.max(initial=-1)) + 1)
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall per class (K,): diagonal / row sums (NaN for classes with no samples)."""
    rows = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(cm) / np.maximum(rows, 1), np.nan)


def misclassified(y_true, y_pred, index=None) -> list[dict]:
    """One dict per wrong prediction: position in the split, source index, true, predicted."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    src = np.arange(len(y_true)) if index is None else np.asarray(index)
    return [{"position": int(i), "index": int(src[i]), "true": int(y_true[i]), "predicted": int(y_pred[i])}
            for i in wrong]


# -- run-folder files ------------------------------------------------------------------------
def atomic_write_bytes(path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :mod:`graph.model.atomic_write`)."""
    atomic_write(path, data)


def write_json(path, obj) -> None:
    """Atomically write ``obj`` as indented JSON (NaN becomes null)."""
    atomic_write_bytes(path, (json.dumps(jsonable(obj), indent=1) + "\n").encode())


def jsonable(obj):
    """``obj`` with arrays as lists, NumPy scalars as Python numbers and NaN/Inf as ``None``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def write_epoch_csv(path, history: list[dict]) -> None:
    """metrics.csv: one row per epoch with :data:`EPOCH_FIELDS`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EPOCH_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in EPOCH_FIELDS})
    atomic_write_bytes(path, buf.getvalue().encode())


def write_confusion_csv(path, cm: np.ndarray, class_names) -> None:
    """confusion.csv: header ``true\\predicted,<names>``, then one row per true class."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [str(n) for n in class_names] + [str(i) for i in range(len(class_names), cm.shape[0])]
    writer.writerow(["true\\predicted"] + names)
    for name, row in zip(names, cm):
        writer.writerow([name] + [int(v) for v in row])
    atomic_write_bytes(path, buf.getvalue().encode())


def write_metrics(run_dir, result: dict, iteration_loss) -> None:
    """metrics.csv and metrics.json (``result`` plus the per-iteration losses); with a
    ``confusion_matrix`` in ``result`` also confusion.csv and confusion.json."""
    run_dir = Path(run_dir)
    write_epoch_csv(run_dir / "metrics.csv", result.get("history", []))
    write_json(run_dir / "metrics.json", {**result, "iteration_loss": list(iteration_loss)})
    if "confusion_matrix" in result:
        cm = np.asarray(result["confusion_matrix"])
        write_confusion_csv(run_dir / "confusion.csv", cm, result["class_names"])
        write_json(run_dir / "confusion.json", {"class_names": result["class_names"], "matrix": cm,
                                                "misclassified": result.get("misclassified", [])})
