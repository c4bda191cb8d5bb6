"""What every exporter shares: the inference part of a graph, names, weights and settings.

A graph that trains ends in a loss node fed by the scores and a label ``Input``. The
exporters write the *inference* part: every node the outputs depend on, where the
outputs are the node feeding each loss (the scores) and every other sink. The loss
itself goes to the generated ``train.py`` (PyTorch) or to the NumPy code's ``loss``.

Weights travel under the key ``"<node id>/<tensor name>"`` in the app's own layout
(Affine ``W`` is (in, out), Conv2D ``W`` is (FN, C, FH, FW)), as float64, in
``weights.npz`` (or ``weights.safetensors``); ``import-weights`` reads the same keys.
"""
from __future__ import annotations

import keyword
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from layers.base import fmt_shape

from graph.model.errors import GraphError
from graph.model.graph import Graph
from graph.run.engine import Engine
from graph.training.events import TrainConfig


class ExchangeError(GraphError):
    """An export or import that cannot be done; the message is one line saying why."""


@dataclass
class InferencePart:
    """The nodes an exporter writes, in execution order.

    ``inputs``: Input ids the outputs depend on; ``outputs``: ids whose values the
    exported model returns (the scores feeding each loss, then other sinks); ``order``:
    every needed node (inputs included) in topological order; ``shapes``: inferred
    output shapes (``None`` = batch axis); ``losses``: loss node ids left out.
    """

    graph: Graph
    inputs: list
    outputs: list
    order: list
    shapes: dict
    losses: list


