"""``race``: optimizers racing on a 2-D function (the book's ``optimizer_compare_naive``).

Each optimizer gets its own copy of the function's graph (:mod:`.functions`); one step is
Engine forward, Engine backward, ``optimizer.step`` on the two ``Parameter`` nodes, the
same three calls the trainer makes. The path holds the start and one point per step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.run.engine import Engine
from graph.training.labs.base import Lab, LabError, LabProgress, LabSettings, option, split_list
from graph.training.labs.functions import FUNCTIONS, function_graph, grid
from graph.training.optim import ALIASES, OPTIMIZERS, make_optimizer

BOOK_OPTIMIZERS = "sgd,momentum,adagrad,adam"


@dataclass
class RaceSettings(LabSettings):
    function: str = option("book", "the race course", choices=tuple(FUNCTIONS))
    optimizers: str = option(BOOK_OPTIMIZERS, f"comma-separated: {', '.join(OPTIMIZERS)}")
    steps: int = option(30, "updates per optimizer", low=1, high=100000)
    start_x: float | None = option(None, "start x (default: the course's, -7 for the book's)")
    start_y: float | None = option(None, "start y (default: the course's, 2 for the book's)")
    lr_sgd: float | None = option(None, "SGD learning rate (book 0.95)", low=0)
    lr_momentum: float | None = option(None, "Momentum learning rate (book 0.1)", low=0)
    lr_nesterov: float | None = option(None, "Nesterov learning rate", low=0)
    lr_adagrad: float | None = option(None, "AdaGrad learning rate (book 1.5)", low=0)
    lr_rmsprop: float | None = option(None, "RMSprop learning rate", low=0)
    lr_adadelta: float | None = option(None, "Adadelta learning rate (1: none)", low=0)
    lr_adam: float | None = option(None, "Adam learning rate (book 0.3)", low=0)
    grid: int = option(81, "contour grid points per axis", low=5, high=801)


def optimizer_names(text: str) -> list[str]:
    names = []
    for raw in split_list(text):
        key = ALIASES.get(raw.lower(), raw.lower())
        if key not in OPTIMIZERS:
            raise LabError(f"unknown optimizer {raw!r} (choose from {', '.join(OPTIMIZERS)})")
        if key not in names:
            names.append(key)
    if not names:
        raise LabError("name at least one optimizer")
    return names


def learning_rate(settings: RaceSettings, name: str) -> float:
    value = getattr(settings, f"lr_{name}")
    return FUNCTIONS[settings.function].lrs[name] if value is None else value


def start_point(settings: RaceSettings) -> tuple[float, float]:
    sx, sy = FUNCTIONS[settings.function].start
    return (sx if settings.start_x is None else settings.start_x,
            sy if settings.start_y is None else settings.start_y)


def trace(function: str, optimizer: str, lr: float, start, steps: int, hold=None):
    """Run one optimizer on a function's graph.

    Returns
    -------
    path (steps + 1, 2), values (steps + 1,), grads (steps + 1, 2)
        Points, f at each point and ∂f at each point (the last one never applied).
    """
    eng = Engine(function_graph(function, start), dtype="float64")
    opt = make_optimizer(optimizer, lr)
    path, values, grads = [], [], []
    for step in range(steps + 1):
        eng.forward()
        eng.backward()
        path.append((float(eng.param("x", "value")[0]), float(eng.param("y", "value")[0])))
        values.append(float(eng.loss()))
        grads.append((float(eng.param_grad("x", "value")[0]), float(eng.param_grad("y", "value")[0])))
        if step == steps or (hold is not None and hold()):
            break
        with np.errstate(over="ignore", invalid="ignore"):
            opt.step(eng.params_ref(), eng.grads_ref())
    return np.array(path), np.array(values), np.array(grads)


class RaceLab(Lab):
    name = "race"
    title = "Optimizer race"
    about = ("Optimizers on a 2-D function, from the same start: the book's f(x, y) = x²/20 + y² from "
             "(−7, 2) in 30 steps with SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3. SGD zig-zags across "
             "the narrow valley; the others head for the minimum.")
    Settings = RaceSettings

    def check(self) -> None:
        optimizer_names(self.settings.optimizers)

    def _run(self):
        s = self.settings
        names = optimizer_names(s.optimizers)
        spec = FUNCTIONS[s.function]
        start = start_point(s)
        paths, values, grads, lrs = {}, {}, {}, {}
        for i, name in enumerate(names):
            if self.hold():
                break
            lr = learning_rate(s, name)
            path, vals, grad = trace(s.function, name, lr, start, s.steps, self.hold)
            paths[name], values[name], grads[name], lrs[name] = path.tolist(), vals.tolist(), grad.tolist(), lr
            yield LabProgress(name, i + 1, len(names), f"{name} (lr {lr:g}): f = {vals[-1]:.6g} at "
                              f"({path[-1, 0]:.4g}, {path[-1, 1]:.4g}) after {len(path) - 1} steps",
                              {"kind": "path", "series": name, "points": path.tolist()})
        xs, ys, f, gx, gy = grid(s.function, s.grid)
        data = {"function": {"name": spec.name, "formula": spec.formula, "start": list(start),
                             "minimum": list(spec.minimum), "xrange": list(spec.xrange), "yrange": list(spec.yrange),
                             "log_levels": spec.log_levels},
                "paths": paths, "values": values, "gradients": grads, "lr": lrs,
                "contour": {"x": xs.tolist(), "y": ys.tolist(), "f": f.tolist(), "gx": gx.tolist(),
                            "gy": gy.tolist()}}
        summary = [f"{spec.formula} from ({start[0]:g}, {start[1]:g}), {s.steps} steps"]
        rows = []
        for name in paths:
            end = paths[name][-1]
            dist = float(np.hypot(end[0] - spec.minimum[0], end[1] - spec.minimum[1]))
            summary.append(f"{name:9s} lr {lrs[name]:<7g} end ({end[0]:.4g}, {end[1]:.4g})  f {values[name][-1]:.4g}"
                           f"  distance to the minimum {dist:.4g}")
            for step, (pt, v) in enumerate(zip(paths[name], values[name])):
                rows.append([name, step, pt[0], pt[1], v])
        if s.function == "book":
            summary.append("book: SGD zig-zags in y while crawling along x; Momentum rolls like a ball, AdaGrad "
                           "damps the y steps, Adam heads in with slight overshoot")
        tables = {"paths": {"header": ["optimizer", "step", "x", "y", "f"], "rows": rows}}
        return data, summary, tables
