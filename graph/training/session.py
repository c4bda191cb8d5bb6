"""A training run as an interactive front end drives it: pause, stop, coalesced progress.

:class:`TrainingSession` consumes a :class:`graph.training.trainer.Trainer` (in whatever
thread calls :meth:`TrainingSession.run`; the session can be made, paused and stopped
before the trainer exists) and tells a *listener* what happened, in plain
Python values. It decides everything that is not drawing, so the GUI's worker
(:mod:`app.training.worker`) only turns listener calls into Qt signals:

* **coalescing**: iteration points are collected and handed over together at most once
  per ``progress_interval`` seconds (and before a pause, a stop or the end), so a run of
  tiny batches cannot flood the receiving thread; epoch rows likewise (a toy set's
  epochs take milliseconds: one report per epoch cost the GUI thread more than the
  training), always with the iteration points up to them, and the last epoch's row at
  once; per-epoch phases (validation, checkpoint) at most once per interval;
* **views by time**: the listener is asked for filter, weight and histogram snapshots at
  most once per ``views_interval`` seconds (the last epoch always gets its own), so short
  epochs of a toy set do not turn into dozens of redraws a second;
* **pause** (the only pause there is): the session stops asking the trainer for events,
  so no batch is in flight, says so with ``held``, waits, and tells the trainer how long
  it held (:meth:`Trainer.add_pause`): epoch times, throughput and the ETA leave it out;
* **stop**: the trainer ends the epoch early and still evaluates; on a user's stop the
  session first puts back the best epoch's weights (*keep best on stop*);
* **weights final**: the listener hears ``on_weights_final`` as soon as nothing changes the
  weights any more, before the final evaluation, so an editor can unlock then.

The listener is any object with the methods of :class:`Listener`; calls come from the
thread that runs the session, in this order per run: ``on_progress`` / ``on_phase`` /
``on_epochs`` / ``on_filters`` / ``on_weights`` / ``on_histograms`` / ``on_held`` as they
come, ``on_stopped`` (if it stopped early), ``on_weights_final``, ``on_done``.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from graph.training.events import DoneEvent, EpochEvent, IterationEvent, PhaseEvent, StoppedEvent

PER_EPOCH_PHASES = ("validation", "checkpoint")


class Listener(Protocol):
    """What a session reports (all arguments are plain Python values or NumPy copies)."""

    def on_progress(self, report: dict) -> None:
        """Iteration points since the last report: ``iterations``, ``losses``, ``lrs``
        (arrays) and the latest counters (``epoch``, ``iteration``, ``batch``,
        ``batches_per_epoch``, ``total_iterations``, ``samples_per_s``, ``eta_s``,
        ``loss``, ``lr``)."""

    def on_phase(self, report: dict) -> None:
        """A :class:`graph.training.events.PhaseEvent` as a dict."""

    def on_epochs(self, rows: list[dict]) -> None:
        """Epochs that ended since the last call, oldest first: each a
        :class:`graph.training.events.EpochEvent` as a dict."""

    def on_filters(self, when: str) -> None:
        """Take a snapshot of the weights for the filter view (``when`` labels it)."""

    def on_weights(self) -> None:
        """Take a snapshot of every weight (the activation view's)."""

    def on_histograms(self, label: str) -> None:
        """Take histograms of weights, activations and gradients of the last batch."""

    def on_held(self, iteration: int) -> None:
        """Paused after ``iteration``; no batch is running."""

    def on_stopped(self, reason: str, kind: str) -> None:
        """The run ended early: ``kind`` is ``user``, ``nonfinite`` or ``early_stopping``."""

    def on_weights_final(self) -> None:
        """The weights will not change any more (the final evaluation follows)."""

    def on_done(self, result: dict) -> None:
        """The final result (see :attr:`Trainer.result`)."""


@dataclass
class SessionOptions:
    """Pacing of a session.

    Attributes
    ----------
    max_iterations : int or None
        Stop (as the user would) after this many iterations: short demo and test runs.
    progress_interval : float
        Seconds between progress reports (0.1: at most 10 a second).
    views_interval : float
        Seconds between view snapshots (filters, weights, histograms).
    snapshot_every : int
        Iterations between mid-epoch filter snapshots (when ``views_interval`` allows).
    histograms : bool
        Ask for histograms at all.
    """

    max_iterations: int | None = None
    progress_interval: float = 0.1
    views_interval: float = 0.5
    snapshot_every: int = 10
    histograms: bool = True


class TrainingSession:
    """Runs a trainer for ``listener`` (see the module docs); control methods may be
    called from any thread, also before :meth:`run`."""

    def __init__(self, listener: Listener, options: SessionOptions | None = None, clock=time.perf_counter) -> None:
        self.trainer = None
        self.listener = listener
        self.options = options or SessionOptions()
        self.clock = clock
        self._go = threading.Event()
        self._go.set()
        self._stop = False
        self._pending: list[tuple[int, float, float]] = []
        self._epoch_rows: list[dict] = []
        self._latest: IterationEvent | None = None
        self._last_progress = self._last_phase = -float("inf")
        self._last_filters = self._last_weights = self._last_hist = -float("inf")
        self.paused_s = 0.0
        self.kept_best_epoch: int | None = None

    # -- control -----------------------------------------------------------------------
    def pause(self) -> None:
        """Hold before the next batch until :meth:`resume` (or :meth:`request_stop`)."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def request_stop(self) -> None:
        """Stop after the batch in flight; a paused run wakes up to stop."""
        self._stop = True
        trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()
        self._go.set()

    # -- the run -------------------------------------------------------------------------
    def run(self, trainer) -> dict | None:
        """Consume ``trainer``'s events and report them; returns the final result."""
        self.trainer = trainer
        if self._stop:  # asked before the trainer existed
            trainer.request_stop()
        try:
            return self._consume(iter(trainer))
        except BaseException:
            # what was held back for coalescing still reaches the listener (the log and the
            # curves show the epochs before the failure); never instead of the failure
            with contextlib.suppress(Exception):
                self._flush()
            raise

    def _consume(self, events) -> dict | None:
        result = None
        while True:
            self._hold_if_paused()
            ev = next(events, None)
            if ev is None:
                return result
            if isinstance(ev, IterationEvent):
                self._on_iteration(ev)
            elif isinstance(ev, PhaseEvent):
                self._on_phase(ev)
            elif isinstance(ev, EpochEvent):
                self._on_epoch(ev)
            elif isinstance(ev, StoppedEvent):
                self._on_stopped(ev)
            elif isinstance(ev, DoneEvent):
                self._flush()
                result = ev.result
                self.listener.on_filters("after training")
                self.listener.on_done(result)

    def _hold_if_paused(self) -> None:
        if self._go.is_set() or self._stop:
            return
        self._flush()
        self.listener.on_filters(f"at iteration {self.trainer.iteration}")
        self.listener.on_held(self.trainer.iteration)
        t0 = self.clock()
        self._go.wait()
        held = self.clock() - t0
        self.paused_s += held
        self.trainer.add_pause(held)

    def _on_iteration(self, ev: IterationEvent) -> None:
        opts = self.options
        self._pending.append((ev.iteration, float(ev.loss), float(ev.lr)))
        self._latest = ev
        if opts.max_iterations is not None and ev.iteration >= opts.max_iterations:
            self.request_stop()
        now = self.clock()
        if now - self._last_progress >= opts.progress_interval or self.paused or self._stop:
            self._flush(now)
        if ev.iteration % max(opts.snapshot_every, 1) == 0 and now - self._last_filters >= opts.views_interval:
            self._last_filters = now
            self.listener.on_filters(f"at iteration {ev.iteration}")
        if opts.histograms and ev.batch == ev.batches_per_epoch and self._due(now, self._last_hist, ev.epoch):
            # the engine still holds this batch's activations and gradients (validation
            # runs next and replaces them)
            self._last_hist = now
            self.listener.on_histograms(f"epoch {ev.epoch}")

    def _due(self, now: float, last: float, epoch: int) -> bool:
        """An epoch-end snapshot is due: none for ``views_interval``, or the last epoch."""
        return now - last >= self.options.views_interval or epoch >= self.trainer.config.epochs

    def _on_epoch(self, ev: EpochEvent) -> None:
        self._epoch_rows.append(asdict(ev))
        now = self.clock()
        last = ev.epoch >= self.trainer.config.epochs
        if now - self._last_progress >= self.options.progress_interval or last or self.paused or self._stop:
            self._flush(now)
        self._epoch_views(ev)

    def _epoch_views(self, ev: EpochEvent) -> None:
        now = self.clock()
        if self._due(now, self._last_weights, ev.epoch):
            self._last_weights = self._last_filters = now
            self.listener.on_filters(f"after epoch {ev.epoch}")
            self.listener.on_weights()

    def _on_phase(self, ev: PhaseEvent) -> None:
        if ev.weights_final:
            self._flush()
            self.listener.on_weights_final()
        now = self.clock()
        # validation and checkpoint come with every epoch: by time only, like the rows
        ends = ev.phase not in PER_EPOCH_PHASES and (ev.done == 0 or ev.done == ev.total)
        if ends or now - self._last_phase >= self.options.progress_interval:
            self._last_phase = now
            self.listener.on_phase(asdict(ev))

    def _on_stopped(self, ev: StoppedEvent) -> None:
        self._flush()
        last = self._latest
        if self.options.histograms and last is not None and last.batch != last.batches_per_epoch:
            self.listener.on_histograms(f"at stop (iteration {last.iteration})")
        reason = ev.reason
        if ev.kind == "user" and self.trainer.config.restore_best:
            self.kept_best_epoch = self.trainer.restore_best()
            if self.kept_best_epoch is not None:
                reason += f"; kept the best weights (epoch {self.kept_best_epoch})"
        self.listener.on_stopped(reason, ev.kind)

    def _flush(self, now: float | None = None) -> None:
        """Hand over the pending iteration points, then the pending epoch rows."""
        if not (self._pending or self._epoch_rows):
            return
        self._last_progress = self.clock() if now is None else now
        if self._pending:
            self._flush_points()
        if self._epoch_rows:
            rows, self._epoch_rows = self._epoch_rows, []
            self.listener.on_epochs(rows)

    def _flush_points(self) -> None:
        it, loss, lr = (np.array(c) for c in zip(*self._pending))
        ev = self._latest
        self._pending = []
        self.listener.on_progress({
            "iterations": it, "losses": loss, "lrs": lr, "epoch": ev.epoch, "iteration": ev.iteration,
            "batch": ev.batch, "batches_per_epoch": ev.batches_per_epoch,
            "total_iterations": ev.total_iterations, "samples_per_s": float(ev.samples_per_s),
            "eta_s": float(ev.eta_s), "loss": float(ev.loss), "lr": float(ev.lr),
        })
