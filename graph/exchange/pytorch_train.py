"""Write the PyTorch export folder: ``model.py``, the weights, ``train.py`` and its data.

``train.py`` is the static script ``resources/exchange/train.py.tmpl`` with one line
replaced by ``SETTINGS``: the graph's saved training settings (:func:`training_settings`)
resolved to plain numbers here (the optimizer's default learning rate, the schedule's
parameters for this dataset's iterations per epoch, the scaling ``auto`` picks), so the
script needs nothing from this project. Data: the embedded ``mnist-10k`` files are
copied to ``data/``; ``mnist`` / ``fashion-mnist`` IDX files and ``.npz`` datasets are
read from the paths the app uses (``--data-dir`` overrides); toy sets and image folders
are written to ``data/dataset.npz``.
"""
from __future__ import annotations

import math
import pprint
import shutil
from importlib import resources as importlib_resources
from pathlib import Path

import numpy as np

from graph.exchange.common import ExchangeError, inference_part, training_settings, weight_dict
from graph.exchange.pytorch_export import model_source, write_weights_file
from graph.model.graph import Graph
from graph.training.datasets import DatasetError, check_labels_fit, fit_to_input, load_dataset, split_indices
from graph.training.datasets.mnist import FILES, embedded_dir, locate
from graph.training.optim import make_optimizer
from graph.training.schedules import ScheduleError, make_schedule

_SCHEDULE_FIELDS = {"constant": ("base_lr",), "steps": ("base_lr", "boundaries", "values"),
                    "exponential": ("base_lr", "gamma", "step"), "power": ("base_lr", "step", "power"),
                    "plateau": ("base_lr", "factor", "patience", "min_lr", "threshold"),
                    "onecycle": ("base_lr", "max_lr", "start_lr", "last_lr", "half", "total")}


def template_text() -> str:
    """The static ``train.py`` script with its ``SETTINGS = {}  # @SETTINGS@`` line."""
    return (Path(str(importlib_resources.files("resources"))) / "exchange" / "train.py.tmpl").read_text("utf-8")


def trainable(g: Graph) -> str | None:
    """Why ``train.py`` cannot train ``g`` (``None`` when it can)."""
    part = inference_part(g)
    data = [n for n in g.nodes() if g.node(n).type == "Input" and g.node(n).params["role"] == "data"]
    labels = [n for n in g.nodes() if g.node(n).type == "Input" and g.node(n).params["role"] == "label"]
    if len(part.losses) != 1 or len(data) != 1 or len(labels) != 1:
        return "train.py needs one loss node fed by the scores and one label Input, and one data Input"
    if part.inputs != data:
        return f"train.py needs the model's only input to be the data Input {data[0]!r}"
    if part.outputs[0] != g.fed_ports(part.losses[0]).get("x") or g.fed_ports(part.losses[0]).get("t") != labels[0]:
        return "train.py needs the loss fed by the scores and the label Input"
    return None


def _dataset(spec: str, folder: Path, data_dir) -> tuple[dict, object]:
    """``(SETTINGS["dataset"], loaded DataSplits or None)``; copies or writes data files."""
    if spec == "mnist-10k":
        (folder / "data").mkdir(exist_ok=True)
        for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            shutil.copyfile(embedded_dir() / f"{stem}.gz", folder / "data" / f"{stem}.gz")
        entry = {"name": spec, "kind": "idx", "images": "data/t10k-images-idx3-ubyte.gz",
                 "labels": "data/t10k-labels-idx1-ubyte.gz"}
        return entry, load_dataset(spec)
    if spec in ("mnist", "fashion-mnist"):
        try:
            paths = {k: str(v.resolve()) for k, v in locate(spec, data_dir).items()}
            data = load_dataset(spec, data_dir=data_dir)
        except DatasetError:  # not here: train.py finds them with --data-dir
            paths, data = {k: f"{stem}.gz" for k, stem in FILES.items()}, None
        return {"name": spec, "kind": "idx_pair", "holdout": 5000, **paths}, data
    try:
        data = load_dataset(spec, data_dir=data_dir)
    except DatasetError as exc:
        raise ExchangeError(f"cannot export train.py: {exc}") from None
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix.lower() == ".npz":
        return {"name": spec, "kind": "npz", "path": str(path.resolve())}, data
    # toy sets and image folders: the whole set in file order, split by train.py like the app does
    n = len(data.y_train) + len(data.y_val) + len(data.y_test)
    tr, va, te = split_indices(n)
    x = np.empty((n,) + data.sample_shape, dtype=data.x_train.dtype)
    y = np.empty(n, dtype=np.int64)
    for idx, (xs, ys) in ((tr, (data.x_train, data.y_train)), (va, (data.x_val, data.y_val)),
                          (te, (data.x_test, data.y_test))):
        x[idx], y[idx] = xs, ys
    (folder / "data").mkdir(exist_ok=True)
    np.savez(folder / "data" / "dataset.npz", x=x, y=y)
    return {"name": spec, "kind": "npz", "path": "data/dataset.npz"}, data


