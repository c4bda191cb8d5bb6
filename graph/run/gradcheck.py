"""Gradient checking: backprop against central differences, in float64.

Two checks, both reported per tensor:

``local``
    One op on its own: the node's inputs and parameters from a float64 forward pass, a
    random upstream gradient ``g`` (seeded), and the scalar ``f = Σ op(inputs) · g``.
    Its numerical gradient ``(f(v + ε) − f(v − ε)) / 2ε`` per entry is compared with the
    op's ``backward(g)``. Fast, and it pins a wrong rule to the op that has it.
``graph``
    The whole graph: every learnable tensor (and every float data ``Input``) is perturbed
    entry by entry and the graph re-run forward to the loss; compared with what the
    engine's backward computed.

The error of a tensor is normwise: ``max|a − n| / max(max(|a| + |n|), floor)`` over the
checked entries (``a`` backprop, ``n`` numerical), where ``floor`` is the round-off level
of the difference quotient (independent of the tolerance). Entries whose gradient is at
round-off level therefore do not dominate, while a wrong rule gives an error near 1. A
tensor passes when the error is at most ``tol`` or its absolute error is at round-off level.

Entries whose ±ε step crosses a kink (a ReLU input changes sign, a max-pool window gets
another winner; see :mod:`graph.run.kinks`) are re-tested with a step 100 times smaller
and left out (counted in ``skipped``) when that still crosses it: there the difference
quotient measures a corner, not the gradient, and must never fail a correct backprop.
Random ops (Dropout) see the same seeded generator on every evaluation, so each
evaluation draws the same mask.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.run.engine import Engine
from graph.run.kinks import KINKED_TYPES, branch_pattern, op_pattern, same_pattern
from graph.model.errors import GraphError
from graph.model.graph import Graph

TINY = 1e-10
TOLERANCE = 1e-6
KINK_RETRY = 100   # an entry whose step crosses a kink is re-tested with eps / KINK_RETRY


@dataclass
class GradCheckResult:
    """Backprop vs numerical gradient for one tensor.

    ``check`` is ``"local"`` or ``"graph"``; ``tensor`` names it (``"input a"``,
    ``"param W"``, ``"value"`` for a fed Input); ``entries`` is how many entries were
    perturbed and compared out of ``size``; ``skipped`` entries were left out because their
    step crossed a kink (see :mod:`graph.run.kinks`).
    """

    check: str
    node: str
    tensor: str
    max_rel_error: float
    max_abs_error: float
    entries: int
    size: int
    passed: bool
    skipped: int = 0


def rel_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = TINY) -> tuple[float, float]:
    """``(normwise relative error, max absolute error)`` of two equally shaped arrays.

    The error is ``max|a − n| / max(max(|a| + |n|), floor)``.
    """
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    n = np.asarray(numeric, dtype=np.float64).reshape(-1)
    if a.size == 0:
        return 0.0, 0.0
    diff = np.abs(a - n)
    abs_err = float(diff.max())
    scale = float((np.abs(a) + np.abs(n)).max())
    return abs_err / max(scale, float(floor), TINY), abs_err


def pick_entries(grad: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    """Flat indices to perturb: all of them, or the ``limit // 2`` largest ``|grad|`` plus random ones.

    The largest entries make a sampled check meaningful when most of a gradient is zero.
    """
    size = grad.size
    if limit is None or size <= limit:
        return np.arange(size)
    top = np.argsort(-np.abs(grad.reshape(-1)), kind="stable")[: limit // 2]
    rest = np.setdiff1d(np.arange(size), top)
    extra = rng.choice(rest, size=limit - top.size, replace=False)
    return np.sort(np.concatenate([top, extra]))


def fed_batch(engine: Engine, feeds: dict | None) -> int | None:
    """The batch size the fed arrays imply: the first axis of the first fed array whose
    Input has a ``None`` (batch) first axis; ``None`` when no such array was fed."""
    g = engine.graph
    for id, value in (feeds or {}).items():
        if not g.has_node(id) or g.node(id).type != "Input":
            continue
        shape = g.node(id).params.get("shape") or ()
        arr_shape = np.shape(value)
        if shape and shape[0] is None and len(arr_shape) >= 1:
            return int(arr_shape[0])
    return None


def random_feeds(engine: Engine, feeds: dict | None = None, batch: int | None = None,
                 seed: int = 0) -> tuple[dict, list[str]]:
    """Feeds for every Input that has neither a fed value nor a default ``value``.

    An Input feeding a loss's target ``t`` gets valid targets for that loss (class indices
    in ``[0, K)`` for the logits' K classes, one-hot rows, or 0/1 targets); any other
    Input gets standard-normal floats. Shapes use ``batch`` for the ``None`` axis; by
    default the batch size of the fed arrays (see :func:`fed_batch`), else 1. Returns
    ``(feeds, notes)``, one note per generated feed, e.g.
    ``"fed x with a random batch of 1 (seed 0)"``.
    """
    g = engine.graph
    feeds = dict(feeds or {})
    if batch is None:
        batch = fed_batch(engine, feeds) or 1
    notes = []
    rng = np.random.default_rng(seed)
    shapes, _ = g.infer_shapes()
    for id in engine.input_ids():
        node = g.node(id)
        if id in feeds or node.params.get("value") is not None:
            continue
        shape = tuple(batch if d is None else d for d in node.params["shape"])
        target = _label_target(g, id, shapes)
        if target is not None:   # whatever its role says, a loss's t needs valid targets
            feeds[id] = _random_labels(rng, shape, *target)
        else:
            feeds[id] = rng.standard_normal(shape)
        notes.append(f"fed {id} with a random batch of {batch} (seed {seed})")
    return feeds, notes


def _label_target(g: Graph, id: str, shapes: dict) -> tuple[str, tuple | None] | None:
    """``(loss type, shape of its prediction x)`` when ``id`` feeds a loss's ``t`` port."""
    for succ in g.successors(id):
        node = g.node(succ)
        if node.op.category == "losses" and g.fed_ports(succ).get("t") == id:
            x_src = g.fed_ports(succ).get("x")
            return node.type, shapes.get(x_src) if x_src else None
    return None