def inference_part(g: Graph) -> InferencePart:
    """Split ``g`` into what a deployed model computes; weights are initialised if missing.

    Raises ``ExchangeError`` when the graph does not run or has nothing to export.
    """
    if not len(g):
        raise ExchangeError("the graph is empty: nothing to export")
    Engine(g)  # validates the graph and initialises missing weights into the nodes (seed 0)
    shapes, _ = g.infer_shapes()
    losses = [n for n in g.topo_order() if g.node(n).op.category == "losses"]
    outputs: list = []
    for loss in losses:
        src = g.fed_ports(loss).get("x")
        if src is not None and src not in outputs:
            outputs.append(src)
    for sink in g.sinks():
        if sink not in losses and sink not in outputs:
            outputs.append(sink)
    if not outputs:
        raise ExchangeError("the graph has no output to export (only a loss with nothing feeding it)")
    needed = set(outputs)
    stack = list(outputs)
    while stack:
        for p in g.predecessors(stack.pop()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    inner_losses = [n for n in losses if n in needed]
    if inner_losses:
        n = inner_losses[0]
        raise ExchangeError(f"cannot export: loss node {n!r} ({g.node(n).type}) feeds other nodes; only a "
                            "graph's final loss can be left to the training script")
    order = [n for n in g.topo_order() if n in needed]
    inputs = [n for n in order if g.node(n).type == "Input"]
    return InferencePart(g, inputs, outputs, order, shapes, losses)


def check_supported(part: InferencePart, supported, fmt: str) -> None:
    """One line naming every node whose op type ``fmt`` has no equivalent for."""
    bad = [(n, part.graph.node(n).type) for n in part.order if part.graph.node(n).type not in supported]
    if bad:
        listed = ", ".join(f"{t} (node {n!r})" for n, t in bad)
        raise ExchangeError(f"cannot export to {fmt}: no {fmt} equivalent for {listed}")


# -- names -------------------------------------------------------------------------------
# attributes of torch.nn.Module and names the generated code uses itself
RESERVED = frozenset("""
self torch nn F np math x_value forward training train eval to cuda cpu float double half bfloat16
type apply children modules parameters buffers named_children named_modules named_parameters
named_buffers state_dict load_state_dict register_buffer register_parameter register_module
add_module get_submodule get_parameter get_buffer zero_grad requires_grad_ share_memory
extra_repr dump_patches call_super_init T_destination ipu xpu mtia to_empty compile
register_forward_hook register_forward_pre_hook register_backward_hook
register_full_backward_hook register_full_backward_pre_hook get_extra_state set_extra_state
set_submodule build_model load_weights Net predict layers weights grads params loss
""".split())


def python_names(ids) -> dict:
    """``{node id: Python identifier}``: the id itself where valid, else a cleaned-up form."""
    out, used = {}, set()
    for id in ids:
        name = re.sub(r"\W", "_", id)
        if not name or name[0].isdigit():
            name = "n_" + name
        if keyword.iskeyword(name) or name in RESERVED or name.startswith("_"):
            name = "node_" + name.lstrip("_")
        base, i = name, 2
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        out[id] = name
    return out


# -- weights -----------------------------------------------------------------------------
def weight_dict(g: Graph, ids=None) -> dict:
    """``{"node/name": float64 array}`` of every weight and buffer of the nodes ``ids``."""
    ids = g.nodes() if ids is None else ids
    return {f"{id}/{name}": np.asarray(arr, dtype=np.float64)
            for id in ids for name, arr in g.node(id).weights.items()}


def save_weights(weights: dict, path: Path) -> Path:
    """Write ``weights`` as ``.npz`` or ``.safetensors`` (by the suffix of ``path``)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.numpy import save_file  # noqa: PLC0415 - optional
        except ImportError:
            raise ExchangeError("writing weights.safetensors needs the safetensors package "
                                "(pip install safetensors); use --weights npz instead") from None
        save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, str(path))
    else:
        np.savez(path, **weights)
    return path


def read_weights(path) -> dict:
    """``{"node/name": array}`` from a ``.npz`` or ``.safetensors`` file; one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise ExchangeError(f"no such weights file: {path}")
    if path.suffix != ".safetensors" and not zipfile.is_zipfile(path):
        # np.load would suggest allow_pickle, and pickles are never loaded here
        raise ExchangeError(f"{path}: not a .npz archive (expected one written by numpy.savez, "
                            "e.g. weights.npz or trained_weights.npz)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.numpy import load_file  # noqa: PLC0415 - optional
            return {k: np.asarray(v) for k, v in load_file(str(path)).items()}
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in data.files}
    except ImportError:
        raise ExchangeError(f"{path}: reading .safetensors needs the safetensors package "
                            "(pip install safetensors)") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ExchangeError(f"{path}: not a readable weights file ({' '.join(str(exc).split())})") from None
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ExchangeError(f"{path}: not a readable weights file ({type(exc).__name__}: "
                            f"{' '.join(str(exc).split())})") from None


def apply_weights(g: Graph, weights: dict, source: str) -> int:
    """Put ``{"node/name": array}`` into ``g``'s nodes, checking every name and shape.

    Returns the number of tensors set. Nothing changes unless all of them fit.
    """
    if not weights:
        raise ExchangeError(f"{source}: holds no tensors")
    shapes, _ = g.infer_shapes()
    staged = {}
    for key, arr in weights.items():
        id, sep, name = key.rpartition("/")
        if not sep or not g.has_node(id):
            raise ExchangeError(f"{source}: {key!r} names no node of this graph (keys are 'node/tensor')")
        node = g.node(id)
        allowed = set(node.op.learnable) | set(node.op.buffers)
        if name not in allowed:
            raise ExchangeError(f"{source}: node {id!r} ({node.type}) has no tensor {name!r} "
                                f"(it has: {', '.join(sorted(allowed)) or 'none'})")
        ins = [shapes.get(s) for s in g.inputs_of(id)]
        want = node.op.param_shapes(*ins).get(name) if all(s is not None for s in ins) else None
        arr = np.asarray(arr, dtype=np.float64)
        if want is not None and None not in want and tuple(want) != arr.shape:
            raise ExchangeError(f"{source}: {key} has shape {fmt_shape(arr.shape)} but node {id!r} "
                                f"expects {fmt_shape(tuple(want))}")
        if not np.all(np.isfinite(arr)):
            raise ExchangeError(f"{source}: {key} holds NaN or infinite values")
        staged[(id, name)] = arr
    for (id, name), arr in staged.items():
        g.node(id).weights[name] = arr.copy()
    return len(staged)


# -- training settings -------------------------------------------------------------------
def training_settings(meta: dict | None) -> dict:
    """The graph's saved training settings: ``{"config": {...}, "dataset": spec}``.

    ``meta["training"]`` is written by a training run (``trained_graph.json``) and by the
    app; missing fields take the ``backprop-studio train`` defaults.
    """
    saved = (meta or {}).get("training") or {}
    config = saved.get("config") if isinstance(saved.get("config"), dict) else {}
    dataset = saved.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("spec")
    return {"config": asdict(TrainConfig.from_dict(config)), "dataset": str(dataset or "mnist-10k")}
