"""Run a :class:`graph.training.trainer.Trainer` in a ``QThread`` and report progress to the GUI.

The trainer is an iterator of events that can be paused and stopped between batches. The
worker consumes it in its own thread and emits Qt signals carrying only plain Python
values and NumPy copies (never an engine array, never the training graph itself):

* iteration points are batched and sent at most ``max_rate`` times a second, so a fast
  run cannot flood the GUI thread's event queue;
* filter mosaics (built here, off the GUI thread) every ``snapshot_every`` iterations,
  again rate-limited;
* per epoch: the metrics, a weight snapshot (for the activation view) and histograms of
  weights, activations and gradients (taken at the epoch's last training batch, while
  the engine still holds that batch's values and gradients).

Stopping keeps the best weights: the trainer restores its best checkpoint itself at the
end of a full run and after early stopping; when the user stops mid-run the worker puts
back the weights of the best epoch so far before the final evaluation. Exceptions become
one readable message on :attr:`TrainingWorker.failed`.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from PySide6 import QtCore

from graph.model.errors import GraphError
from graph.training.trainer import DoneEvent, EpochEvent, IterationEvent, StoppedEvent, Trainer, TrainConfig, TrainError

from .filters import filter_mosaic

log = logging.getLogger(__name__)
HIST_BINS = 40
EXPECTED_ERRORS = (TrainError, GraphError, ValueError, MemoryError, OSError)


@dataclass
class RunConfig:
    """One run as the dock asks for it.

    Attributes
    ----------
    train : dict
        :class:`graph.training.trainer.TrainConfig` fields (epochs, batch_size, optimizer, lr...).
    fresh : bool
        Re-initialise every weight from the seed (Start); ``False`` continues from the
        graph's current weights (Continue training).
    dropout : float or None
        Override the ratio of every Dropout node for this run.
    max_iterations : int or None
        Stop (as the user would) after this many iterations: short demo and test runs.
    snapshot_every : int
        Iterations between filter snapshots.
    max_rate : float
        Most progress signals per second.
    histograms : bool
        Record per-layer histograms at each epoch.
    """

    train: dict = field(default_factory=dict)
    fresh: bool = True
    dropout: float | None = None
    max_iterations: int | None = None
    snapshot_every: int = 10
    max_rate: float = 20.0
    histograms: bool = True


def prepare_graph(graph, run: RunConfig):
    """The graph the run trains: a copy, optionally fresh, with the dropout override."""
    g = graph.copy()
    if run.fresh:
        for nid in g.nodes():
            g.node(nid).weights.clear()
    if run.dropout is not None:
        for nid in g.nodes():
            if g.node(nid).type == "Dropout":
                g.set_params(nid, ratio=float(run.dropout))
    return g


def histogram(values) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of the finite entries (HIST_BINS bins)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.zeros(HIST_BINS, np.int64), np.linspace(-1, 1, HIST_BINS + 1)
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.histogram(v, bins=HIST_BINS, range=(lo, hi))


def friendly_error(exc: BaseException) -> str:
    """A one-paragraph message for the user (the traceback goes to the log only)."""
    if isinstance(exc, MemoryError):
        return "Training ran out of memory: try a smaller batch size."
    if isinstance(exc, EXPECTED_ERRORS):
        return f"Training cannot run: {exc}"
    return f"Training failed unexpectedly ({type(exc).__name__}: {exc}). Details are in the log."


class TrainingWorker(QtCore.QObject):
    """Consumes the trainer in the worker thread (see module docs)."""

    started = QtCore.Signal(object)          # run facts and the "before" filter mosaics
    progress = QtCore.Signal(object)         # batched iteration points and the latest counters
    epoch_done = QtCore.Signal(object)       # EpochEvent fields
    filters = QtCore.Signal(object, object, str)  # {conv: mosaic}, {conv: change mosaic}, "iteration N"
    weights = QtCore.Signal(object)          # {node: {name: array}} snapshot
    histograms = QtCore.Signal(str, object)  # "epoch 3", {(kind, layer): (counts, edges)}
    stopped = QtCore.Signal(str, str)        # reason, kind
    finished = QtCore.Signal(object, object)  # result, final weights {node: {name: array}}
    failed = QtCore.Signal(str)
    held = QtCore.Signal(int)                # paused: holding after this iteration, no batch in flight

    def __init__(self, graph, data, run: RunConfig) -> None:
        super().__init__()
        self.graph = graph            # a private copy, owned by the worker thread from now on
        self.data = data              # read-only DataSplits shared with the GUI
        self.run_config = run
        self.trainer: Trainer | None = None
        self._stop_requested = False
        self._pause_requested = False
        self._go = threading.Event()  # cleared while paused; the worker waits on it between batches
        self._go.set()
        self._pending: list[tuple[int, float, float]] = []
        self._last_emit = 0.0
        self._last_filters = 0.0
        self._best: tuple[int, dict] | None = None

    # -- control (called from the GUI thread; the flags are thread-safe) -----------------
    # Pausing holds the worker itself between two trainer events (so between batches),
    # not the trainer: the worker then knows it holds and says so with ``held``, after
    # the progress of the last batch (queued signals arrive in order).
    def pause(self) -> None:
        self._pause_requested = True
        self._go.clear()

    def resume(self) -> None:
        self._pause_requested = False
        self._go.set()

    def request_stop(self) -> None:
        self._stop_requested = True
        if self.trainer is not None:
            self.trainer.request_stop()
        self._go.set()  # a paused run wakes up to stop

    def _hold_if_paused(self) -> None:
        if self._go.is_set() or self._stop_requested:
            return
        self._flush()
        latest = getattr(self, "_latest", None)
        self.held.emit(latest.iteration if latest is not None else 0)
        self._go.wait()

    # -- the run ---------------------------------------------------------------------
    @QtCore.Slot()
    def run(self) -> None:
        _lower_thread_priority()
        try:
            self._run()
        except EXPECTED_ERRORS as exc:
            log.info("training could not run: %s", exc)
            self.failed.emit(friendly_error(exc))
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user as a message
            log.exception("training failed")
            self.failed.emit(friendly_error(exc))

    def _run(self) -> None:
        run = self.run_config
        cfg = TrainConfig.from_dict(run.train)
        trainer = Trainer(self.graph, self.data, cfg)
        self.trainer = trainer
        if self._stop_requested:
            trainer.request_stop()
        eng = trainer.engine
        self.convs = [n for n in self.graph.nodes() if self.graph.node(n).type == "Conv2D"]
        self._w0 = {nid: eng.param(nid, "W") for nid in self.convs}
        self.started.emit({
            "iterations_per_epoch": trainer.steps_per_epoch, "epochs": cfg.epochs,
            "total_iterations": cfg.epochs * trainer.steps_per_epoch, "backend_note": eng.backend_note,
            "before": self._mosaics(), "train_samples": trainer.n_train,
            "conv_shapes": {nid: tuple(w.shape) for nid, w in self._w0.items()},
        })
        self.weights.emit(self._weights_copy())  # the initial weights, for the activation view
        if run.histograms:
            self.histograms.emit("before training", self._weight_histograms())
        events = iter(trainer)
        while True:
            self._hold_if_paused()
            ev = next(events, None)
            if ev is None:
                break
            if isinstance(ev, IterationEvent):
                self._on_iteration(ev)
            elif isinstance(ev, EpochEvent):
                self._flush()
                self.epoch_done.emit(asdict(ev))
                if ev.improved:
                    self._best = (ev.epoch, self._weights_copy())
                self._emit_filters(f"after epoch {ev.epoch}")
                self.weights.emit(self._weights_copy())
            elif isinstance(ev, StoppedEvent):
                self._flush()
                latest = getattr(self, "_latest", None)
                if run.histograms and latest is not None and latest.batch != latest.batches_per_epoch:
                    self.histograms.emit(f"at stop (iteration {latest.iteration})", self._all_histograms())
                reason = ev.reason
                if ev.kind == "user" and self._best is not None and cfg.restore_best:
                    epoch, best = self._best
                    for nid, tensors in best.items():
                        for name, arr in tensors.items():
                            eng.set_param(nid, name, arr)
                    reason += f"; kept the best weights (epoch {epoch})"
                self.stopped.emit(reason, ev.kind)
            elif isinstance(ev, DoneEvent):
                self._flush()
                final = self._weights_copy()
                self._emit_filters("after training")
                self.finished.emit(_plain(ev.result), final)

    def _on_iteration(self, ev: IterationEvent) -> None:
        run = self.run_config
        self._pending.append((ev.iteration, float(ev.loss), float(ev.lr)))
        self._latest = ev
        now = time.perf_counter()
        last_of_epoch = ev.batch == ev.batches_per_epoch
        if run.max_iterations is not None and ev.iteration >= run.max_iterations:
            self.request_stop()
        if now - self._last_emit >= 1.0 / run.max_rate or self._pause_requested or self._stop_requested:
            self._flush()
        if (ev.iteration % max(run.snapshot_every, 1) == 0 and now - self._last_filters >= 0.25) \
                or self._pause_requested:
            self._last_filters = now
            self._emit_filters(f"at iteration {ev.iteration}")
        if run.histograms and last_of_epoch:
            self.histograms.emit(f"epoch {ev.epoch}", self._all_histograms())

    def _flush(self) -> None:
        if not self._pending:
            return
        it, loss, lr = (np.array(c) for c in zip(*self._pending))
        ev = self._latest
        self._pending = []
        self._last_emit = time.perf_counter()
        self.progress.emit({
            "iterations": it, "losses": loss, "lrs": lr, "epoch": ev.epoch, "iteration": ev.iteration,
            "batch": ev.batch, "batches_per_epoch": ev.batches_per_epoch,
            "total_iterations": ev.total_iterations, "samples_per_s": float(ev.samples_per_s),
            "eta_s": float(ev.eta_s), "loss": float(ev.loss), "lr": float(ev.lr),
        })

    # -- snapshots (host copies made in this thread) -------------------------------------
    def _mosaics(self) -> dict:
        eng = self.trainer.engine
        return {nid: filter_mosaic(eng.param(nid, "W")) for nid in self.convs}

    def _emit_filters(self, when: str) -> None:
        eng = self.trainer.engine
        now = {nid: eng.param(nid, "W") for nid in self.convs}
        self.filters.emit({nid: filter_mosaic(w) for nid, w in now.items()},
                          {nid: filter_mosaic(w - self._w0[nid]) for nid, w in now.items()}, when)

    def _weights_copy(self) -> dict:
        """Learnable tensors and buffers (BatchNorm running statistics) as float64 copies."""
        self.trainer.engine.sync_to_graph()
        g = self.graph
        return {nid: {name: np.array(arr, copy=True) for name, arr in g.node(nid).weights.items()}
                for nid in g.nodes() if g.node(nid).weights}

    def _weight_histograms(self) -> dict:
        eng = self.trainer.engine
        return {("weights", f"{nid}.{name}"): histogram(eng.param(nid, name)) for nid, name in eng.learnables()}

    def _all_histograms(self) -> dict:
        eng = self.trainer.engine
        hists = self._weight_histograms()
        for (nid, name), g in eng.grads_ref().items():
            hists[("gradients", f"{nid}.{name}")] = histogram(_to_host(g))
        g = self.graph
        for nid in g.topo_order():
            node = g.node(nid)
            if node.type in ("Input", "Constant") or node.op.category == "losses":
                continue
            try:
                hists[("activations", nid)] = histogram(eng.value(nid))
            except GraphError:
                continue
        return hists


def _lower_thread_priority(nice: int = 5) -> None:
    """Give this thread a higher nice value (Linux): the GUI thread then wins the CPU when
    both want it, which keeps the window responsive on a machine with few cores."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + nice, 19))
    except OSError:
        pass  # not permitted here: run at normal priority


