"""The training loop as an iterator of progress events (no Qt: the GUI runs it in a thread).

Words as in the notes: the *batch size* is how many samples one update sees, an
*iteration* is one batch, an *epoch* is one pass over the training split.

::

    trainer = Trainer(templates.build("two_layer_net"), load_dataset("mnist-10k"),
                      TrainConfig(epochs=5), run_dir="runs/demo")
    for event in trainer:        # IterationEvent, PhaseEvent, EpochEvent, StoppedEvent, DoneEvent
        print(event)

The trainer has no pause of its own: a consumer pauses by not asking for the next event
(:class:`graph.training.session.TrainingSession` does, for the GUI) and reports the time
it held with :meth:`Trainer.add_pause`, which epoch times, throughput and the ETA leave out.

Reproducibility: weights are initialised from ``seed``; every epoch ``e`` draws its
shuffle order, augmentation and dropout masks from fresh generators seeded with
``SeedSequence([seed, stream, e])``. The random state after any epoch is therefore fully
described by ``(seed, epoch)``, which the checkpoint stores, and a resumed run makes the
same draws as an uninterrupted one.

At the end the weights of the best epoch (by ``monitor``) are restored, unless the user
stopped the run (the current weights stay) or a NaN/Inf stopped it. No update with a
non-finite gradient is ever applied, and before every update the trainer keeps a device
copy of the weights and buffers: when the loss or a gradient of the next iteration turns
out non-finite, the weights are rolled back to that copy (the last weights whose own
forward loss and gradients were finite), and the final metrics are those of these weights.

Checkpoints (when a run folder is given), all written atomically (temp file +
``os.replace``): ``checkpoint.npz`` after every epoch (weights and buffers, optimizer
and schedule state, epoch, history, RNG description), ``best.npz`` whenever the monitored
metric improves, ``metrics.csv`` / ``metrics.json`` per epoch, and at the end
``trained_graph.json`` plus ``confusion.csv`` / ``confusion.json``. A killed run resumes
from its last completed epoch with :meth:`Trainer.from_checkpoint`.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from layers import kernels
from layers.base import to_host

from graph.training.divergence import LossTrend
from graph.training import runfiles
from graph.training.datasets import Augment, DataSplits, check_labels_fit, fit_to_input, labels_for_input, make_scaler
from graph.training.metrics import count_correct, write_json
from graph.training.optim import make_optimizer
from graph.run.perf import release_free_memory
from graph.training.safekeeping import all_finite, copy_snapshot, copy_state
from graph.training.schedules import make_schedule
from graph.training.events import (  # noqa: F401 - re-exported: callers import them from here
    MONITORS, DoneEvent, EpochEvent, IterationEvent, PhaseEvent, StoppedEvent, TrainConfig, TrainError,
)

_SHUFFLE, _AUGMENT, _DROPOUT = 1, 2, 3


def _stream(seed: int, stream: int, epoch: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, stream, epoch])


class Trainer:
    """Train ``graph`` on ``data``; iterate over it to run (see the module docs).

    Parameters
    ----------
    graph : graph.Graph
        Needs exactly one ``Input`` with role ``data``, one with role ``label`` and a loss
        node as its sink; existing weights are kept, missing ones initialised from ``seed``.
    data : DataSplits
        From :func:`graph.training.datasets.load_dataset`.
    config : TrainConfig, optional
        Settings; keyword ``overrides`` replace single fields.
    run_dir : path, optional
        Where checkpoints and metrics go; nothing is written without it.
    """

    def __init__(self, graph, data: DataSplits, config: TrainConfig | None = None, run_dir=None,
                 **overrides) -> None:
        from graph.run.engine import Engine  # noqa: PLC0415 - keeps graph/__init__ free of import cycles

        cfg = TrainConfig.from_dict({**asdict(config or TrainConfig()), **overrides})
        unknown = sorted(set(overrides) - {f.name for f in fields(TrainConfig)})
        if unknown:
            raise TrainError(f"unknown training option {', '.join(unknown)}")
        cfg.validate()
        if cfg.train_size is not None:
            data = data.first_train(cfg.train_size)
        if len(data.y_train) == 0:
            raise TrainError(f"{data.name}: the training split is empty; there is nothing to train on")
        self.config, self.graph, self.data = cfg, graph, data
        self.data_spec = runfiles.dataset_spec(data.name)
        self.run_dir = Path(run_dir) if run_dir else None
        self.engine = eng = Engine(graph, backend=cfg.backend, dtype=cfg.dtype, seed=cfg.seed)
        self.xp = eng.xp
        self._check_graph()
        self.scaler = make_scaler(cfg.scaling, data.x_train, data.default_scaling)
        self.augment = Augment.parse(cfg.augment)
        if self.augment.active and data.x_train.ndim != 4:
            raise TrainError(f"augmentation needs image samples (C, H, W); {data.name} has samples of "
                             f"shape {data.sample_shape}")
        try:
            self.optimizer = make_optimizer(cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay,
                                            clip_norm=cfg.clip_norm, **cfg.optimizer_options)
        except ValueError as exc:
            raise TrainError(str(exc)) from None
        self.backend_note = eng.backend_note + self._kernel_note()
        self.n_train = len(data.y_train)
        self.steps_per_epoch = math.ceil(self.n_train / cfg.batch_size)
        self.schedule = make_schedule(cfg.schedule, self.optimizer.lr, self.steps_per_epoch,
                                      cfg.epochs * self.steps_per_epoch)
        # device copies once: with CuPy the data stays on the GPU for the whole run
        self._dev = {s: tuple(self.xp.asarray(a) for a in data.split(s)) for s in ("train", "val", "test")}
        self.epoch = 0
        self.iteration = 0
        self.history: list[dict] = []
        self.iteration_loss: list[float] = []
        self.best: dict | None = None
        self._best_weights: dict | None = None
        self._last_good = self._snapshot()
        self._pre_step: dict | None = None   # device copy of weights + buffers before the last update
        self.bad_epochs = 0
        self._trend = LossTrend()
        self.finished = False
        self.elapsed = 0.0
        self.stopped: StoppedEvent | None = None
        self._paused = 0.0            # seconds the consumer held the run (add_pause)
        self._eval_s_per_sample = 0.0  # measured in validation passes, for the ETA
        self._stop = threading.Event()
        self._result: dict | None = None

    # -- set-up checks ----------------------------------------------------------------------
    def _check_graph(self) -> None:
        eng, g = self.engine, self.graph
        data_ids, label_ids = eng.input_ids("data"), eng.input_ids("label")
        if len(data_ids) != 1 or len(label_ids) != 1:
            raise TrainError(f"training needs exactly one Input with role 'data' and one with role 'label'; "
                             f"this graph has data {data_ids or 'none'} and label {label_ids or 'none'}")
        if eng.loss_id is None or g.node(eng.loss_id).op.category != "losses":
            raise TrainError("the graph's output is not a loss node (e.g. SoftmaxCrossEntropy)")
        if not eng.learnables():
            raise TrainError("the graph has nothing to learn (no Affine, Conv2D or Parameter nodes)")
        self.data_id, self.label_id = data_ids[0], label_ids[0]
        self.logits_id = eng.logits_node()
        self.data_shape = tuple(g.node(self.data_id).params["shape"])
        self.label_shape = tuple(g.node(self.label_id).params["shape"])
        shapes = g.infer_shapes()[0]
        width = shapes.get(self.logits_id, (None,))
        check_labels_fit(self.data.num_classes, self.label_shape, width[-1] if width else None, self.label_id)
        fit_to_input(self.data.x_train[:1], self.data_shape, self.data_id)

    # -- control ------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop before the next batch (callable from another thread); the run still ends
        with a :class:`DoneEvent`."""
        self._stop.set()

    def add_pause(self, seconds: float) -> None:
        """The consumer held the run ``seconds`` between two events: left out of epoch
        times, throughput and the ETA."""
        self._paused += max(float(seconds), 0.0)

    # -- batches -----------------------------------------------------------------------------------
    def _feeds(self, split: str, idx, rng=None) -> tuple[dict, object]:
        xp = self.xp
        x_all, y_all = self._dev[split]
        sel = xp.asarray(idx)
        x = self.scaler(x_all[sel], self.engine.dtype, xp)
        if rng is not None and self.augment.active:
            x = self.augment(x, rng, xp)
        x = fit_to_input(x, self.data_shape, self.data_id)
        y = y_all[sel]
        t = labels_for_input(y, self.label_shape, self.data.num_classes, xp)
        return {self.data_id: x, self.label_id: t}, y

    def evaluate(self, split: str, want_predictions: bool = False):
        """Mean loss and accuracy over a split (inference mode, in chunks).

        Returns
        -------
        tuple
            ``(loss, accuracy, predictions (N,) int64 or None)``; ``(None, None, None)``
            for an empty split.
        """
        steps = self.evaluation(split, want_predictions)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def evaluation(self, split: str, want_predictions: bool = False, phase: PhaseEvent | None = None):
        """:meth:`evaluate` as a generator: after each chunk it yields ``phase`` with
        ``done`` advanced by the chunk's samples (when given); returns the result."""
        eng = self.engine
        n = len(self.data.split(split)[1])
        if n == 0:
            return None, None, None
        total_loss, correct, preds = 0.0, 0, []
        step = self.config.eval_batch_size
        for start in range(0, n, step):
            idx = np.arange(start, min(start + step, n))
            feeds, y = self._feeds(split, idx)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                eng.forward(feeds, train=False)
                total_loss += eng.loss() * len(idx)
            scores = eng.output_of(self.logits_id)
            correct += count_correct(scores, y)
            if want_predictions:
                preds.append(np.asarray(to_host(scores.reshape(len(idx), -1).argmax(axis=1))))
            if phase is not None:
                phase.done += len(idx)
                yield PhaseEvent(phase.phase, phase.text, phase.done, phase.total)
        return total_loss / n, correct / n, (np.concatenate(preds) if want_predictions else None)

    # -- weights ---------------------------------------------------------------------------------
    def _snapshot(self, into: dict | None = None) -> dict:
        """Host float64 copies of every weight and buffer, ``{node: {name: array}}``, written
        into ``into``'s arrays when they fit."""
        self.engine.sync_to_graph()
        g = self.graph
        return copy_snapshot(into, {id: g.node(id).weights for id in g.nodes() if g.node(id).weights})

    def _restore(self, weights: dict) -> None:
        for id, tensors in weights.items():
            for name, arr in tensors.items():
                self.engine.set_param(id, name, arr)

    def restore_best(self) -> int | None:
        """Put the best epoch's weights back (what a user's Stop keeps); returns that
        epoch, or ``None`` (nothing changed) when no epoch has ended yet."""
        if self._best_weights is None or self.best is None:
            return None
        self._restore(self._best_weights)
        return int(self.best["epoch"])

    def _state_refs(self) -> dict:
        """Backend arrays of every weight and buffer, ``{(node, name): array}``."""
        return self.engine.state_ref()

    def _keep_pre_step(self) -> None:
        """Copy the weights and buffers on the device (into reused buffers) before an update."""
        self._pre_step = copy_state(self._pre_step, self._state_refs(), self.xp)

    def _roll_back(self) -> None:
        """Restore the weights from before the update that led to a non-finite loss/gradient."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self._pre_step is not None:
                for (id, name), arr in self._pre_step.items():
                    self.engine.set_param(id, name, to_host(arr))
            else:  # the very first iteration of this session: its weights are the last good ones
                self._restore(self._last_good)

    # -- the loop -----------------------------------------------------------------------------------
    @property
    def total_iterations(self) -> int:
        """Updates of the whole run: every epoch's batches, or ``max_iterations`` when fewer."""
        total = self.config.epochs * self.steps_per_epoch
        return min(total, self.config.max_iterations) if self.config.max_iterations else total

    def _kernel_note(self) -> str:
        """", Numba kernels" (or why NumPy does their work) when this run uses them; loads
        them now, not in the first step."""
        eng = self.engine
        big = any(p.size >= kernels.MIN_ELEMENTS for p in eng.params_ref().values())
        if eng.backend != "numpy" or not (eng.fused_groups() or (big and self.optimizer.name in ("adam", "sgd"))):
            return ""
        return f", {kernels.status()}"

    def __iter__(self):
        cfg, eng, xp = self.config, self.engine, self.xp
        total = self.total_iterations
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.run_dir / "config.json", {"config": asdict(cfg), "dataset": self._dataset_info()})
        t_run, paused_run, done_run = time.perf_counter(), self._paused, self.iteration
        while (not self.finished and self.epoch < cfg.epochs and self.stopped is None
               and self.iteration < total):
            epoch = self.epoch + 1
            t_epoch, paused_epoch = time.perf_counter(), self._paused
            order = (np.random.default_rng(_stream(cfg.seed, _SHUFFLE, epoch)).permutation(self.n_train)
                     if cfg.shuffle else np.arange(self.n_train))
            aug_rng = np.random.default_rng(_stream(cfg.seed, _AUGMENT, epoch))
            eng.rng = _engine_rng(eng, _stream(cfg.seed, _DROPOUT, epoch))
            loss_sum, correct, seen = 0.0, 0, 0
            for b in range(self.steps_per_epoch):
                if self._stop.is_set():
                    self.stopped = StoppedEvent(f"stopped by the user in epoch {epoch} after "
                                                f"{self.iteration} iterations", "user")
                    break
                idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                feeds, y = self._feeds("train", idx, aug_rng)
                self.optimizer.lr = lr = self.schedule.lr(self.iteration)
                # overflow is detected and reported below, so NumPy's warnings are only noise
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    eng.forward(feeds, train=True)
                    loss = eng.loss()
                    if math.isfinite(loss):
                        eng.backward(prune=True)
                if not math.isfinite(loss):
                    self._nonfinite(epoch, "loss", loss)
                    break
                grads = eng.grads_ref()
                if not all_finite(grads, xp):
                    self._nonfinite(epoch, "gradient", loss)
                    break
                self._keep_pre_step()
                self.optimizer.step(eng.params_ref(), grads)
                correct += count_correct(eng.output_of(self.logits_id), y)
                loss_sum += loss * len(idx)
                seen += len(idx)
                self.iteration += 1
                self.iteration_loss.append(loss)
                now = time.perf_counter()
                in_epoch = now - t_epoch - (self._paused - paused_epoch)
                per_it = (now - t_run - (self._paused - paused_run)) / (self.iteration - done_run)
                yield IterationEvent(epoch, self.iteration, loss, lr, seen / in_epoch if in_epoch > 0 else 0.0,
                                     per_it * (total - self.iteration) + self._final_eta(),
                                     b + 1, self.steps_per_epoch, total)
                why = self._trend.update(loss)
                if why:
                    self.stopped = StoppedEvent(f"{why} at epoch {epoch}, iteration {self.iteration}; training "
                                                "stopped (try a smaller learning rate)", "diverged")
                    break
                if self.iteration >= total:
                    break  # max_iterations reached: this (partial) epoch still ends normally
            if self.stopped is not None:
                self.elapsed += time.perf_counter() - t_epoch - (self._paused - paused_epoch)
                break
            yield from self._end_epoch(epoch, loss_sum / max(seen, 1), correct / max(seen, 1), t_epoch,
                                       paused_epoch)
        yield from self._finish()

    def _final_eta(self) -> float:
        """Seconds the final evaluation will take, from the validation passes' pace."""
        d = self.data
        n = len(d.y_train) + len(d.y_val) + len(d.y_test) * (2 if self.config.compare_float16 else 1)
        return self._eval_s_per_sample * n

    def _end_epoch(self, epoch, train_loss, train_acc, t_epoch, paused_epoch):
        cfg = self.config
        n_val = len(self.data.y_val)
        t_val = time.perf_counter()
        val_loss, val_acc, _ = yield from self.evaluation(
            "val", phase=PhaseEvent("validation", f"epoch {epoch}: validation", 0, n_val))
        if n_val:
            self._eval_s_per_sample = (time.perf_counter() - t_val) / n_val
        self.epoch = epoch
        metrics = {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}
        monitor = cfg.monitor if metrics[cfg.monitor] is not None else "train_" + cfg.monitor[4:]
        value = metrics[monitor]
        self.schedule.step_epoch(val_loss if val_loss is not None else train_loss)
        sign = 1.0 if MONITORS[monitor] == "min" else -1.0
        improved = self.best is None or sign * value < sign * self.best["value"]
        self._last_good = self._snapshot(into=self._last_good)
        if improved:
            self.best = {"epoch": epoch, "value": value, "monitor": monitor}
            self._best_weights = copy_snapshot(self._best_weights, self._last_good)
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if cfg.early_stopping and self.bad_epochs >= cfg.early_stopping and epoch < cfg.epochs:
            self.stopped = StoppedEvent(
                f"early stopping after epoch {epoch}: {monitor} has not improved for {self.bad_epochs} "
                f"epochs (best {self.best['value']:.4f} at epoch {self.best['epoch']})", "early_stopping")
        if self.run_dir is not None:
            yield PhaseEvent("checkpoint", f"epoch {epoch}: writing the checkpoint", 0, 1)
        # the epoch's row goes into the checkpoint, so its time stops before the writing
        seconds = time.perf_counter() - t_epoch - (self._paused - paused_epoch)
        self.elapsed += seconds
        row = {"epoch": epoch, **metrics, "lr": self.optimizer.lr, "seconds": seconds,
               "iteration": self.iteration}
        self.history.append(row)
        self._write_epoch_files(improved)
        release_free_memory()
        yield EpochEvent(epoch, train_loss, train_acc, val_loss, val_acc, seconds, self.optimizer.lr, improved,
                         self.iteration)

    def _nonfinite(self, epoch: int, what: str, loss: float) -> None:
        where = self.engine.first_nonfinite()
        if where is None:
            place = "no node value is non-finite (the loss itself overflowed)"
        else:
            node, kind = where
            op = self.graph.node(node).type
            if op == "Input":   # bad data, not a bad learning rate
                self.stopped = StoppedEvent(
                    f"NaN/Inf in the input data {node!r} at epoch {epoch}, iteration {self.iteration + 1}: "
                    "the training data holds non-finite values; fix the data (the learning rate is not "
                    "the cause)", "nonfinite")
                self._roll_back()
                return
            detail = {"value": "its forward output", "grad": "the gradient of its output"}.get(
                kind, kind.replace("grad of", "the gradient of its parameter"))
            place = f"first at node {node!r} ({op}), in {detail}"
        self.stopped = StoppedEvent(
            f"NaN/Inf in the {what} at epoch {epoch}, iteration {self.iteration + 1} (loss {loss}): {place}. "
            "Training stopped and kept the last good weights (from before the update that led to it); "
            "try a smaller learning rate",
            "nonfinite")
        self._roll_back()

    def _finish(self):
        t0, paused0 = time.perf_counter(), self._paused
        if self.stopped is not None:
            yield self.stopped  # the consumer may still put other weights in (see session.py)
        kind = self.stopped.kind if self.stopped else None
        if self.config.restore_best and kind in (None, "early_stopping"):
            self.restore_best()
        self.engine.sync_to_graph()
        self.finished = True
        self._result = yield from self._final_metrics()
        self.elapsed += time.perf_counter() - t0 - (self._paused - paused0)
        self._result["seconds"] = self.elapsed
        if self.run_dir is not None:
            yield PhaseEvent("writing", f"writing the run folder {self.run_dir}", 0, 1)
        self._write_final_files()
        yield DoneEvent(self._result)

    def _final_metrics(self):
        """Generator: evaluates the final weights on every split and returns the result dict."""
        return (yield from runfiles.final_metrics(self))

    # -- files ----------------------------------------------------------------------------------------
    def _dataset_info(self) -> dict:
        return runfiles.dataset_info(self)

    def state_dict(self) -> dict:
        """Everything :meth:`from_checkpoint` needs to continue after the last epoch."""
        return runfiles.state_dict(self)

    def _write_epoch_files(self, improved: bool) -> None:
        runfiles.write_epoch_files(self, improved)

    def _write_final_files(self) -> None:
        runfiles.write_final_files(self)

    # -- convenience ------------------------------------------------------------------------------
    def run(self, callback=None) -> dict:
        """Consume every event (passing each to ``callback``) and return the result dict."""
        for event in self:
            if callback is not None:
                callback(event)
        return self._result

    @property
    def result(self) -> dict | None:
        """The final result once a :class:`DoneEvent` was produced."""
        return self._result

    @classmethod
    def from_checkpoint(cls, run_dir, data: DataSplits | None = None, data_dir=None, dataset=None,
                        **overrides) -> "Trainer":
        """Rebuild a trainer from ``run_dir/checkpoint.npz`` to continue after its last epoch
        (see :func:`graph.training.runfiles.resume`)."""
        return runfiles.resume(cls, run_dir, data, data_dir=data_dir, dataset=dataset, **overrides)


def _engine_rng(engine, seq: np.random.SeedSequence):
    if engine.backend == "cupy":
        return engine.xp.random.default_rng(int(seq.generate_state(1)[0]))
    return np.random.default_rng(seq)