def _random_labels(rng: np.random.Generator, shape: tuple, loss: str, x_shape: tuple | None) -> np.ndarray:
    if loss in ("SoftmaxCrossEntropy", "CrossEntropy") and x_shape and x_shape[-1] is not None:
        k = int(x_shape[-1])
        if len(shape) == len(x_shape):
            return np.eye(k)[rng.integers(0, k, size=shape[:-1])]
        return rng.integers(0, k, size=shape).astype(np.int64)
    if loss == "SigmoidBCE":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    return rng.standard_normal(shape)


def _as_engine(graph_or_engine) -> Engine:
    """A fresh float64 NumPy engine on a copy of the graph, with the caller's weights."""
    if isinstance(graph_or_engine, Engine):
        src = graph_or_engine
        g = src.graph.copy()
        for id in g.nodes():
            node = g.node(id)
            for name in (*node.op.learnable, *node.op.buffers):
                if name in node.weights:
                    node.weights[name] = src.param(id, name).astype(np.float64)
        seed = src.seed
    elif isinstance(graph_or_engine, Graph):
        g, seed = graph_or_engine.copy(), 0
    else:
        raise TypeError(f"gradcheck needs a Graph or an Engine, got {type(graph_or_engine).__name__}")
    return Engine(g, backend="numpy", dtype="float64", seed=seed)