def _to_host(x) -> np.ndarray:
    return np.asarray(x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else x)


def _plain(obj):
    """A deep copy of the result dict with NumPy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


class TrainingRun(QtCore.QObject):
    """Owns the thread and the worker of one run; lives in the GUI thread.

    Connect to :attr:`worker`'s signals after construction, then call :meth:`start`.
    ``ended`` fires once when the thread has finished, whatever the outcome.
    """

    ended = QtCore.Signal()

    def __init__(self, graph, data, run: RunConfig, parent=None) -> None:
        super().__init__(parent)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("training")
        self.worker = TrainingWorker(prepare_graph(graph, run), data, run)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)
        self.worker.failed.connect(self.thread.quit)
        self.thread.finished.connect(self._thread_done)
        self.paused = False
        self.running = False
        self.holding = False          # the worker confirmed it holds (see TrainingWorker.held)
        self.worker.held.connect(self._held)

    def _held(self, _iteration: int) -> None:
        self.holding = self.paused

    def start(self) -> None:
        self.running = True
        self.thread.start()

    def pause(self) -> None:
        self.paused = True
        self.worker.pause()

    def resume(self) -> None:
        self.paused = self.holding = False
        self.worker.resume()

    def stop(self) -> None:
        self.paused = self.holding = False
        self.worker.request_stop()

    def wait(self, ms: int = 30000) -> bool:
        """Stop and block until the thread has ended (application shutdown)."""
        if not self.running:
            return True
        self.stop()
        return self.thread.wait(ms)

    def _thread_done(self) -> None:
        self.running = False
        self.ended.emit()
