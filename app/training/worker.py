"""Run a training session in a ``QThread`` and relay what it reports as Qt signals.

All decisions live in :class:`graph.training.session.TrainingSession` (Qt-free, tested
headless): coalescing iteration points by time, pacing the view snapshots, the one pause,
stop, keeping the best weights on a user's Stop, saying when the weights are final. The
worker is its listener: it builds the trainer in the worker thread, runs the session
there, and turns each listener call into a signal carrying only plain Python values and
NumPy copies (never an engine array, never the training graph itself). Snapshots that
need the engine (filter mosaics, weight copies, histograms) are made here, in the worker
thread, so the GUI thread only draws. Signals are queued: the worker never waits for the
GUI. Exceptions become one readable message on :attr:`TrainingWorker.failed`.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtCore

from graph.model.errors import GraphError
from graph.training.session import SessionOptions, TrainingSession
from graph.training.trainer import Trainer, TrainConfig, TrainError
from layers.base import to_host

from .. import gc_guard
from .filters import filter_mosaic

log = logging.getLogger(__name__)
HIST_BINS = 40
HIST_SAMPLE = 1 << 16   # entries a histogram looks at (see histogram)
HIST_ROWS = 16          # samples of the batch whose fused conv / ReLU outputs are worked out for one
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
    views_interval : float
        Seconds between view snapshots (filters, weights, histograms).
    histograms : bool
        Record per-layer histograms at epoch ends.
    """

    train: dict = field(default_factory=dict)
    fresh: bool = True
    dropout: float | None = None
    max_iterations: int | None = None
    snapshot_every: int = 10
    max_rate: float = 5.0
    views_interval: float = 0.5
    histograms: bool = True

    TRAIN_FIELDS = ("batch_size", "epochs", "optimizer", "lr", "optimizer_options", "weight_decay", "schedule",
                    "early_stopping", "seed", "backend", "dtype", "scaling", "shuffle", "restore_best",
                    "train_size", "clip_norm", "monitor")

    @classmethod
    def from_form(cls, values: dict, fresh: bool, max_iterations: int | None, overrides: dict) -> "RunConfig":
        """The run the settings form's ``values`` ask for; ``overrides`` replace TrainConfig fields."""
        train = {k: values[k] for k in cls.TRAIN_FIELDS}
        train["augment"] = {k: x for k, x in values["augment"].items() if x} or None
        train.update(overrides)
        return cls(train=train, fresh=fresh, dropout=values["dropout"], max_iterations=max_iterations)

    def extent(self, n_train: int) -> tuple[int, int]:
        """``(iterations, epochs)`` of the whole run on ``n_train`` training samples, as the
        trainer will count them (known before the trainer is built)."""
        t = self.train
        n = min(t.get("train_size") or n_train, n_train)
        return t["epochs"] * math.ceil(n / t["batch_size"]), t["epochs"]

    def session_options(self) -> SessionOptions:
        return SessionOptions(max_iterations=self.max_iterations, progress_interval=1.0 / max(self.max_rate, 0.1),
                              views_interval=self.views_interval, snapshot_every=self.snapshot_every,
                              histograms=self.histograms)


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
    """``(counts, edges)`` of the finite entries over HIST_BINS bins; of a big tensor, of a
    random sample of HIST_SAMPLE entries (fixed seed; a strided one would follow the
    tensor's layout, e.g. every other class column of a weight).

    The view shows percentages, which the sample keeps; a full pass over one batch's
    activations (1.7 million values in simple_convnet's conv layer, copied to float64)
    cost the training thread 70 ms an epoch, 8 % of a GUI run. The sample is binned in
    float64: float32 edges fail on a range of a few float32 steps (a BatchNorm gamma
    of {1.0, 1.0000001}).
    """
    v = np.asarray(values).reshape(-1)
    if v.size > HIST_SAMPLE:
        v = v[np.random.default_rng(v.size).integers(0, v.size, HIST_SAMPLE)]
    v = v.astype(np.float64)
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
    """The session's listener in the worker thread (see module docs)."""

    started = QtCore.Signal(object)          # run facts and the "before" filter mosaics
    progress = QtCore.Signal(object)         # batched iteration points and the latest counters
    phase = QtCore.Signal(object)            # PhaseEvent fields: validation, evaluation, float16...
    epochs_done = QtCore.Signal(object)      # [EpochEvent fields], the epochs since the last one
    filters = QtCore.Signal(object, object, str)  # {conv: mosaic}, {conv: change mosaic}, "iteration N"
    weights = QtCore.Signal(object)          # {node: {name: array}} snapshot
    histograms = QtCore.Signal(str, object)  # "epoch 3", {(kind, layer): (counts, edges)}
    stopped = QtCore.Signal(str, str)        # reason, kind
    weights_ready = QtCore.Signal(object, object)  # final weights and {epochs, iterations}, before evaluating
    finished = QtCore.Signal(object, object)  # result, final weights {node: {name: array}}
    failed = QtCore.Signal(str)
    held = QtCore.Signal(int)                # paused: holding after this iteration, no batch in flight

    def __init__(self, graph, data, run: RunConfig) -> None:
        super().__init__()
        self.graph = graph            # a private copy, owned by the worker thread from now on
        self.data = data              # read-only DataSplits shared with the GUI
        self.run_config = run
        self.session = TrainingSession(self, run.session_options())
        self.trainer: Trainer | None = None
        self._final: dict | None = None

    # -- control (called from the GUI thread; the session's controls are thread-safe) ------
    def pause(self) -> None:
        self.session.pause()

    def resume(self) -> None:
        self.session.resume()

    def request_stop(self) -> None:
        self.session.request_stop()

    # -- the run ---------------------------------------------------------------------
    @QtCore.Slot()
    def run(self) -> None:
        # The worker keeps the process's priority. A lowered one (nice +5) used to keep the
        # window responsive while the GUI thread did real work per batch; now it draws a
        # few times a second, and on a busy machine a descheduled low-priority worker only
        # held the GIL longer (the GUI thread waiting on it) and trained slower than the CLI.
        try:
            # the trainer detects and reports NaN/Inf itself; NumPy's RuntimeWarnings from this
            # thread would only reach stderr (errstate is per thread, so the GUI's is untouched)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
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
        eng = trainer.engine
        self.convs = [n for n in self.graph.nodes() if self.graph.node(n).type == "Conv2D"]
        self._w0 = {nid: eng.param(nid, "W") for nid in self.convs}
        self.started.emit({
            "iterations_per_epoch": trainer.steps_per_epoch, "epochs": cfg.epochs,
            "total_iterations": cfg.epochs * trainer.steps_per_epoch, "backend_note": trainer.backend_note,
            "before": {nid: filter_mosaic(w) for nid, w in self._w0.items()}, "train_samples": trainer.n_train,
            "conv_shapes": {nid: tuple(w.shape) for nid, w in self._w0.items()},
        })
        self.weights.emit(self._weights_copy())  # the initial weights, for the activation view
        if run.histograms:
            self.histograms.emit("before training", self._weight_histograms())
        self.session.run(trainer)

    # -- the session's listener (worker thread) ------------------------------------------
    def on_progress(self, report: dict) -> None:
        self.progress.emit(report)

    def on_phase(self, report: dict) -> None:
        self.phase.emit(report)

    def on_epochs(self, rows: list[dict]) -> None:
        self.epochs_done.emit(rows)

    def on_weights(self) -> None:
        self.weights.emit(self._weights_copy())

    def on_histograms(self, label: str) -> None:
        self.histograms.emit(label, self._all_histograms())

    def on_held(self, iteration: int) -> None:
        self.held.emit(iteration)

    def on_stopped(self, reason: str, kind: str) -> None:
        self.stopped.emit(reason, kind)

    def on_weights_final(self) -> None:
        self._final = self._weights_copy()
        t = self.trainer
        self.weights_ready.emit(self._final, {"epochs": t.epoch, "iterations": t.iteration, "dataset": self.data.name})

    def on_done(self, result: dict) -> None:
        final = self._final if self._final is not None else self._weights_copy()
        self.finished.emit(_plain(result), final)

    def on_filters(self, when: str) -> None:
        eng = self.trainer.engine
        now = {nid: eng.param(nid, "W") for nid in self.convs}
        self.filters.emit({nid: filter_mosaic(w) for nid, w in now.items()},
                          {nid: filter_mosaic(w - self._w0[nid]) for nid, w in now.items()}, when)

    # -- snapshots (host copies made in this thread) -------------------------------------
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
            hists[("gradients", f"{nid}.{name}")] = histogram(to_host(g))
        g = self.graph
        for nid in g.topo_order():
            node = g.node(nid)
            if node.type in ("Input", "Constant") or node.op.category == "losses":
                continue
            try:
                hists[("activations", nid)] = histogram(eng.value_sample(nid, HIST_ROWS))
            except GraphError:
                continue
        return hists


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
        if self.running:
            return   # once per run: the worker guard counts starts and ends
        self.running = True
        gc_guard.worker_started()
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
        gc_guard.worker_ended()
        self.ended.emit()