def gradcheck(graph_or_engine, node: str | None = None, feeds: dict | None = None, eps: float = 1e-6,
              seed: int = 0, max_entries: int | None = 24, train: bool = True, local: bool = True,
              whole: bool = True, tol: float = TOLERANCE, batch: int | None = None) -> list[GradCheckResult]:
    """Compare backprop with central differences for ``node`` (or every node).

    Parameters
    ----------
    graph_or_engine : Graph or Engine
        What to check; it is copied, never modified. An engine's current weights are used.
    node : str, optional
        Only this node's inputs and parameters.
    feeds : dict, optional
        Input id -> array; missing Inputs get :func:`random_feeds` of ``batch`` samples.
    eps : float
        Central-difference step in float64.
    seed : int
        Seeds the random feeds, the upstream gradients, the entry sampling and Dropout.
    max_entries : int or None
        Entries perturbed per tensor (``None``: all of them).
    train : bool
        Run in training mode (BatchNorm batch statistics, Dropout masks).
    local, whole : bool
        Which checks to run (see the module docstring).
    tol : float
        ``passed`` is ``max_rel_error <= tol``.
    batch : int, optional
        Batch size of random feeds; by default the first axis of the fed arrays, else 1,
        or 4 when the graph has a BatchNorm
        (a batch of one normalises everything to β, and with two samples x̂ = ±d/√(d² + ε)
        is so curved for close samples that central differences lose accuracy).

    Returns
    -------
    list of GradCheckResult
        Local checks first (in execution order), then whole-graph checks.
    """
    eng = _as_engine(graph_or_engine)
    g = eng.graph
    if node is not None:
        g.node(node)
    if batch is None:
        batch = fed_batch(eng, feeds)
    if batch is None:
        batch = 4 if any(g.node(i).type == "BatchNorm" for i in g.nodes()) else 1
    feeds, _ = random_feeds(eng, feeds, batch=batch, seed=seed)
    # own float64 copies: entries are perturbed in place, and the caller's arrays stay intact
    feeds = {k: np.array(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.array(v)
             for k, v in feeds.items()}
    if eng.loss_id is None:
        raise GraphError("gradcheck needs a graph with an output to backpropagate from")
    rng = np.random.default_rng(seed)
    results: list[GradCheckResult] = []
    _run(eng, feeds, train, seed)
    eng.backward()
    if local:
        ids = [node] if node is not None else g.topo_order()
        for id in ids:
            results += _local_checks(eng, id, train, eps, seed, max_entries, rng, tol)
    if whole:
        results += _graph_checks(eng, node, feeds, train, eps, seed, max_entries, rng, tol)
    return results


def _run(eng: Engine, feeds: dict, train: bool, seed: int) -> None:
    eng.rng = np.random.default_rng(seed)
    eng.forward(feeds, train=train)


def _local_checks(eng: Engine, id: str, train: bool, eps: float, seed: int, limit, rng, tol) -> list:
    g = eng.graph
    node = g.node(id)
    op = node.op
    if not op.inputs and not op.learnable:
        return []  # Input and Constant: nothing computed here
    inputs = [_jitter(eng.value(s), rng) for s in g.inputs_of(id)]
    params = {k: eng.param(id, k) for k in (*op.learnable, *op.buffers) if k in node.weights}
    out, cache = op.forward(inputs, params, train, np.random.default_rng(seed))
    upstream = rng.standard_normal(np.shape(out))
    in_grads, p_grads = op.backward(np.asarray(upstream, dtype=np.float64), cache)

    def objective() -> tuple[float, float]:
        y, _ = op.forward(inputs, params, train, np.random.default_rng(seed))
        terms = np.asarray(y, dtype=np.float64) * upstream
        return float(np.sum(terms)), float(np.sum(np.abs(terms)))

    def pattern() -> list | None:
        kinks = op_pattern(op, inputs[0]) if len(inputs) == 1 else None
        return None if kinks is None else [kinks]

    results = []
    for port, arr, grad in zip(op.inputs, inputs, in_grads):
        if grad is None or arr.dtype.kind != "f":
            continue  # integer labels, or an input the op defines no gradient for
        results.append(_compare("local", id, f"input {port}", arr, np.asarray(grad), objective,
                                eps, limit, rng, tol, pattern))
    for name in op.learnable:
        if name in p_grads and name in params:
            results.append(_compare("local", id, f"param {name}", params[name], np.asarray(p_grads[name]),
                                    objective, eps, limit, rng, tol, pattern))
    return results


def _jitter(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A float copy of ``value`` moved by noise of 1 % of its largest entry (at least 0.01).

    Forward values sit on kinks exactly (ReLU outputs of 0 fill whole max-pool windows,
    a batch of one normalises to 0): there the numerical gradient is meaningless, so the
    local check evaluates the op at a nearby point instead. Integer labels are kept.
    """
    value = np.array(value)
    if value.dtype.kind != "f":
        return value
    scale = 0.01 * max(float(np.abs(value).max(initial=0.0)), 1.0)
    return np.array(value + scale * rng.standard_normal(value.shape))


def _graph_checks(eng: Engine, node: str | None, feeds: dict, train: bool, eps: float, seed: int,
                  limit, rng, tol) -> list:
    g = eng.graph
    refs = eng.params_ref()
    analytic = {key: np.array(eng.param_grad(*key)) for key in refs}
    input_grads = {i: eng.grad(i) for i in feeds}

    def objective() -> tuple[float, float]:
        _run(eng, feeds, train, seed)
        out = np.asarray(eng.output_of(eng.loss_id), dtype=np.float64)
        return float(np.sum(out)), float(np.sum(np.abs(out)))

    kinked = any(g.node(i).type in KINKED_TYPES for i in g.nodes())
    pattern = (lambda: branch_pattern(eng)) if kinked else None
    results = []
    for (id, name), arr in refs.items():
        if node is not None and id != node:
            continue
        results.append(_compare("graph", id, f"param {name}", arr, analytic[(id, name)], objective,
                                eps, limit, rng, tol, pattern))
    for id, value in feeds.items():
        if (node is not None and id != node) or value.dtype.kind != "f" or not _checkable_input(g, id):
            continue
        results.append(_compare("graph", id, "value", value, input_grads[id], objective, eps, limit, rng, tol,
                                pattern))
    return results


def _checkable_input(g: Graph, id: str) -> bool:
    """Data inputs only: losses define no gradient for their target ``t``."""
    if not g.has_node(id) or g.node(id).params.get("role") != "data":
        return False
    return not any(g.node(s).op.category == "losses" and g.fed_ports(s).get("t") == id for s in g.successors(id))


def _compare(check: str, id: str, tensor: str, arr: np.ndarray, grad: np.ndarray, objective, eps: float,
             limit, rng, tol, pattern=None) -> GradCheckResult:
    """Perturb entries of ``arr`` in place (restoring each), compare with ``grad``.

    ``objective()`` evaluates ``(f, Σ|terms|)`` at the current ``arr``; ``pattern()``, called
    right after it, gives the branch pattern of the kinked ops there (``None``: no kinks).
    An entry whose step changes the pattern is retried with ``eps / KINK_RETRY`` and
    skipped when that still changes it.
    """
    if grad.shape != arr.shape:
        return GradCheckResult(check, id, tensor, float("inf"), float("inf"), 0, arr.size, False)
    picks = pick_entries(grad, limit, rng)
    flat = arr.reshape(-1)
    if not np.shares_memory(flat, arr):
        raise GraphError(f"{id} {tensor}: cannot perturb a non-contiguous array")
    base = None
    if pattern is not None:
        objective()
        base = pattern()

    def evaluate(i: int, value: float):
        flat[i] = value
        f, mag = objective()
        return f, mag, (pattern() if base is not None else None)

    kept, numeric, noise = [], [], 0.0
    for i in picks:
        old = flat[i]
        for step in (eps, eps / KINK_RETRY):
            plus, mag_plus, pat_plus = evaluate(i, old + step)
            minus, mag_minus, pat_minus = evaluate(i, old - step)
            crossed = not (same_pattern(base, pat_plus) and same_pattern(base, pat_minus))
            if not crossed:
                break
        flat[i] = old
        if crossed:
            continue
        kept.append(i)
        numeric.append((plus - minus) / (2 * step))
        # expected round-off of (f+ − f−)/2ε: a gradient that is zero in theory comes out at
        # this level numerically and must not count as a relative error of 1
        noise = max(noise, 8 * np.finfo(np.float64).eps * max(mag_plus, mag_minus) / (2 * step))
    if base is not None:
        objective()   # leave the engine at the unperturbed point
    skipped = int(picks.size - len(kept))
    # the reported error uses the round-off floor only, so it does not depend on ``tol``;
    # the pass test also accepts an absolute error at round-off level (whatever ``tol`` is)
    rel, abs_err = rel_error(grad.reshape(-1)[np.asarray(kept, dtype=np.int64)], np.asarray(numeric), floor=noise)
    passed = bool(rel <= tol or abs_err <= noise)
    return GradCheckResult(check, id, tensor, float(rel), float(abs_err), len(kept), int(arr.size),
                           passed, skipped)