def settings(g: Graph, meta: dict | None, folder: Path, data_dir=None, overrides: dict | None = None) -> dict:
    """``SETTINGS`` for ``train.py`` (see the module docs); writes the data files."""
    saved = training_settings(meta)
    cfg = {**saved["config"], **{k: v for k, v in (overrides or {}).items() if v is not None and k != "dataset"}}
    spec = (overrides or {}).get("dataset") or saved["dataset"]
    entry, data = _dataset(spec, folder, data_dir)
    n_train = len(data.y_train) if data is not None else 55000
    if cfg.get("train_size"):
        n_train = min(n_train, int(cfg["train_size"]))
    try:
        opt = make_optimizer(cfg["optimizer"], cfg["lr"], **cfg["optimizer_options"])
        steps = max(math.ceil(n_train / int(cfg["batch_size"])), 1)
        sched = make_schedule(cfg["schedule"], opt.lr, steps, int(cfg["epochs"]) * steps)
    except (ValueError, ScheduleError) as exc:
        raise ExchangeError(f"cannot export train.py: {exc}") from None
    schedule = {"name": sched.name, "lr": sched.base_lr}
    schedule.update({f: getattr(sched, f) for f in _SCHEDULE_FIELDS[sched.name] if f != "base_lr"})
    part = inference_part(g)
    loss = g.node(part.losses[0])
    label = g.fed_ports(loss.id)["t"]
    if data is not None:  # the same checks as the app's Trainer, before a script that would fail
        data_id = part.inputs[0]
        try:
            fit_to_input(data.x_train[:1], g.node(data_id).params["shape"], data_id)
            width = part.shapes.get(part.outputs[0], (None,))
            check_labels_fit(data.num_classes, g.node(label).params["shape"], width[-1] if width else None, label)
        except DatasetError as exc:
            raise ExchangeError(f"train.py cannot train on {spec}: {exc}") from None
    scaling = cfg["scaling"]
    if scaling == "auto":
        scaling = data.default_scaling if data is not None else "unit"
    return {
        "graph": "graph",
        "input_shape": list(g.node(part.inputs[0]).params["shape"]),
        "label_shape": list(g.node(label).params["shape"]),
        "num_classes": data.num_classes if data is not None else 10,
        "loss": loss.type, "dataset": entry, "scaling": scaling,
        "epochs": int(cfg["epochs"]), "batch_size": int(cfg["batch_size"]),
        "optimizer": {"name": opt.name, "lr": opt.lr, "options": dict(opt.hyper)},
        "weight_decay": float(cfg["weight_decay"]), "clip_norm": cfg["clip_norm"], "schedule": schedule,
        "early_stopping": int(cfg["early_stopping"]), "monitor": cfg["monitor"],
        "restore_best": bool(cfg["restore_best"]), "seed": int(cfg["seed"]),
        "eval_batch_size": int(cfg["eval_batch_size"]), "shuffle": bool(cfg.get("shuffle", True)),
        "train_size": cfg.get("train_size"), "max_iterations": cfg.get("max_iterations"),
    }


def _pretty(value, indent: int) -> str:
    """``value`` as a Python literal whose continuation lines line up after ``indent`` columns."""
    return pprint.pformat(value, width=100 - indent, sort_dicts=False).replace("\n", "\n" + " " * indent)


def export_pytorch(g: Graph, folder, meta: dict | None = None, name: str = "graph", weights: str = "npz",
                   data_dir=None, overrides: dict | None = None) -> list[str]:
    """Write model.py, weights.<npz|safetensors> and (when the graph trains) train.py into ``folder``.

    Returns one line per thing written or skipped, for the CLI and the app to show.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    part = inference_part(g)
    (folder / "model.py").write_text(model_source(g, name), encoding="utf-8")
    wpath = write_weights_file(weight_dict(g, part.order), folder, weights)
    lines = [f"{folder / 'model.py'}: nn.Module Net and build_model()", f"{wpath}: the graph's weights"]
    why = trainable(g)
    if why is not None:
        return lines + [f"train.py not written: {why}"]
    try:
        s = settings(g, meta, folder, data_dir, overrides)
    except ExchangeError as exc:
        if (overrides or {}).get("dataset"):
            raise
        # the saved (or default) dataset does not fit: the model is still useful on its own
        return lines + [f"train.py not written: {exc} (choose a dataset with --dataset)"]
    s["graph"] = name
    literal = "".join(f"    {k!r}: {_pretty(v, 6 + len(repr(k)))},\n" for k, v in s.items())
    text = template_text().replace("SETTINGS = {}  # @SETTINGS@", "SETTINGS = {\n" + literal + "}")
    (folder / "train.py").write_text(text, encoding="utf-8")
    if training_settings(meta)["config"].get("augment"):
        lines.append("note: train.py does not reproduce the saved augmentation settings")
    lines.append(f"{folder / 'train.py'}: {s['optimizer']['name']} lr {s['optimizer']['lr']:g}, batch "
                 f"{s['batch_size']}, {s['epochs']} epochs on {s['dataset']['name']} "
                 "(python train.py, or torchrun --nproc_per_node=N train.py)")
    return lines
