"""The headless command line: ``run``, ``gradcheck``, ``templates`` (and ``train``/``download``).

``main(argv)`` returns the exit status: 0 on success, 1 when ``gradcheck`` finds a
gradient off by more than its tolerance or a NaN/Inf stopped ``train``, 2 for a user error, which is printed as one line
on stderr (``backprop-studio: error: ...``) without a traceback. Set
``BACKPROP_STUDIO_DEBUG=1`` to get the traceback anyway.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import os
import re
import sys
from typing import Any

import numpy as np

from layers.base import fmt_num, fmt_shape

from . import templates
from .backend import BACKENDS, BackendError
from .engine import DTYPES, Engine
from .errors import FeedError, GraphError
from .fileformat import load_graph
from .gradcheck import TOLERANCE, gradcheck, random_feeds
from .model import Graph

PROG = "backprop-studio"
GUI_HELP = ("Without a subcommand the editor opens: backprop-studio [open TEMPLATE_OR_FILE] "
            "[--screenshot PNG] [--steps N].")


@functools.lru_cache(maxsize=1)
def load_train_cli():
    """``graph.train_cli`` when it exists, else ``None``.

    Imported on first use (training pulls in datasets and the trainer); only a missing
    module is tolerated, a broken one fails loudly.
    """
    try:
        return importlib.import_module("graph.train_cli")
    except ModuleNotFoundError as exc:
        if exc.name != "graph.train_cli":
            raise
        return None


class UsageError(GraphError):
    """A command-line argument the user can fix."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see {PROG} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="See backpropagation: run, check and train computation graphs.",
                     epilog=GUI_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="forward and backward once; print every node's value and gradient")
    _source_arg(run)
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument("--dtype", choices=DTYPES, default="float64")
    run.add_argument("--backend", choices=BACKENDS, default="numpy")
    run.add_argument("--train", action="store_true", help="training mode (BatchNorm batch statistics, Dropout)")
    _feed_args(run)

    check = sub.add_parser("gradcheck", help="compare backprop with central differences (float64)")
    _source_arg(check)
    check.add_argument("--node", help="only this node's inputs and parameters")
    check.add_argument("--eps", type=float, default=1e-6, help="central-difference step (default 1e-6)")
    check.add_argument("--entries", type=int, default=24,
                       help="entries perturbed per tensor, largest gradients first (0: all; default 24)")
    check.add_argument("--tol", type=float, default=TOLERANCE, help=f"maximum relative error (default {TOLERANCE:g})")
    check.add_argument("--eval", action="store_true", help="check in evaluation mode instead of training mode")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _feed_args(check)

    sub.add_parser("templates", help="list the built-in example graphs")

    train_cli = load_train_cli()
    if train_cli is not None:
        train_cli.add_train_parser(sub)
        train_cli.add_download_parser(sub)
    else:
        for name in ("train", "download"):
            p = sub.add_parser(name, help=f"{name} (not available in this build)")
            p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _source_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("graph", metavar="GRAPH_OR_TEMPLATE",
                   help="a template name (see 'templates') or a saved graph file (.json)")


def _feed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feed", action="append", default=[], metavar="ID=FILE.npy",
                   help="value for an Input node from a .npy file (repeatable)")
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


def parse_feeds(items: list[str], engine: Engine) -> dict:
    """``["x=a.npy", ...]`` -> ``{"x": array}``, checking the ids against the Input nodes."""
    feeds = {}
    inputs = engine.input_ids()
    for item in items:
        id, sep, path = item.partition("=")
        if not sep or not id or not path:
            raise UsageError(f"--feed {item}: expected ID=FILE.npy")
        if id not in inputs:
            raise FeedError(f"--feed {item}: no Input node {id!r} (inputs: {', '.join(inputs) or 'none'})")
        try:
            feeds[id] = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise UsageError(f"--feed {item}: no such file: {path}") from None
        except (ValueError, OSError) as exc:
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


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


