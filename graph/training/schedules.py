"""Learning-rate schedules from the notes: constant, piecewise constant, exponential, power,
performance scheduling (reduce on plateau) and 1cycle.

A schedule maps the iteration number ``t`` (0 for the first batch) to a learning rate:
the trainer sets ``optimizer.lr = schedule.lr(t)`` before every update and calls
``schedule.step_epoch(metric)`` after every epoch (only ``plateau`` listens). Units:

constant       ``lr``
steps          ``values[k]`` while ``t < boundaries[k]`` (iterations; Keras'
               PiecewiseConstantDecay); without ``values``: ``lr * gamma**k``
exponential    ``lr * gamma ** (t / step)``; ``step`` defaults to one epoch, so ``gamma``
               is the factor per epoch
power          ``lr / (1 + t / step) ** power``; ``step`` defaults to one epoch
plateau        ``lr`` until the monitored metric has not improved for ``patience``
               epochs, then ``lr *= factor`` (not below ``min_lr``); the trainer feeds it
               the validation loss
onecycle       1cycle as in Géron's "Hands-On ML": linear ``max_lr / div`` -> ``max_lr``
               over the first ~45 %, back down over the next ~45 %, then the last ~10 %
               of iterations fall linearly to ``max_lr / div / final_div``

``make_schedule`` parses the CLI form ``name:key=value,...``; list values are separated
by commas and a key may follow a ``;`` or ``,``: ``"steps:boundaries=1000,2000;values=1e-3,
5e-4,1e-4"``, ``"exponential:gamma=0.95"``, ``"onecycle:max_lr=0.01"``,
``"plateau:factor=0.5,patience=2"``.
"""
from __future__ import annotations

import inspect
import math

import numpy as np


class ScheduleError(ValueError):
    """A schedule spec that cannot be parsed or has invalid values."""


class Schedule:
    """Base: a constant learning rate. Subclasses override :meth:`lr`."""

    name = "constant"

    def __init__(self, lr: float = 0.001) -> None:
        self.base_lr = _positive("lr", lr)

    def lr(self, iteration: int) -> float:
        """Learning rate for iteration ``iteration`` (0-based)."""
        return self.base_lr

    def step_epoch(self, metric: float | None) -> None:
        """Called after each epoch with the monitored metric; only ``plateau`` uses it."""

    def curve(self, n: int) -> np.ndarray:
        """Learning rates of iterations 0 .. n-1, shape (n,) float64 (plateau: as if no
        plateau happened, since it depends on future metrics)."""
        return np.array([self.lr(t) for t in range(int(n))], dtype=np.float64)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""

    def describe(self) -> str:
        return f"{self.name}(lr={self.base_lr:g})"


class Constant(Schedule):
    """The same rate for every iteration."""


class PiecewiseConstant(Schedule):
    """``values[k]`` for ``boundaries[k-1] <= t < boundaries[k]``."""

    name = "steps"

    def __init__(self, lr: float = 0.001, boundaries=(), values=None, gamma: float = 0.1) -> None:
        super().__init__(lr)
        self.boundaries = [int(b) for b in _as_list(boundaries)]
        if self.boundaries != sorted(self.boundaries) or any(b < 0 for b in self.boundaries):
            raise ScheduleError(f"steps: boundaries must be increasing iteration numbers, got {self.boundaries}")
        if values is None:
            values = [self.base_lr * float(gamma) ** k for k in range(len(self.boundaries) + 1)]
        self.values = [_positive("values", v) for v in _as_list(values)]
        if len(self.values) != len(self.boundaries) + 1:
            raise ScheduleError(f"steps: need one more value than boundaries ({len(self.boundaries)} "
                                f"boundaries, {len(self.values)} values)")

    def lr(self, iteration):
        k = int(np.searchsorted(self.boundaries, iteration, side="right"))
        return self.values[k]

    def describe(self):
        return f"steps(boundaries={self.boundaries}, values={self.values})"


class Exponential(Schedule):
    """``lr * gamma ** (t / step)``."""

    name = "exponential"

    def __init__(self, lr: float = 0.001, gamma: float = 0.95, step: float = 1.0) -> None:
        super().__init__(lr)
        self.gamma = _positive("gamma", gamma)
        self.step = _positive("step", step, strict=True)

    def lr(self, iteration):
        return self.base_lr * self.gamma ** (iteration / self.step)

    def describe(self):
        return f"exponential(lr={self.base_lr:g}, gamma={self.gamma:g} per {self.step:g} iterations)"


class Power(Schedule):
    """``lr / (1 + t / step) ** power``."""

    name = "power"

    def __init__(self, lr: float = 0.001, step: float = 1.0, power: float = 1.0) -> None:
        super().__init__(lr)
        self.step = _positive("step", step, strict=True)
        self.power = _positive("power", power)

    def lr(self, iteration):
        return self.base_lr / (1.0 + iteration / self.step) ** self.power

    def describe(self):
        return f"power(lr={self.base_lr:g}, step={self.step:g}, power={self.power:g})"


