"""What a finished run gives back: the divergence check that turns a "done" into a warning,
and small helpers for the dock. (The trained weights go into the document through
:meth:`app.document.GraphDocument.apply_weights`, one undoable step.)"""
from __future__ import annotations

import hashlib

import numpy as np


# "higher than at the start" beyond batch-to-batch noise: end > FACTOR x start + MARGIN
# (a diverging loss grows by orders of magnitude)
DIVERGE_FACTOR, DIVERGE_MARGIN = 1.2, 0.1


def divergence(losses, epochs: list, num_classes: int, nonfinite: bool = False) -> tuple[float, float] | None:
    """``(start, end)`` training losses when a run diverged, else ``None``.

    ``losses`` are the iteration losses in order, ``epochs`` the epoch rows (``train_loss``,
    ``train_acc``) received so far, ``nonfinite`` whether the run stopped on NaN/Inf. The
    start is the first iteration's loss (computed before any update); the end the last epoch's
    training loss (before a full epoch: the mean of the last three iterations, from ten
    iterations on). Diverged: NaN/Inf, an end above the start (by more than noise:
    :data:`DIVERGE_FACTOR` and :data:`DIVERGE_MARGIN`), or accuracy at chance level while the loss exploded (its
    peak more than 3x the start).
    """
    seen = [float(x) for x in losses if np.isfinite(x)]
    if not seen:
        return None
    start = seen[0]
    if nonfinite:
        return start, float("nan")
    if epochs:
        end, acc = float(epochs[-1]["train_loss"]), epochs[-1].get("train_acc")
    elif len(seen) >= 10:
        end, acc = float(np.mean(seen[-3:])), None
    else:
        return None
    if not np.isfinite(end) or end > DIVERGE_FACTOR * start + DIVERGE_MARGIN:
        return start, end
    chance = 1.0 / max(int(num_classes), 1)
    if acc is not None and float(acc) <= 1.5 * chance and max(seen) > 3 * start:
        return start, end
    return None


def has_weights(graph) -> bool:
    return any(graph.node(n).weights for n in graph.nodes() if graph.node(n).op.learnable)


def input_image_shape(graph) -> tuple | None:
    """The shape of the graph's data Input (``(None, 1, 28, 28)``), which says how flat
    samples look as images; ``None`` when there is no such Input."""
    for n in graph.nodes():
        node = graph.node(n)
        if node.type == "Input" and node.params.get("role", "data") == "data":
            shape = node.params.get("shape")
            return tuple(shape) if shape else None
    return None


def default_dataset(graph) -> str:
    """The dataset a graph's Training dock starts with: a 2-D toy set (spiral) for a graph
    whose data Input takes two features (toy_mlp opened with mnist-10k, which it cannot
    train on), else mnist-10k."""
    shape = input_image_shape(graph)
    return "spiral" if shape is not None and tuple(shape[1:]) == (2,) else "mnist-10k"


def weights_fingerprint(graph) -> str:
    """A digest of every learnable weight of ``graph`` ("" without weights): a graph
    opened again after saving a run's result has the same one."""
    h = hashlib.blake2b(digest_size=16)
    found = False
    for n in sorted(graph.nodes()):
        node = graph.node(n)
        for name in sorted(node.weights):
            if name in node.op.learnable:
                h.update(f"{n}/{name}".encode())
                h.update(np.ascontiguousarray(node.weights[name], dtype=np.float64).tobytes())
                found = True
    return h.hexdigest() if found else ""