# -- commands --------------------------------------------------------------------------------
def cmd_run(args) -> int:
    g = load_source(args.graph)
    eng = Engine(g, backend=args.backend, dtype=args.dtype, seed=args.seed)
    feeds = parse_feeds(args.feed, eng)
    feeds, notes = random_feeds(eng, feeds, batch=args.batch, seed=args.seed)
    if args.backend != "numpy":
        notes.append(f"backend: {eng.backend_note}")
    eng.forward(feeds, train=args.train)
    if eng.loss_id is not None:
        eng.backward()
    else:
        notes.append("nothing to backpropagate from: the graph has no output")
    nodes = {}
    for id in g.nodes():
        grad = eng.grad(id) if eng.loss_id is not None else None
        nodes[id] = (g.node(id).type, eng.value(id), grad)
    if args.json:
        doc = {"nodes": {id: {"type": t, "value": to_json(v), "grad": None if gr is None else to_json(gr)}
                         for id, (t, v, gr) in nodes.items()},
               "loss": eng.loss_id, "dtype": args.dtype, "backend": eng.backend, "notes": notes}
        print(json.dumps(doc))
        return 0
    for note in notes:
        print(note)
    rows = [[id, t, describe_array(v), describe_array(gr)] for id, (t, v, gr) in nodes.items()]
    print(_table(rows, ["node", "type", "value (forward)", "grad ∂L/∂out (backward)"]))
    if eng.loss_id is not None:
        print(f"output {eng.loss_id} = {describe_array(eng.value(eng.loss_id))}")
    return 0


def cmd_gradcheck(args) -> int:
    g = load_source(args.graph)
    eng = Engine(g, backend="numpy", dtype="float64", seed=args.seed)
    feeds = parse_feeds(args.feed, eng)
    if args.entries < 0:
        raise UsageError(f"--entries must be 0 (all) or positive, got {args.entries}")
    if not args.eps > 0:
        raise UsageError(f"--eps must be positive, got {args.eps}")
    results = gradcheck(eng, node=args.node, feeds=feeds, eps=args.eps, seed=args.seed,
                        max_entries=args.entries or None, train=not args.eval, tol=args.tol, batch=args.batch)
    failed = [r for r in results if not r.passed]
    if args.json:
        print(json.dumps({"tolerance": args.tol, "passed": not failed,
                          "results": [vars(r) for r in results]}))
        return 1 if failed else 0
    rows = [[r.check, r.node, r.tensor, f"{r.max_rel_error:.2e}", f"{r.max_abs_error:.2e}",
             f"{r.entries}/{r.size}", "ok" if r.passed else "FAIL"] for r in results]
    print(_table(rows, ["check", "node", "tensor", "max rel error", "max abs error", "entries", ""]))
    if failed:
        print(f"{len(failed)} of {len(results)} tensors exceed the tolerance {args.tol:g}")
        return 1
    print(f"all {len(results)} tensors within {args.tol:g} (float64, eps {args.eps:g})")
    return 0


def cmd_templates(args) -> int:
    names = templates.names()
    width = max(map(len, names))
    for name in names:
        print(f"{name.ljust(width)}  {templates.describe(name)}")
    return 0


def _dispatch(args) -> int:
    if args.command == "run":
        return cmd_run(args)
    if args.command == "gradcheck":
        return cmd_gradcheck(args)
    if args.command == "templates":
        return cmd_templates(args)
    if args.command in ("train", "download"):
        train_cli = load_train_cli()
        if train_cli is None:
            raise UsageError(f"'{args.command}' is not available in this build")
        run = train_cli.run_train if args.command == "train" else train_cli.run_download
        return int(run(args) or 0)
    raise UsageError("choose a command: run, gradcheck, templates, train or download")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help, or a usage error already printed in one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``run ... | head``): not an error worth a message; point
        # stdout at devnull so the interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError as exc:
        if os.environ.get("BACKPROP_STUDIO_DEBUG"):
            raise
        print(f"{PROG}: error: {_memory_message(exc)}", file=sys.stderr)
        return 2
    except (GraphError, BackendError, OSError, ValueError) as exc:
        if os.environ.get("BACKPROP_STUDIO_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _memory_message(exc: MemoryError) -> str:
    """One line for an allocation that failed, naming the array when NumPy says which."""
    m = re.search(r"allocate (\S+ \S+) for an array with shape (\([^)]*\))", str(exc))
    what = f"an array of {m.group(1)} with shape {m.group(2)}" if m else "the arrays of this graph"
    return f"not enough memory for {what} (reduce the layer sizes or batch)"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
