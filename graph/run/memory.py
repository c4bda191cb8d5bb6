"""How much memory a graph needs at a batch size, estimated from shapes before anything runs.

An Affine 784 -> 2,000,000 (11.7 GiB of weights) or a Conv2D with 4096 channels on a
1000-sample batch (17.6 GiB of activations) used to fill RAM until the OS killed the
process. :func:`estimate` adds up, from the inferred shapes alone (nothing is allocated):

``parameters``
    every learnable tensor and buffer twice: the graph's float64 copy and the engine's
    copy in the run dtype;
``gradients``
    one gradient per learnable tensor (training only);
``optimizer``
    the optimizer's slots, e.g. Adam's ``m`` and ``v`` (training only, ``slots`` per tensor);
``activations``
    every node's output for the batch;
``caches``
    what the backward pass keeps beyond the outputs (a node's saved inputs are its
    producers' outputs, already counted): the im2col columns of a Conv2D
    (``N * OH * OW * C * K * K`` values), and the gradient of every node's output, which
    the engine keeps for display (training only).

It is an estimate: the engine frees some arrays early and NumPy needs temporaries, so
:func:`check_fits` refuses only when the estimate exceeds the memory the OS reports as
available. Override with ``--ignore-memory-check`` (CLI) or ``BACKPROP_STUDIO_IGNORE_MEMORY=1``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from layers.base import ShapeError

from graph.model.limits import fmt_bytes

IGNORE_ENV = "BACKPROP_STUDIO_IGNORE_MEMORY"
ITEMSIZE = {"float16": 2, "float32": 4, "float64": 8}


class MemoryCheckError(ValueError):
    """The estimate exceeds the available memory; the message has the numbers (a user error
    the CLI prints in one line, exit 2)."""


@dataclass
class MemoryEstimate:
    """Bytes by kind (see the module docs) for one batch size and dtype."""

    batch: int
    dtype: str
    train: bool
    parameters: int = 0
    gradients: int = 0
    optimizer: int = 0
    activations: int = 0
    caches: int = 0
    per_node: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.optimizer + self.activations + self.caches

    def largest(self) -> tuple[str, int] | None:
        """``(node id, bytes)`` of the node that needs the most."""
        return max(self.per_node.items(), key=lambda kv: kv[1]) if self.per_node else None

    def summary(self) -> str:
        """One line: total and the parts, e.g. for a status bar or the CLI."""
        parts = [f"parameters {fmt_bytes(self.parameters)}", f"activations {fmt_bytes(self.activations)}",
                 f"caches {fmt_bytes(self.caches)}"]
        if self.train:
            parts[1:1] = [f"gradients {fmt_bytes(self.gradients)}"] + (
                [f"optimizer {fmt_bytes(self.optimizer)}"] if self.optimizer else [])
        big = self.largest()
        most = f"; most in {big[0]} ({fmt_bytes(big[1])})" if big and big[1] else ""
        return (f"about {fmt_bytes(self.total)} at batch {self.batch} ({self.dtype}"
                f"{', training' if self.train else ''}): {', '.join(parts)}{most}")


def _count(shape, batch: int) -> int:
    n = 1
    for d in shape:
        n *= batch if d is None else int(d)
    return n


def estimate(graph, batch: int, dtype: str = "float32", train: bool = True, slots: int = 2) -> MemoryEstimate:
    """Estimate the bytes a forward (and with ``train`` a backward and update) pass needs.

    Parameters
    ----------
    graph : graph.model.graph.Graph
    batch : int
        Samples per batch; substitutes every ``None`` (N) axis.
    dtype : {"float16", "float32", "float64"}
    train : bool
        Count gradients, optimizer slots and upstream gradients too.
    slots : int
        Optimizer arrays per learnable tensor (Adam 2, momentum 1, SGD 0).
    """
    item = ITEMSIZE.get(str(dtype), 8)
    est = MemoryEstimate(int(batch), str(dtype), bool(train))
    shapes, _errors = graph.infer_shapes()
    for id in graph.topo_order():
        node = graph.node(id)
        out = _count(shapes[id], batch) if id in shapes else 0
        ins = graph.input_shapes(id)
        params = 0
        if ins is not None and (node.op.learnable or node.op.buffers):
            try:
                params = sum(_count(s, 1) for s in node.op.param_shapes(*ins).values())
            except ShapeError:
                params = 0
        cache = 0   # inputs kept for backward are the producers' outputs: no extra memory
        if node.type == "Conv2D" and ins and id in shapes:
            k = int(node.params.get("kernel_size", 1))
            n, c = batch, ins[0][1] if len(ins[0]) > 1 else 1
            oh, ow = shapes[id][2:4] if len(shapes[id]) == 4 else (1, 1)
            cache += n * oh * ow * c * k * k
        node_bytes = (out + cache) * item + params * (8 + item)
        est.activations += out * item
        est.caches += cache * item
        est.parameters += params * (8 + item)
        if train:
            est.gradients += params * item
            est.optimizer += slots * params * item
            est.caches += out * item   # the upstream gradient of this node's output
            node_bytes += (params * (1 + slots) + out) * item
        est.per_node[id] = node_bytes
    return est


def available_bytes() -> int | None:
    """Memory the OS says can be allocated without swapping (``MemAvailable``), or ``None``."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(est: MemoryEstimate, ignore: bool = False, available: int | None = None) -> None:
    """Raise :class:`MemoryCheckError` when ``est`` exceeds the available memory.

    ``ignore`` (or ``$BACKPROP_STUDIO_IGNORE_MEMORY``) skips the check.
    """
    if ignore or os.environ.get(IGNORE_ENV, "") not in ("", "0"):
        return
    free = available_bytes() if available is None else available
    if free is None or est.total <= free:
        return
    raise MemoryCheckError(
        f"this graph needs {est.summary()}, but only {fmt_bytes(free)} of memory is available; "
        f"use a smaller batch or smaller layers (or --ignore-memory-check / ${IGNORE_ENV}=1 to try anyway)")
