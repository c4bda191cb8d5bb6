"""The engine: runs a :class:`Graph` forward and backward and records every step.

Values and gradients live on the backend (NumPy or CuPy); ``value``/``grad``/``param``
return host NumPy arrays. Weights are initialised once (seeded) into the graph's nodes,
so a saved graph keeps them; ``sync_to_graph`` copies trained device weights back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from layers.base import fmt_shape, to_host
from layers.fused import conv_pool_backward, conv_pool_forward, conv_output, untile

from graph.run.backend import resolve_backend
from graph.model.errors import FeedError, GraphError
from graph.run.fusion import find_conv_pool_groups
from graph.model.graph import Graph

DTYPES = ("float64", "float32", "float16")


@dataclass
class StepEvent:
    """One node in one phase, with everything a GUI needs to replay the moment.

    Arrays are host NumPy arrays. ``inputs``/``input_grads`` follow the op's port order;
    ``upstream`` is ∂L/∂out arriving at the node (``None`` in the forward phase).
    """

    index: int
    phase: str
    node: str
    type: str
    inputs: list
    output: Any
    upstream: Any = None
    input_grads: list = field(default_factory=list)
    param_grads: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    rule: str = ""


@dataclass
class _Plan:
    id: str
    op: Any
    kind: str          # "input", "const" or "op"
    srcs: list
    params: dict
    needs_grad: bool
    need_inputs: tuple


def _settle(done: dict, pending: dict, id: str):
    """``done[id]``, computing it first from the callable ``pending[id]`` when there is one."""
    v = done.get(id)
    if v is None and id in pending:
        v = done[id] = pending[id]()
        pending.pop(id, None)
    return v


class Engine:
    """Run a graph. ``backend`` is numpy | cupy | auto; ``dtype`` float64 | float32 | float16.

    ``fuse`` (default on): ``forward``/``backward`` run each Conv2D → [ReLU] → MaxPool2D
    chain as one step (``graph.run.fusion``); ``steps()`` never does. The inner nodes' values
    and gradients are then computed when asked for, so ``value``/``grad`` answer the same.
    Building one changes no process-wide setting: programs call
    :func:`graph.run.perf.tune_process` once at start-up for the allocator and BLAS settings.
    """

    fuse = True

    def __init__(self, graph: Graph, backend: str = "numpy", dtype: str = "float64", seed: int = 0) -> None:
        if str(dtype) not in DTYPES:
            raise GraphError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
        self.graph = graph
        self.backend, self.xp, self.backend_note = resolve_backend(backend)
        self.dtype = np.dtype(str(dtype))
        self.seed = int(seed)
        self.train_mode = False
        self.rng = self._make_rng(self.seed)
        self._values: dict[str, Any] = {}
        self._caches: dict[str, Any] = {}
        self._grads: dict[str, Any] = {}
        self._param_grads: dict[tuple, Any] = {}
        self._lazy_values: dict[str, Any] = {}
        self._lazy_rows: dict[str, Any] = {}   # id -> f(n): a lazy value's first n samples
        self._lazy_grads: dict[str, Any] = {}
        self._fused_caches: dict[str, Any] = {}
        self._built_version = -1
        self._build()

    # -- building ------------------------------------------------------------------
    def _make_rng(self, seed: int):
        if self.backend == "cupy":
            return self.xp.random.default_rng(seed)
        return np.random.default_rng(seed)

    def _build(self) -> None:
        g = self.graph
        g.validate()
        shapes, _ = g.infer_shapes()
        init_rng = np.random.default_rng(self.seed)
        order = g.topo_order()
        self._plan: list[_Plan] = []
        self._params: dict[str, dict] = {}
        self._consts: dict[str, Any] = {}
        needs: dict[str, bool] = {}
        for id in order:
            node = g.node(id)
            op = node.op
            srcs = g.inputs_of(id)
            in_shapes = [shapes[s] for s in srcs]
            expected = op.param_shapes(*in_shapes) if (op.learnable or op.buffers) else {}
            fresh = None
            for name, shape in expected.items():
                have = node.weights.get(name)
                if have is None or tuple(have.shape) != tuple(shape):
                    fresh = fresh if fresh is not None else op.init_params(in_shapes, init_rng)
                    node.weights[name] = np.asarray(fresh[name], dtype=np.float64)
            self._params[id] = {name: self.xp.asarray(node.weights[name], dtype=self.dtype) for name in expected}
            needs[id] = bool(op.learnable) or any(needs[s] for s in srcs)
            kind = "input" if node.type == "Input" else "const" if not op.inputs and not op.learnable else "op"
            if node.type == "Constant":
                self._consts[id] = self.xp.asarray(np.asarray(node.params["value"]), dtype=self.dtype)
            self._plan.append(_Plan(id, op, kind, srcs, self._params[id], needs[id],
                                    tuple(needs[s] for s in srcs)))
        self._index = {p.id: p for p in self._plan}
        self._groups = find_conv_pool_groups(g, shapes)
        self._inner = {id: grp for grp in self._groups.values() for id in grp.inner}
        self._built_version = g.version
        self.loss_id = self._find_loss()

    def fused_groups(self) -> tuple:
        """The Conv2D → [ReLU] → MaxPool2D chains a forward pass runs as one step (``graph.run.fusion``)."""
        self._ensure_built()
        return tuple(self._groups.values()) if self.fuse else ()

    def _find_loss(self) -> str | None:
        sinks = self.graph.sinks()
        losses = [s for s in sinks if self.graph.node(s).op.category == "losses"]
        if len(losses) == 1:
            return losses[0]
        ops = [s for s in sinks if self._index[s].kind == "op"]
        if len(ops) == 1:
            return ops[0]
        return losses[0] if losses else (ops[0] if ops else (sinks[0] if sinks else None))

    def refresh(self) -> None:
        """Rebuild after the graph changed, keeping trained weights."""
        if self._built_version != -1:
            self.sync_to_graph()
        self._values.clear(), self._grads.clear(), self._caches.clear(), self._param_grads.clear()
        self._lazy_values.clear(), self._lazy_grads.clear(), self._fused_caches.clear(), self._lazy_rows.clear()
        self._build()

    def _ensure_built(self) -> None:
        if self._built_version != self.graph.version:
            self.refresh()

    def set_train(self, flag: bool) -> None:
        self.train_mode = bool(flag)

    # -- feeding -------------------------------------------------------------------
    def _feed_value(self, p: _Plan, feeds: dict):
        node = self.graph.node(p.id)
        if p.id in feeds:
            raw = feeds[p.id]
        elif node.params.get("value") is not None:
            raw = node.params["value"]
        else:
            raise FeedError(f"Input {p.id!r} needs a value: feed it (e.g. --feed {p.id}=FILE.npy)")
        arr = raw if hasattr(raw, "dtype") and hasattr(raw, "shape") else np.asarray(raw)
        if arr.dtype.kind in "iub" and node.params.get("role") == "label":
            # class indices stay integers; integer *data* (uint8 pixels) takes the engine dtype
            arr = self.xp.asarray(arr)
        else:
            try:
                arr = self.xp.asarray(arr, dtype=self.dtype)
            except (TypeError, ValueError):
                raise FeedError(f"Input {p.id!r}: cannot use the fed array of dtype {arr.dtype} as numbers") from None
        want = node.params["shape"]
        ok = len(want) == arr.ndim and all(w is None or w == s for w, s in zip(want, arr.shape))
        if not ok:
            raise FeedError(f"Input {p.id!r} expects shape {fmt_shape(want)}, got {fmt_shape(arr.shape)}")
        return arr

    # -- running ---------------------------------------------------------------------
    def forward(self, feeds: dict | None = None, train: bool | None = None) -> None:
        """Compute every node's output. ``feeds`` maps Input ids to arrays."""
        if feeds:
            self._ensure_built()
            stray = [k for k in feeds if k not in self._index or self._index[k].kind != "input"]
            if stray:
                raise FeedError(f"cannot feed {', '.join(map(repr, stray))}: not an Input node "
                                f"(inputs: {', '.join(self.input_ids()) or 'none'})")
        for _ in self._forward_iter(feeds or {}, train, record=False):
            pass

    def _forward_iter(self, feeds: dict, train: bool | None, record: bool) -> Iterator[StepEvent]:
        self._ensure_built()
        if train is not None:
            self.train_mode = bool(train)
        train = self.train_mode
        values = {}
        caches = {}
        self._values, self._caches = values, caches
        self._grads, self._param_grads = {}, {}
        self._lazy_values, self._lazy_grads, self._fused_caches, self._lazy_rows = {}, {}, {}, {}
        fuse = self.fuse and not record and self._groups
        rng = self.rng
        for i, p in enumerate(self._plan):
            if fuse and p.id in self._inner:
                continue  # runs inside its group's step, at the pool
            if fuse and p.id in self._groups:
                self._forward_group(self._groups[p.id], values, train)
            elif p.kind == "input":
                values[p.id] = self._feed_value(p, feeds)
            elif p.kind == "const":
                values[p.id] = self._consts[p.id]
            else:
                out, cache = p.op.forward([values[s] for s in p.srcs], p.params, train, rng)
                values[p.id] = out
                caches[p.id] = cache
                if train and p.op.buffers:
                    p.params.update(p.op.new_buffers(cache))
            if record:
                yield StepEvent(i, "forward", p.id, self.graph.node(p.id).type,
                                [self._host(values[s]) for s in p.srcs], self._host(values[p.id]),
                                params={k: self._host(v) for k, v in p.params.items()})

    def _forward_group(self, grp, values: dict, train: bool) -> None:
        """Run a fused Conv2D → [ReLU] → MaxPool2D group; the inner outputs become lazy."""
        conv = self._index[grp.conv]
        out, cache = conv_pool_forward(conv.op, values[conv.srcs[0]], conv.params, grp.k, grp.relu is not None)
        values[grp.pool] = out
        self._fused_caches[grp.pool] = cache
        self._lazy_values[grp.conv] = lambda: conv_output(cache)
        self._lazy_rows[grp.conv] = lambda n: untile(cache.cols[:n], cache)
        if grp.relu is not None:
            relu = self._index[grp.relu].op
            self._lazy_values[grp.relu] = lambda: relu.forward([self._value_of(grp.conv)], {}, train)[0]
            self._lazy_rows[grp.relu] = lambda n: relu.forward([self._first_rows(grp.conv, n)], {}, train)[0]

    def _backward_group(self, grp, dout, prune: bool):
        """Backward of a fused group; returns ``(conv plan, [dx], conv param grads)``."""
        conv = self._index[grp.conv]
        cache = self._fused_caches[grp.pool]
        dx, p_grads, dcols = conv_pool_backward(conv.op, dout, cache, conv.need_inputs[0] or not prune)
        self._lazy_grads[grp.conv] = lambda: untile(dcols, cache)
        if grp.relu is not None:
            pool = self._index[grp.pool].op

            def relu_grad():
                _, pool_cache = pool.forward([self._value_of(grp.relu)], {}, self.train_mode)
                return pool.backward(dout, pool_cache)[0][0]

            self._lazy_grads[grp.relu] = relu_grad
        return conv, [dx], p_grads

    def _value_of(self, id: str):
        """Backend value of ``id`` from the last forward (worked out now if it was fused), or None."""
        return _settle(self._values, self._lazy_values, id)

    def _grad_of(self, id: str):
        """Backend ∂L/∂(output of ``id``) from the last backward, or None."""
        return _settle(self._grads, self._lazy_grads, id)

    def backward(self, seed=None, prune: bool = False) -> None:
        """Backpropagate from the loss (the graph's scalar sink), seeded with 1.0.

        A non-scalar sink is seeded with ones (the gradient of its sum). ``prune``
        skips gradients nothing learnable needs (training); by default every node's
        output gradient is computed so the GUI can show it.
        """
        for _ in self._backward_iter(seed, prune, record=False):
            pass

    def _backward_iter(self, seed, prune: bool, record: bool) -> Iterator[StepEvent]:
        if not self._values:
            raise GraphError("run forward before backward")
        if self.loss_id is None:
            raise GraphError("the graph has no output to backpropagate from")
        xp = self.xp
        loss_val = self._values[self.loss_id]
        grads: dict[str, Any] = {}
        self._grads = grads
        self._param_grads = {}
        if seed is None:
            grads[self.loss_id] = xp.ones_like(loss_val)
        else:
            grads[self.loss_id] = xp.asarray(seed, dtype=self.dtype).reshape(loss_val.shape)
        n = len(self._plan)
        for j, p in enumerate(reversed(self._plan)):
            dout = grads.get(p.id)
            if dout is None or (prune and not p.needs_grad):
                continue
            owner = p
            if p.id in self._fused_caches:
                owner, in_grads, p_grads = self._backward_group(self._groups[p.id], dout, prune)
            elif p.kind == "op":
                need = p.need_inputs if prune else True
                in_grads, p_grads = p.op.backward(dout, self._caches[p.id], need)
            else:
                in_grads, p_grads = [], {}
                if p.op.learnable:
                    in_grads, p_grads = p.op.backward(dout, None)
            for s, gi in zip(owner.srcs, in_grads):
                if gi is None:
                    continue
                prev = grads.get(s)
                grads[s] = gi if prev is None else prev + gi
            for name, gp in p_grads.items():
                self._param_grads[(owner.id, name)] = gp
            if record:
                vals = [self._host(self._values[s]) for s in p.srcs]
                hin = [None if gi is None else self._host(gi) for gi in in_grads]
                rule = p.op.rule_with_numbers(vals, self._host(dout), hin) if p.kind == "op" else p.op.rule
                yield StepEvent(n + j, "backward", p.id, self.graph.node(p.id).type, vals,
                                self._host(self._values[p.id]), self._host(dout), hin,
                                {k: self._host(v) for k, v in p_grads.items()},
                                {k: self._host(v) for k, v in p.params.items()}, rule)

    def steps(self, feeds: dict | None = None, train: bool = False) -> Iterator[StepEvent]:
        """Forward then backward, yielding one :class:`StepEvent` per node and phase."""
        yield from self._forward_iter(feeds or {}, train, record=True)
        if self.loss_id is not None:
            yield from self._backward_iter(None, False, record=True)

    def _host(self, x):
        return None if x is None else to_host(x)

    # -- reading results ---------------------------------------------------------------
    def _node_plan(self, id: str) -> _Plan:
        self.graph.node(id)
        self._ensure_built()
        return self._index[id]

    def value(self, id: str) -> np.ndarray:
        """Forward output of ``id`` as a host NumPy array."""
        self._node_plan(id)
        v = self._value_of(id)
        if v is None:
            raise GraphError(f"no value for {id!r} yet: run forward first")
        return self._host(v)

    def _first_rows(self, id: str, n: int):
        v = self._values.get(id)
        if v is None and id in self._lazy_rows:
            return self._lazy_rows[id](n)
        return None if v is None else v[:n]

    def value_sample(self, id: str, n: int) -> np.ndarray:
        """:meth:`value`, except that a fused chain's inner output (conv, ReLU) not worked out
        yet comes for the batch's first ``n`` samples only, computed now and not kept: enough
        for a histogram, without a full-batch copy of the biggest activations each epoch."""
        self._node_plan(id)
        if self._values.get(id) is None and id in self._lazy_rows:
            return self._host(self._first_rows(id, n))
        return self.value(id)

    def output_of(self, id: str):
        """Forward output of ``id`` on the backend (no host copy)."""
        v = self._value_of(id)
        if v is None:
            raise GraphError(f"no value for {id!r} yet: run forward first")
        return v

    def grad(self, id: str) -> np.ndarray:
        """∂L/∂(output of ``id``) as a host array; zeros where the loss does not depend on it."""
        self._node_plan(id)
        g = self._grad_of(id)
        if g is not None:
            return self._host(g)
        if not self._grads:
            raise GraphError(f"no gradient for {id!r} yet: run backward first")
        return np.zeros_like(self.value(id))

    def loss(self) -> float:
        return float(to_host(self._values[self.loss_id]).reshape(-1).sum())

    def param(self, id: str, name: str) -> np.ndarray:
        return np.array(to_host(self._param_array(id, name)))

    def _param_array(self, id: str, name: str):
        params = self._node_plan(id).params
        if name not in params:
            raise GraphError(f"{id} has no parameter {name!r} (it has: {', '.join(params) or 'none'})")
        return params[name]

    def param_grad(self, id: str, name: str) -> np.ndarray:
        self._param_array(id, name)
        g = self._param_grads.get((id, name))
        if g is None:
            raise GraphError(f"no gradient for {id}.{name} yet: run backward first")
        return self._host(g)

    def set_param(self, id: str, name: str, value) -> None:
        """Replace a learnable tensor (shape must match); the graph's copy follows."""
        cur = self._param_array(id, name)
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != tuple(cur.shape):
            raise GraphError(f"{id}.{name} has shape {fmt_shape(cur.shape)}, got {fmt_shape(arr.shape)}")
        self._index[id].params[name] = self.xp.asarray(arr, dtype=self.dtype)
        self.graph.node(id).weights[name] = arr.copy()

    def learnables(self) -> list[tuple[str, str]]:
        """``(node id, tensor name)`` of every learnable tensor, in execution order."""
        return [(p.id, n) for p in self._plan for n in p.op.learnable if n in p.params]

    def params_ref(self) -> dict:
        """Backend arrays of every learnable tensor; optimizers update them in place."""
        return {(i, n): self._index[i].params[n] for i, n in self.learnables()}

    def state_ref(self) -> dict:
        """Backend arrays of every learnable tensor *and* buffer (BatchNorm running
        statistics): ``{(node id, name): array}``, for snapshots and roll-backs."""
        return {(p.id, n): a for p in self._plan for n, a in p.params.items()}

    def grads_ref(self) -> dict:
        """Backend gradients of the learnable tensors from the last backward."""
        return dict(self._param_grads)

    def input_ids(self, role: str | None = None) -> list[str]:
        """Ids of Input nodes, optionally only those with ``role`` (data | label)."""
        return [p.id for p in self._plan if p.kind == "input"
                and (role is None or self.graph.node(p.id).params["role"] == role)]

    def logits_node(self) -> str | None:
        """The node feeding the loss's first input (its argmax is the prediction)."""
        if self.loss_id is None:
            return None
        srcs = self._index[self.loss_id].srcs
        return srcs[0] if srcs else None

    def sync_to_graph(self) -> None:
        """Copy device weights and buffers back into the graph as float64 host arrays."""
        for p in self._plan:
            node = self.graph.node(p.id) if self.graph.has_node(p.id) else None
            if node is None:
                continue
            for name, arr in p.params.items():
                node.weights[name] = np.asarray(to_host(arr), dtype=np.float64).copy()

    def first_nonfinite(self) -> tuple[str, str] | None:
        """``(node id, "value" | "grad")`` of the first NaN/Inf in execution order, or ``None``."""
        xp = self.xp
        for p in self._plan:
            v = self._value_of(p.id)
            if v is not None and v.dtype.kind == "f" and not bool(xp.isfinite(v).all()):
                return p.id, "value"
        for p in reversed(self._plan):
            g = self._grad_of(p.id)
            if g is not None and g.dtype.kind == "f" and not bool(xp.isfinite(g).all()):
                return p.id, "grad"
            for n in p.op.learnable:
                gp = self._param_grads.get((p.id, n))
                if gp is not None and not bool(xp.isfinite(gp).all()):
                    return p.id, f"grad of {n}"
        return None
