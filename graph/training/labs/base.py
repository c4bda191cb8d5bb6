"""What every lab shares: settings with book defaults, progress events, pause/stop, a result.

A lab is an iterator of events, like :class:`graph.training.trainer.Trainer`::

    lab = make_lab("race", function="rosenbrock")
    for event in lab:            # LabProgress ..., then one LabDone
        print(event)
    result = lab.result          # LabResult: JSON-able data, tables, summary lines, runs

Labs never compute gradients or updates themselves: networks train through
:class:`~graph.training.trainer.Trainer` (Engine + optimizers), and the 2-D race runs its
function as a graph through the :class:`~graph.run.engine.Engine` with the same
optimizers. ``pause``/``resume``/``request_stop`` may be called from another thread; a
stopped lab still ends with a :class:`LabDone` whose result holds what was finished.
"""
from __future__ import annotations

import csv
import math
import threading
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterator

import numpy as np

from graph.training.events import DoneEvent, EpochEvent, IterationEvent, StoppedEvent, TrainError
from graph.training.runlog import RunRecord


class LabError(TrainError):
    """A lab cannot run with these settings; the message says why."""


def option(default, help: str, choices: tuple = (), low: float | None = None, high: float | None = None,
           label: str = ""):
    """A settings field with what the GUI form and the CLI need: help text, choices, range."""
    meta = {"help": help, "choices": tuple(choices), "low": low, "high": high, "label": label}
    return field(default=default, metadata=meta)


@dataclass
class LabSettings:
    """Base of every lab's settings: plain JSON-friendly fields with book defaults."""

    seed: int = option(0, "seed of weights, batches and random draws", low=0)

    @classmethod
    def from_dict(cls, values: dict) -> "LabSettings":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise LabError(f"unknown setting {', '.join(unknown)} (settings: {', '.join(known)})")
        out = {}
        for name, value in values.items():
            out[name] = coerce(known[name], value)
        return cls(**out)

    @classmethod
    def describe_fields(cls) -> list[dict]:
        """One dict per field: name, type (int | float | str | bool), default, help, choices, range."""
        rows = []
        for f in fields(cls):
            default = f.default if f.default is not MISSING else None
            rows.append({"name": f.name, "type": field_type(f), "default": default, "optional": is_optional(f),
                         **f.metadata})
        return rows

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if value is None:
                continue
            if meta.get("choices") and field_type(f) == "str" and value not in meta["choices"]:
                raise LabError(f"{f.name} must be one of {', '.join(meta['choices'])}, got {value!r}")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise LabError(f"{f.name} must be a finite number, got {value}")
                if meta.get("low") is not None and value < meta["low"]:
                    raise LabError(f"{f.name} must be >= {meta['low']:g}, got {value:g}")
                if meta.get("high") is not None and value > meta["high"]:
                    raise LabError(f"{f.name} must be <= {meta['high']:g}, got {value:g}")

    def to_dict(self) -> dict:
        return asdict(self)


def field_type(f) -> str:
    text = str(f.type)
    for name in ("bool", "int", "float", "str"):
        if name in text:
            return name
    return "str"


def is_optional(f) -> bool:
    return "None" in str(f.type)


def coerce(f, value):
    """``value`` (a string from the CLI or a form, or already typed) as the field's type."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "auto")
                         and is_optional(f)):
        if not is_optional(f):
            raise LabError(f"{f.name} needs a value")
        return None
    kind = field_type(f)
    try:
        if kind == "bool":
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return text in ("1", "true", "yes", "on")
            return bool(value)
        if kind == "int":
            number = float(value)
            if number != int(number):
                raise ValueError(value)
            return int(number)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        raise LabError(f"{f.name} must be {'a whole number' if kind == 'int' else 'a number' if kind == 'float' else 'true or false'}, "
                       f"got {value!r}") from None
    return str(value).strip()


def split_list(text: str) -> list[str]:
    """``"sgd, momentum,adam"`` -> ``["sgd", "momentum", "adam"]``."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


def numbers(text: str, what: str) -> list[float]:
    out = []
    for part in split_list(text):
        try:
            out.append(float(part))
        except ValueError:
            raise LabError(f"{what}: {part!r} is not a number") from None
    return out


@dataclass
class LabProgress:
    """Progress of a lab; ``update`` carries plain numbers for the live plots.

    ``update["kind"]`` says what it is: ``"point"`` (series, x, y), ``"path"`` (series,
    points), ``"hist"`` (row, col, counts, edges), ``"trial"`` (one search trial), ...
    """

    stage: str
    done: int
    total: int
    message: str = ""
    update: dict = field(default_factory=dict)


