"""``run``, ``gradcheck`` and ``templates``: one forward/backward pass, the gradient check, the list."""
from __future__ import annotations

import json

import numpy as np

from graph.model import templates
from graph.run.backend import BACKENDS
from graph.run.engine import DTYPES, Engine
from graph.run.gradcheck import TOLERANCE, gradcheck, random_feeds
from graph.run.kinks import KINK_EXPLANATION

from graph.cli.common import UsageError, check_memory, describe_array, feed_args, load_source, parse_feeds, source_arg, table, to_json


def add_parsers(sub) -> None:
    """Register ``run``, ``gradcheck`` and ``templates`` on an argparse subparsers object."""
    run = sub.add_parser("run", help="forward and backward once; print every node's value and gradient")
    source_arg(run)
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument("--dtype", choices=DTYPES, default="float64")
    run.add_argument("--backend", choices=BACKENDS, default="numpy")
    run.add_argument("--train", action="store_true", help="training mode (BatchNorm batch statistics, Dropout)")
    feed_args(run)

    check = sub.add_parser("gradcheck", help="compare backprop with central differences (float64)")
    source_arg(check)
    check.add_argument("--node", help="only this node's inputs and parameters")
    check.add_argument("--eps", type=float, default=1e-6, help="central-difference step (default 1e-6)")
    check.add_argument("--entries", type=int, default=24,
                       help="entries perturbed per tensor, largest gradients first (0: all; default 24)")
    check.add_argument("--tol", type=float, default=TOLERANCE, help=f"maximum relative error (default {TOLERANCE:g})")
    check.add_argument("--eval", action="store_true", help="check in evaluation mode instead of training mode")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    feed_args(check)

    sub.add_parser("templates", help="list the built-in example graphs")



def cmd_run(args) -> int:
    g = load_source(args.graph)
    check_memory(g, args.batch or 1, args.dtype, True, args, slots=0)
    eng = Engine(g, backend=args.backend, dtype=args.dtype, seed=args.seed)
    feeds = parse_feeds(args.feed, eng, args.batch)
    feeds, notes = random_feeds(eng, feeds, batch=args.batch, seed=args.seed)
    batch = next((int(np.shape(v)[0]) for v in feeds.values() if np.ndim(v) > 0), 1)
    mem_note = check_memory(g, batch, args.dtype, True, args, slots=0)
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
               "loss": eng.loss_id, "dtype": args.dtype, "backend": eng.backend, "notes": notes,
               "memory": mem_note}
        print(json.dumps(doc))
        return 0
    for note in notes:
        print(note)
    rows = [[id, t, describe_array(v), describe_array(gr)] for id, (t, v, gr) in nodes.items()]
    print(table(rows, ["node", "type", "value (forward)", "grad ∂L/∂out (backward)"]))
    if eng.loss_id is not None:
        print(f"output {eng.loss_id} = {describe_array(eng.value(eng.loss_id))}")
    print(mem_note)
    return 0


def cmd_gradcheck(args) -> int:
    g = load_source(args.graph)
    eng = Engine(g, backend="numpy", dtype="float64", seed=args.seed)
    feeds = parse_feeds(args.feed, eng, args.batch)
    if args.entries < 0:
        raise UsageError(f"--entries must be 0 (all) or positive, got {args.entries}")
    if not args.eps > 0:
        raise UsageError(f"--eps must be positive, got {args.eps}")
    results = gradcheck(eng, node=args.node, feeds=feeds, eps=args.eps, seed=args.seed,
                        max_entries=args.entries or None, train=not args.eval, tol=args.tol, batch=args.batch)
    failed = [r for r in results if not r.passed]
    skipped = sum(r.skipped for r in results)
    if args.json:
        print(json.dumps({"tolerance": args.tol, "passed": not failed, "skipped_at_kinks": skipped,
                          "results": [vars(r) for r in results]}))
        return 1 if failed else 0
    rows = [[r.check, r.node, r.tensor, *((f"{r.max_rel_error:.2e}", f"{r.max_abs_error:.2e}") if r.entries
                                          else ("-", "-")),
             f"{r.entries}/{r.size}", f"{r.skipped}" if r.skipped else "",
             "ok" if r.passed else "FAIL"] for r in results]
    print(table(rows, ["check", "node", "tensor", "max rel error", "max abs error", "entries", "at kinks", ""]))
    if skipped:
        print(f"{skipped} entries {KINK_EXPLANATION}.")
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