class ReduceOnPlateau(Schedule):
    """Performance scheduling: multiply the rate by ``factor`` after ``patience`` epochs
    without an improvement larger than ``threshold`` (relative) of the monitored metric."""

    name = "plateau"

    def __init__(self, lr: float = 0.001, factor: float = 0.1, patience: int = 5,
                 min_lr: float = 0.0, threshold: float = 1e-4, mode: str = "min") -> None:
        super().__init__(lr)
        self.factor = _positive("factor", factor, strict=True)
        if self.factor >= 1:
            raise ScheduleError(f"plateau: factor must be < 1, got {factor}")
        self.patience = int(patience)
        self.min_lr = float(min_lr)
        self.threshold = float(threshold)
        if mode not in ("min", "max"):
            raise ScheduleError(f"plateau: mode is min or max, got {mode!r}")
        self.mode = mode
        self.current = self.base_lr
        self.best: float | None = None
        self.bad_epochs = 0

    def lr(self, iteration):
        return self.current

    def step_epoch(self, metric):
        if metric is None or not math.isfinite(metric):
            return
        sign = 1.0 if self.mode == "min" else -1.0
        if self.best is None or sign * metric < sign * self.best - self.threshold * abs(self.best):
            self.best = float(metric)
            self.bad_epochs = 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.current = max(self.current * self.factor, self.min_lr)
            self.bad_epochs = 0

    def curve(self, n):
        return np.full(int(n), self.current, dtype=np.float64)

    def state_dict(self):
        return {"current": self.current, "best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.current = float(state["current"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])

    def describe(self):
        return f"plateau(lr={self.base_lr:g}, factor={self.factor:g}, patience={self.patience})"


class OneCycle(Schedule):
    """1cycle: up from ``max_lr/div`` to ``max_lr``, back down, then a final fall."""

    name = "onecycle"

    def __init__(self, lr: float = 0.001, max_lr: float | None = None, total: int = 1000,
                 div: float = 10.0, final_div: float = 1000.0) -> None:
        self.max_lr = _positive("max_lr", lr if max_lr is None else max_lr, strict=True)
        super().__init__(self.max_lr)
        self.total = int(total)
        if self.total < 3:
            raise ScheduleError(f"onecycle: total iterations must be >= 3, got {total}")
        self.start_lr = self.max_lr / _positive("div", div, strict=True)
        self.last_lr = self.start_lr / _positive("final_div", final_div, strict=True)
        self.last_iterations = self.total // 10 + 1
        self.half = max((self.total - self.last_iterations) // 2, 1)

    def lr(self, iteration):
        t = iteration
        if t < self.half:
            return _interp(t, 0, self.half, self.start_lr, self.max_lr)
        if t < 2 * self.half:
            return _interp(t, self.half, 2 * self.half, self.max_lr, self.start_lr)
        return _interp(min(t, self.total - 1), 2 * self.half, self.total - 1, self.start_lr, self.last_lr)

    def describe(self):
        return f"onecycle(max_lr={self.max_lr:g}, total={self.total})"


def _interp(t, t0, t1, v0, v1) -> float:
    return v0 + (v1 - v0) * (t - t0) / max(t1 - t0, 1)


def _positive(name, value, strict=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ScheduleError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (strict and v == 0):
        raise ScheduleError(f"{name} must be a finite number {'>' if strict else '>='} 0, got {value!r}")
    return v


def _as_list(value) -> list:
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return [value]


SCHEDULES = {cls.name: cls for cls in (Constant, PiecewiseConstant, Exponential, Power,
                                        ReduceOnPlateau, OneCycle)}
_INT_KEYS = {"patience", "total"}


def parse_spec(spec: str) -> tuple[str, dict]:
    """``"steps:boundaries=1000,2000;values=1e-3,5e-4,1e-4"`` -> ``("steps", {...})``.

    Values are floats (ints for ``patience``/``total``) or lists when several are given.
    """
    name, _, rest = str(spec).partition(":")
    name = name.strip().lower()
    options: dict[str, list] = {}
    key = None
    for token in rest.replace(";", ",").split(","):
        token = token.strip()
        if not token:
            continue
        if "=" in token:
            key, _, token = token.partition("=")
            key = key.strip()
            options[key] = []
        elif key is None:
            raise ScheduleError(f"schedule {name!r}: expected key=value, got {token!r}")
        options[key].append(token.strip())
    parsed = {}
    for k, vals in options.items():
        if k == "mode":
            parsed[k] = vals[0]
            continue
        try:
            nums = [int(float(v)) if k in _INT_KEYS else float(v) for v in vals]
        except ValueError:
            raise ScheduleError(f"schedule {name!r}: {k} must be numbers, got {','.join(vals)}") from None
        parsed[k] = nums if len(nums) > 1 or k in ("boundaries", "values") else nums[0]
    return name, parsed


def make_schedule(spec=None, lr: float = 0.001, steps_per_epoch: int = 1,
                  total_iterations: int | None = None) -> Schedule:
    """Build a schedule from ``None`` (constant), a spec string or a dict with ``name``.

    Parameters
    ----------
    spec : str, dict or None
        See the module docs; ``{"name": "exponential", "gamma": 0.9}`` works too.
    lr : float
        Base learning rate (the optimizer's ``--lr``) unless the spec sets ``lr``.
    steps_per_epoch : int
        Iterations per epoch: the default ``step`` of exponential and power.
    total_iterations : int, optional
        The default ``total`` of onecycle (epochs x iterations per epoch).
    """
    if isinstance(spec, Schedule):
        return spec
    if spec is None or spec == "":
        return Constant(lr)
    if isinstance(spec, dict):
        options = dict(spec)
        name = str(options.pop("name", "constant")).lower()
    else:
        name, options = parse_spec(spec)
    if name not in SCHEDULES:
        raise ScheduleError(f"unknown schedule {name!r} (choose from {', '.join(SCHEDULES)})")
    options.setdefault("lr", lr)
    if name in ("exponential", "power"):
        options.setdefault("step", max(int(steps_per_epoch), 1))
    if name == "onecycle":
        options.setdefault("total", total_iterations or 1000)
    cls = SCHEDULES[name]
    valid = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise ScheduleError(f"schedule {name!r} has no option {', '.join(map(str, unknown))} "
                            f"(it has: {', '.join(valid)})")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ScheduleError(f"schedule {name!r}: {exc}") from None