@dataclass
class LabResult:
    """What a lab produced.

    Attributes
    ----------
    lab : str
        The lab's name.
    settings : dict
        The settings it ran with.
    data : dict
        JSON-able numbers (lists, floats, strings): what ``--json`` prints and plots draw.
    summary : list of str
        Human-readable lines with the key figures (and the book's, to compare).
    tables : dict
        ``{name: {"header": [...], "rows": [[...], ...]}}`` for CSV export.
    runs : list of RunRecord
        Training runs the lab finished (for the session's run list).
    stopped : bool
        The user stopped the lab; ``data`` holds what was finished.
    """

    lab: str
    settings: dict
    data: dict
    summary: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)
    stopped: bool = False
    seconds: float = 0.0

    def write_csv(self, path) -> list:
        """Write the first table to ``path`` and any others next to it as ``<stem>_<name>.csv``."""
        path = Path(path)
        written = []
        for i, (name, table) in enumerate(self.tables.items()):
            target = path if i == 0 else path.with_name(f"{path.stem}_{name}{path.suffix or '.csv'}")
            with open(target, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(table["header"])
                w.writerows(table["rows"])
            written.append(target)
        return written

    def to_json(self) -> dict:
        return {"lab": self.lab, "settings": self.settings, **self.data, "summary": list(self.summary),
                "stopped": self.stopped, "seconds": round(self.seconds, 3)}


@dataclass
class LabDone:
    """Always last."""

    result: LabResult


class Lab:
    """Base class: settings, thread-safe pause/stop, and training through the Trainer.

    Subclasses set ``name``, ``title``, ``about``, ``Settings`` and write :meth:`_run`, a
    generator of :class:`LabProgress` that returns ``(data, summary, tables)``.
    """

    name = "lab"
    title = "Lab"
    about = ""
    Settings = LabSettings

    def __init__(self, settings: LabSettings | dict | None = None, **overrides) -> None:
        base = settings.to_dict() if isinstance(settings, LabSettings) else dict(settings or {})
        self.settings = self.Settings.from_dict({**base, **overrides})
        self.settings.validate()
        self.check()
        self._go = threading.Event()
        self._go.set()
        self._stop = threading.Event()
        self._trainer = None
        self.runs: list[RunRecord] = []
        self.result: LabResult | None = None

    def check(self) -> None:
        """Extra validation of the settings (raise :class:`LabError`)."""

    # -- control from another thread ----------------------------------------------------
    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def request_stop(self) -> None:
        self._stop.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()
        self._go.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def hold(self) -> bool:
        """Wait while paused; ``True`` when the user asked to stop."""
        if not self._go.is_set():
            self._go.wait()
        return self._stop.is_set()

    # -- running ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[LabProgress | LabDone]:
        t0 = time.perf_counter()
        data, summary, tables = yield from self._run()
        self.result = LabResult(self.name, self.settings.to_dict(), data, summary, tables, list(self.runs),
                                self.stop_requested, time.perf_counter() - t0)
        yield LabDone(self.result)

    def run(self, callback=None) -> LabResult:
        """Consume every event (passing each to ``callback``) and return the result."""
        for event in self:
            if callback is not None:
                callback(event)
        return self.result

    def _run(self):
        raise NotImplementedError

    def train(self, trainer, label: str, stage: str, on_epoch=None):
        """Run ``trainer`` as one step of this lab, yielding a progress event per iteration.

        Pause holds between batches; stop stops the trainer (which still finishes its
        result). ``on_epoch(event)`` may return an ``update`` dict (e.g. accuracies it
        evaluated) to send with the epoch's progress. Returns ``(result, RunRecord)``.
        """
        self._trainer = trainer
        if self._stop.is_set():
            trainer.request_stop()
        record = RunRecord(label=label, source=self.name)
        total = trainer.total_iterations
        result = None
        try:
            for ev in trainer:
                if self.hold():
                    trainer.request_stop()
                if isinstance(ev, IterationEvent):
                    record.add_iteration(ev.iteration, ev.loss, ev.lr)
                    yield LabProgress(stage, ev.iteration, total, f"{label}: iteration {ev.iteration}/{total}, "
                                      f"loss {ev.loss:.4f}",
                                      {"kind": "point", "series": label, "x": ev.iteration, "y": ev.loss})
                elif isinstance(ev, EpochEvent):
                    extra = on_epoch(ev) if on_epoch else None
                    record.add_epoch(ev, extra)
                    if extra:
                        yield LabProgress(stage, trainer.iteration, total, f"{label}: epoch {ev.epoch}",
                                          {"kind": "epoch", "series": label, "epoch": ev.epoch, **extra})
                elif isinstance(ev, StoppedEvent):
                    record.note = ev.reason
                elif isinstance(ev, DoneEvent):
                    result = ev.result
        finally:
            self._trainer = None
        record.final = {k: v for k, v in result.items() if isinstance(v, (int, float, str)) or v is None}
        self.runs.append(record)
        return result, record


def smoothed(values, window: int = 100) -> list[float]:
    """Trailing mean over ``window`` points (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return []
    c = np.concatenate([[0.0], np.cumsum(v)])
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(idx - window, 0)
    return ((c[idx] - c[lo]) / (idx - lo)).tolist()


def loss_at(values, iteration: int, window: int = 100) -> float | None:
    """Mean batch loss of the ``window`` iterations ending at ``iteration`` (1-based)."""
    v = np.asarray(values, dtype=np.float64)[: max(int(iteration), 0)]
    if v.size == 0:
        return None
    return float(v[-window:].mean())

