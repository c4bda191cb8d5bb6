"""What every subcommand shares: the program name, one-line usage errors, graph sources and feeds."""
from __future__ import annotations

import argparse
import math
import os
from typing import Any

import numpy as np

from layers.base import fmt_num, fmt_shape

from graph.model import templates
from graph.model.errors import FeedError, GraphError
from graph.model.fileformat import load_graph
from graph.model.limits import Limits
from graph.model.graph import Graph
from graph.run import memory
from graph.run.engine import Engine
from graph.training import npyfile

PROG = "backprop-studio"


class UsageError(GraphError):
    """A command-line argument the user can fix."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see {PROG} --help)\n")


def source_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("graph", metavar="GRAPH_OR_TEMPLATE",
                   help="a template name (see 'templates') or a saved graph file (.json)")
    limit_args(p)


def limit_args(p: argparse.ArgumentParser) -> None:
    """``--max-elements`` / ``--max-file-bytes``: the limits for untrusted files (graph.model.limits)."""
    p.add_argument("--max-elements", type=int, default=None, metavar="N",
                   help=f"largest tensor a file may declare, in values (default {Limits().max_elements:,})")
    p.add_argument("--max-file-bytes", type=int, default=None, metavar="N",
                   help=f"largest file read, in bytes, also after decompression (default {Limits().max_file_bytes:,})")
    p.add_argument("--ignore-memory-check", action="store_true",
                   help="start even when the memory estimate exceeds the available memory")


def check_memory(graph: Graph, batch: int, dtype: str, train: bool, args, slots: int = 2,
                 eval_batch: int | None = None) -> str:
    """Estimate the memory of ``graph`` at ``batch`` (and of evaluation batches of
    ``eval_batch``); refuse above the available memory (unless ``--ignore-memory-check``);
    return the one-line summary."""
    est = memory.estimate(graph, batch, dtype, train=train, slots=slots)
    if eval_batch:
        est = max(est, memory.estimate(graph, eval_batch, dtype, train=False, slots=slots), key=lambda e: e.total)
    memory.check_fits(est, ignore=getattr(args, "ignore_memory_check", False))
    return f"memory: {est.summary()}"


def feed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feed", action="append", default=[], metavar="ID=FILE.npy",
                   help="value for an Input node from a .npy file, or ID=digits for digits of the "
                        "embedded MNIST set, scaled to 0..1 (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and random feeds (default 0)")
    p.add_argument("--batch", type=int, default=None,
                   help="batch size of random feeds (default: that of the --feed arrays, else 1)")


# -- helpers --------------------------------------------------------------------------------
def load_source(spec: str) -> Graph:
    """A template by name, else a graph file; a clear error when it is neither."""
    if spec in templates.names():
        return templates.build(spec)
    if os.path.exists(spec):
        return load_graph(spec)
    if spec.endswith(".json") or os.path.sep in spec:
        raise UsageError(f"no such graph file: {spec}")
    raise UsageError(f"{spec!r} is neither a template ({', '.join(templates.names())}) nor a graph file")


def digit_feed(shape, count: int = 1) -> np.ndarray:
    """The first ``count`` embedded MNIST digits scaled to 0..1, shaped for an Input of
    ``shape`` (its ``None`` batch axis becomes ``count``), e.g. (1, 1, 28, 28) or (1, 784)."""
    from graph.training.datasets import load_mnist_10k  # noqa: PLC0415 - only this feed reads MNIST

    want = tuple(count if d is None else int(d) for d in shape)
    if int(np.prod(want)) != count * 784:
        raise UsageError(f"digits are 28×28 = 784 values each; an Input of shape {fmt_shape(tuple(shape))} "
                         "does not take them")
    x, _ = load_mnist_10k()
    return (x[:count].astype(np.float64) / 255.0).reshape(want)


def parse_feeds(items: list[str], engine: Engine, batch: int | None = None) -> dict:
    """``["x=a.npy", "x=digits", ...]`` -> ``{"x": array}``, checking the ids against the Input
    nodes; ``digits`` feeds ``batch`` (default 1) embedded MNIST digits."""
    feeds = {}
    inputs = engine.input_ids()
    for item in items:
        id, sep, path = item.partition("=")
        if not sep or not id or not path:
            raise UsageError(f"--feed {item}: expected ID=FILE.npy")
        if id not in inputs:
            raise FeedError(f"--feed {item}: no Input node {id!r} (inputs: {', '.join(inputs) or 'none'})")
        if path == "digits" and not os.path.exists(path):
            feeds[id] = digit_feed(engine.graph.node(id).params["shape"], batch or 1)
            continue
        try:
            feeds[id] = npyfile.load_npy(path)   # header checked first; never a pickle
        except FileNotFoundError:
            raise UsageError(f"--feed {item}: no such file: {path}") from None
        except (npyfile.NpyError, OSError) as exc:
            raise UsageError(f"--feed {item}: cannot read {path} as a .npy array ({exc})") from None
    return feeds


def describe_array(x: np.ndarray | None) -> str:
    """Scalars like the book (220, 2.2); small arrays in full; larger ones as shape + min/mean/max."""
    if x is None:
        return "-"
    x = np.asarray(x)
    if x.size == 1:
        text = fmt_num(x)
        return text if x.ndim == 0 else f"{fmt_shape(x.shape)} [{text}]"
    if x.size == 0:
        return f"{fmt_shape(x.shape)} empty"
    if x.size <= 8:
        return f"{fmt_shape(x.shape)} [{', '.join(fmt_num(v) for v in x.reshape(-1))}]"
    xf = x.astype(np.float64)
    return f"{fmt_shape(x.shape)} min {fmt_num(xf.min())} mean {fmt_num(xf.mean())} max {fmt_num(xf.max())}"


def to_json(x: np.ndarray) -> Any:
    """A number or nested lists; NaN and infinities become the strings "NaN", "Infinity", "-Infinity"."""
    value = np.asarray(x).tolist()
    return _finite(value)


def _finite(v: Any) -> Any:
    if isinstance(v, list):
        return [_finite(i) for i in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)
