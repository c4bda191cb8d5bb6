""":class:`TrainingPanel` wires the Training dock (:mod:`app.training.dock_widget`: settings,
Start / Continue / Pause / Resume / Stop, progress) to the Training views dock
(:mod:`app.training.views_dock`: curves, filters, activations, results).

A run trains a private copy of the document's graph in a worker thread
(:mod:`app.training.worker`). While it trains, editing is locked with a visible reason.
As soon as the weights are final (before the final evaluation, which the progress bar
then shows with the float16 check and the run-folder writing), the trained weights go
back into the document as one undoable step ("Apply trained weights") and editing is
unlocked; that step marks the document modified, so Save writes them with the graph, and
"Continue training" starts the next run from them. The curves are redrawn by a timer (once
a second), never per progress signal.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from graph import Graph
from graph.run import memory
from graph.training.events import TrainConfig, TrainError, fmt_duration

from ..document import GraphDocument
from ..message_log import MessageLog
from .dock_widget import LOCK_REASON, NO_RUN_STATUS, TrainingDock
from .outcome import default_dataset, divergence, has_weights, input_image_shape, weights_fingerprint
from .persist import SettingsKeeper, forget_run
from .results import float16_text
from .settings import OPEN_CUSTOM
from .views_dock import TrainingViewsDock
from .worker import RunConfig, TrainingRun

class TrainingPanel(QtCore.QObject):
    """Connects the docks, the document, the edit lock and a :class:`TrainingRun`."""

    run_started = QtCore.Signal()
    run_ended = QtCore.Signal(str)     # "done", "stopped" or "failed"
    lock_changed = QtCore.Signal(bool)
    buttons_changed = QtCore.Signal()
    progressed = QtCore.Signal(object)   # the worker's progress dict, re-emitted on the GUI thread
    epoch_finished = QtCore.Signal(object)

    def __init__(self, document: GraphDocument, log: MessageLog, dock: TrainingDock, views: TrainingViewsDock,
                 lock: Callable[[bool, str], None] | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.log = log
        self.dock, self.views = dock, views
        self.settings = dock.settings
        self.lock = lock
        self.actions: dict[str, QtGui.QAction] = {}  # the Train menu's, by name ("train", "stop", ...)
        self.run: TrainingRun | None = None
        self.last_result: dict | None = None
        self._kept_run: tuple | None = None   # (weights fingerprint, curves) of the last run
        self.outcome = ""
        self._started_info: dict = {}
        self._extent = (0, 0)              # (iterations, epochs) the curves were sized for
        self._starting = False             # start() is painting the locked window
        self._stopping = False
        self._weights_applied = False
        self._bar_shown = 0.0
        self._views_stale = True
        self._losses: list[float] = []
        self._epochs: list[dict] = []
        self._nonfinite = False
        views.visibilityChanged.connect(lambda visible: visible and self.refresh_views())
        self._redraw = QtCore.QTimer(self)
        # Once a second: a redraw and the two paints it causes take ~20 ms of the GUI thread,
        # holding the GIL the training threads need; twice a second cost a simple_convnet
        # run 2 % (TensorBoard refreshes every 30 s)
        self._redraw.setInterval(1000)
        self._redraw.timeout.connect(lambda: self.views.built and self.views.curves.redraw_if_dirty())
        d = dock
        d.start_button.clicked.connect(lambda: self.start(fresh=True))
        d.continue_button.clicked.connect(lambda: self.start(fresh=False))
        d.pause_button.clicked.connect(self.pause)
        d.resume_button.clicked.connect(self.resume)
        d.stop_button.clicked.connect(self.stop)
        self.settings.dataset_changed.connect(self._dataset_changed)
        self.settings.message.connect(self._log)
        document.graph_reset.connect(self.graph_changed)
        document.graph_reset.connect(self.forget_run)
        self.keeper = SettingsKeeper(self.settings, document, self)
        document.shapes_changed.connect(self.graph_changed)
        self._update_buttons()

    # -- helpers -----------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.document.graph

    @property
    def running(self) -> bool:
        return self._starting or (self.run is not None and self.run.running)

    def _log(self, text: str, level: str = "info") -> None:
        self.log.message(text, level)

    def _status(self, text: str) -> None:
        self.dock.status.setText(text)

    def ensure_dataset(self) -> bool:
        if self.settings.splits is None:
            combo = self.settings.dataset
            spec = combo.currentData() or combo.currentText()
            return self.settings.load(spec if spec and spec not in OPEN_CUSTOM else default_dataset(self.graph))
        return True

    def graph_changed(self) -> None:
        """The document's graph was replaced or restructured: refresh the idle views.

        Cheap when the views are hidden (the usual case while editing): they are only
        marked stale and rebuilt when they are shown.
        """
        self._update_buttons()
        if self.running:
            return
        self._views_stale = True
        if self.views.isVisible():
            QtCore.QTimer.singleShot(0, self, self.refresh_views)

    def forget_run(self) -> None:
        """Another graph was opened (see :func:`app.training.persist.forget_run`); a loaded
        dataset whose samples it cannot take (MNIST for toy_mlp's two features, or the
        other way round) gives way to the one that suits it."""
        forget_run(self, NO_RUN_STATUS)
        splits, shape = self.settings.splits, input_image_shape(self.graph)
        if splits is None or shape is None or self.running or any(d is None for d in shape[1:]):
            return
        if math.prod(shape[1:]) != math.prod(splits.sample_shape):
            wanted = default_dataset(self.graph)
            if wanted != splits.name:
                self.settings.load(wanted)

    def refresh_views(self) -> None:
        """Rebuild the filter and activation views from the graph if it changed since."""
        if self._views_stale and not self.running:
            self._views_stale = False
            self.show_graph_weights()

    def show_graph_weights(self, fresh: bool = False) -> None:
        """Filters and activations of the document's current weights (see
        :meth:`TrainingViewsDock.show_weights`)."""
        self.views.show_weights(self.graph, self.settings.seed.value(), self.settings.splits, fresh)

    def _dataset_changed(self, splits) -> None:
        if self.views.built:
            self.views.activations.set_data(splits)
        else:
            self._views_stale = True

    # -- run control ----------------------------------------------------------------------
    def start(self, fresh: bool = True, max_iterations: int | None = None, **overrides) -> bool:
        """Start a run with the dock's settings; ``overrides`` replace TrainConfig fields."""
        if self.running:
            return False
        g = self.graph
        if not self.ensure_dataset():
            return False
        if not fresh and not has_weights(g):
            fresh = True
        run = RunConfig.from_form(self.settings.values(), fresh, max_iterations, overrides)
        train = run.train
        try:  # before anything locks: the worker would say so only once it runs
            TrainConfig.from_dict(train).validate()
            est = memory.estimate(g, train["batch_size"], train["dtype"], train=True)
            memory.check_fits(est)
        except (TrainError, TypeError, memory.MemoryCheckError) as exc:
            self._status(f"Not started: {exc}")
            self._log(f"training not started: {exc}", "error")
            return False
        self._trained_graph = g
        self.run = TrainingRun(g, self.settings.splits, run, parent=self)
        w = self.run.worker
        w.started.connect(self._on_started)
        w.progress.connect(self._on_progress)
        w.phase.connect(self._on_phase)
        w.epochs_done.connect(self._on_epochs)
        w.filters.connect(self._on_filters)
        w.weights.connect(self.views.activations.set_weights)
        w.histograms.connect(self.views.results.histograms.add_snapshot)
        w.stopped.connect(self._on_stopped)
        w.held.connect(self._on_held)
        w.weights_ready.connect(self._on_weights_ready)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        self.run.ended.connect(self._on_ended)
        self.views.curves.reset(continue_from=not fresh)
        keep_histograms = not fresh and self.views.results.histograms.snapshots
        snapshots = list(self.views.results.histograms.snapshots) if keep_histograms else []
        # the headline, matrix and gallery belong to the last run until this one ends
        self.views.results.clear("This run's results appear here when it finishes or is stopped.")
        for label, hists in snapshots:
            self.views.results.histograms.add_snapshot(label, hists)
        self.outcome = ""
        self._stopping = False
        self._weights_applied = False
        self._losses: list[float] = []
        self._epochs: list[dict] = []
        self._nonfinite = False
        # The views show this run from now on, until the graph changes. The activation view
        # needs the run's graph now: it is fed only weight snapshots while the run goes on
        # (the worker sends the initial ones right after it starts).
        self.show_graph_weights(fresh=fresh)
        self._views_stale = False
        self._starting = True   # `running` from here: Stop, Pause and a second Start see the run
        self.keeper.save()      # a settings change still waiting to be saved: its undo step now, not mid-run
        self.set_locked(True)
        self._extent = run.extent(len(self.settings.splits.y_train))
        self.views.curves.set_extent(*self._extent)
        self.dock.progress.setRange(0, 0)
        self.dock.progress.setFormat("preparing…")
        self._status(f"Preparing {'a fresh run' if fresh else 'to continue training'} on "
                     f"{self.settings.splits.name}…")
        self._redraw.start()
        self._update_buttons()
        self.run_started.emit()
        self._log(f"memory: {est.summary()}")
        self._log(f"training started ({'fresh weights' if fresh else 'continuing'}; "
                  f"{train['optimizer']} lr {train['lr']:g}, batch {train['batch_size']}, "
                  f"{train['epochs']} epochs, seed {train['seed']})")
        # The locked window is painted now and the thread starts last: painting it while
        # the first epochs run took the GIL from them (a toy net's first five epochs
        # took twice as long in the GUI as in the CLI).
        try:
            for _ in range(2):   # the scenes' queued changes, then the paints they ask for
                QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        finally:
            self._starting = False
        self.run.start()
        return True

    def pause(self) -> None:
        if self.running and not self.run.paused:
            self.run.pause()
            self.dock.progress.setFormat(self.dock.progress.format().replace(" (paused)", "") + " (paused)")
            self._status("Paused between batches. Resume to go on, Stop to end the run.")
            self._update_buttons()

    def resume(self) -> None:
        if self.running and self.run.paused:
            self.run.resume()
            self._status("Resumed.")
            self._update_buttons()

    def stop(self) -> None:
        if self.running:
            self.run.stop()
            self._stopping = True
            self._status("Stopping after the current batch…")
            self.dock.stop_button.setEnabled(False)
            self.dock.pause_button.setEnabled(False)
            self.dock.resume_button.setEnabled(False)
            self.dock.progress.setFormat(self.dock.progress.format().replace(" (paused)", "") + " (stopping…)")

    def shutdown(self) -> None:
        """Stop a run and wait for its thread (the application is quitting)."""
        if self.run is not None:
            self.run.wait()

    # -- worker signals --------------------------------------------------------------------
    def _on_started(self, info: dict) -> None:
        self._started_info = info
        if (info["total_iterations"], info["epochs"]) != self._extent:   # set at Start already
            self.views.curves.set_extent(info["total_iterations"], info["epochs"])
        self.dock.progress.setRange(0, int(info["total_iterations"]))
        self.dock.progress.setValue(0)
        self.dock.progress.setFormat(f"epoch 1/{info['epochs']} · iteration 0/{info['total_iterations']}")
        before = info.get("before", {})
        if set(before) != set(self.views.filters.rows):
            self.views.filters.set_layers({nid: np.zeros(s) for nid, s in info["conv_shapes"].items()})
        self.views.filters.set_before(before)
        self.views.filters.set_now(before, "at iteration 0")
        self._status(f"Training on {info['backend_note']}: {info['train_samples']} samples, "
                     f"{info['iterations_per_epoch']} iterations per epoch.")

    def _on_progress(self, p: dict) -> None:
        self.views.curves.add_iterations(p["iterations"], p["losses"], p["lrs"])
        self._losses.extend(np.asarray(p["losses"], dtype=np.float64).tolist())
        self._show_progress(p)
        self.progressed.emit(p)   # after the bar: a listener sees it as of this report when it was due

    def _show_progress(self, p: dict) -> None:
        info = self._started_info
        paused = " (paused)" if self.run is not None and self.run.paused else ""
        now = time.monotonic()
        if now - self._bar_shown < 0.25 and not paused and p["iteration"] < p["total_iterations"]:
            return  # QProgressBar.setValue repaints at once (~10 ms): 4 times a second is enough
        self._bar_shown = now
        self.dock.progress.setValue(int(p["iteration"]))
        self.dock.progress.setFormat(f"epoch {p['epoch']}/{info.get('epochs', '?')} · iteration "
                                     f"{p['iteration']}/{p['total_iterations']}{paused}")
        if not paused and not self._stopping:
            self._status(f"loss {p['loss']:.4f} · lr {p['lr']:.3g} · {p['samples_per_s']:,.0f} samples/s · "
                         f"ETA {fmt_duration(p['eta_s'])}")

    def _on_phase(self, ph: dict) -> None:
        """Validation, checkpoint, final evaluation, float16 check, writing: say which."""
        if ph["phase"] in ("validation", "checkpoint"):
            return  # a moment at each epoch's end; the epoch's progress text stays
        bar = self.dock.progress
        if ph["total"] > 1:
            bar.setRange(0, int(ph["total"]))
            bar.setValue(int(ph["done"]))
            bar.setFormat(f"{ph['text']} · {ph['done']:,}/{ph['total']:,}")
        else:
            bar.setRange(0, 0)
            bar.setFormat(ph["text"])
        if self._weights_applied:
            self._status(f"The trained weights are in the graph; {ph['text']}…")

    def _on_epochs(self, rows: list[dict]) -> None:
        """Epoch rows, several at once when epochs are short (one log append for all)."""
        lines = []
        for e in rows:
            self._epochs.append(e)
            # drawn by the redraw timer: a toy set's epochs come many times a second
            self.views.curves.add_epoch(e["epoch"], e["train_loss"], e["train_acc"], e["val_loss"], e["val_acc"],
                                        e.get("iteration"))
            self.epoch_finished.emit(e)
            val = "" if e["val_acc"] is None else f", val acc {e['val_acc']:.2%}"
            lines.append(f"epoch {e['epoch']}: train loss {e['train_loss']:.4f}, train acc {e['train_acc']:.2%}{val} "
                         f"({e['seconds']:.1f} s)")
        self.log.messages(lines)

    def _on_filters(self, mosaics: dict, change: dict, when: str) -> None:
        self.views.filters.set_now(mosaics, when, change)

    def _on_held(self, iteration: int) -> None:
        if self.run is not None and self.run.paused and not self._stopping:
            self._status(f"Paused after iteration {iteration}, no batch running. "
                         "Resume to go on, Stop to end the run.")

    def _on_stopped(self, reason: str, kind: str) -> None:
        self.outcome = "stopped"
        self._nonfinite = self._nonfinite or kind == "nonfinite"
        self._log(reason, "error" if kind == "nonfinite" else "warning")
        self._status(f"{reason}. Evaluating…")

    def _on_weights_ready(self, weights: dict, info: dict) -> None:
        """The weights are final: into the document (one undo step), editing unlocked."""
        self._apply_weights(weights, info)
        self.views.activations.set_weights(weights)
        self.set_locked(False)
        self._update_buttons()
        self._status("The trained weights are in the graph; evaluating them…")

    def _apply_weights(self, weights: dict, info: dict) -> None:
        if self._weights_applied:
            return
        self._weights_applied = True
        epochs = info.get("epochs", 0)
        text = (f"Train on {info.get('dataset', '')} ({epochs} epoch{'s' * (epochs != 1)}, "
                f"{info.get('iterations', 0)} iterations)")
        if self.graph is not self._trained_graph:
            self._log("the graph was replaced during training; the trained weights were not applied", "warning")
        else:
            self.document.apply_weights(weights, text)

    def _on_finished(self, result: dict, weights: dict) -> None:
        self.views.curves.redraw()
        self.last_result = result
        self.outcome = self.outcome or "done"
        self._apply_weights(weights, result)
        self.views.results.show_result(result, self.settings.splits, input_image_shape(self.graph))
        self.views.activations.set_weights(weights)
        acc = result.get("test_accuracy")
        msg = (f"training finished: test accuracy {acc:.2%}{float16_text(result)}" if acc is not None
               else "training finished")
        if result.get("stopped_reason"):
            msg += f" ({result['stopped_reason']})"
        splits = self.settings.splits
        diverged = divergence(self._losses, self._epochs, splits.num_classes if splits is not None else 10,
                              self._nonfinite)
        if diverged is not None:
            warning = (f"training diverged: loss went from {diverged[0]:.4g} to {diverged[1]:.4g} "
                       "— lower the learning rate")
            self._log(warning, "warning")
            self._log(msg, "warning")
            self._status(f"<span style='color:#b26a00'><b>{warning[0].upper() + warning[1:]}.</b></span> "
                         f"{msg[0].upper() + msg[1:]}. The weights are in the graph (Undo reverts them).")
            return
        self._log(msg, "success")
        self._status(msg[0].upper() + msg[1:] + ". The trained weights are in the graph (Undo reverts them).")

    def _on_failed(self, message: str) -> None:
        self.outcome = "failed"
        self._log(message, "error")
        self._status(f"<span style='color:#c62828'>{message}</span>")

    def _on_ended(self) -> None:
        self._redraw.stop()
        self.views.curves.redraw()
        run = self.run
        if run is not None:
            run.thread.wait()
            run.worker.deleteLater()
            run.thread.deleteLater()
            run.deleteLater()
        self.run = None
        if self._trained_graph is self.graph and self.views.built:
            self._kept_run = (weights_fingerprint(self.graph), self.views.curves.snapshot())
        self.set_locked(False)
        self.dock.progress.setRange(0, 100)
        self.dock.progress.setValue(100 if self.outcome == "done" else self.dock.progress.value())
        at = self.dock.progress.format().split(" (")[0]
        at = f" at {at}" if at.startswith("epoch") else ""
        self.dock.progress.setFormat({"done": "done", "stopped": f"stopped by request{at}" if self._stopping
                                      else f"stopped{at} (see the status below)",
                                      "failed": "failed: see the status below"}.get(self.outcome, "idle"))
        self._update_buttons()
        self.run_ended.emit(self.outcome or "failed")

    # -- state ------------------------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        self.dock.show_lock(locked)
        self.settings.setEnabled(not locked)
        if self.lock is not None:
            self.lock(locked, LOCK_REASON)
        self.lock_changed.emit(locked)

    def _update_buttons(self) -> None:
        d = self.dock
        running = self.running
        paused = running and self.run.paused
        g = self.graph
        d.start_button.setEnabled(not running)
        d.continue_button.setEnabled(not running and has_weights(g))
        training = running and not self._weights_applied  # afterwards only the evaluation runs
        stopping = running and self._stopping
        d.pause_button.setEnabled(training and not paused and not stopping)
        d.resume_button.setEnabled(paused and not stopping)
        d.stop_button.setEnabled(training and not stopping)
        dropouts = any(g.node(n).type == "Dropout" for n in g.nodes())
        self.settings.set_dropout_available(dropouts)
        self.buttons_changed.emit()
