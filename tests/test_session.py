"""The training session (graph/training/session.py), headless: coalesced progress, the one
pause (held time left out of epoch times), stop with keep-best, weights final before the
final evaluation, views paced by time. The GUI's worker only relays these calls."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from graph.training.datasets import load_dataset
from graph.training.session import SessionOptions, TrainingSession
from graph.training.trainer import Trainer

from tests.test_trainer import mlp


class Recorder:
    """A listener that keeps every call as ``(name, args)``; optional hooks per name."""

    def __init__(self, **hooks) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.hooks = hooks

    def __getattr__(self, name):
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(*args):
            self.calls.append((name[3:], args))
            if name[3:] in self.hooks:
                self.hooks[name[3:]](*args)
        return record

    def named(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]

    def order(self) -> list[str]:
        return [n for n, _ in self.calls]


@pytest.fixture(scope="module")
def spiral():
    return load_dataset("spiral:noise=0.1,n=1000")


def _weights(trainer) -> dict:
    return {k: np.array(v) for k, v in trainer.engine.params_ref().items()}


def test_progress_and_epoch_rows_are_coalesced_by_time_and_complete(spiral):
    # 40 batches an epoch in a few milliseconds: with a 10 s interval the only reports are
    # the first point and, with the last epoch's row, everything since: points and rows
    t = Trainer(mlp(), spiral, epochs=3, batch_size=20, compare_float16=False)
    rec = Recorder()
    result = TrainingSession(rec, SessionOptions(progress_interval=10.0)).run(t)
    reports = [args[0] for args in rec.named("progress")]
    assert [len(r["iterations"]) for r in reports] == [1, 3 * t.steps_per_epoch - 1]
    its = np.concatenate([r["iterations"] for r in reports])
    assert np.array_equal(its, np.arange(1, 3 * t.steps_per_epoch + 1))
    assert np.array_equal(np.concatenate([r["losses"] for r in reports]), np.asarray(t.iteration_loss))
    # the rows come together, right after the report with the last epoch's last point
    order = [n for n in rec.order() if n in ("progress", "epochs")]
    assert order == ["progress", "progress", "epochs"]
    assert [row["epoch"] for row in rec.named("epochs")[0][0]] == [1, 2, 3]
    # per-epoch phases are paced like the rows; the final evaluation's ends are not
    phases = [args[0]["phase"] for args in rec.named("phase")]
    assert phases.count("validation") == 1 and "evaluation" in phases
    assert result is t.result and rec.order()[-1] == "done"
    # with no interval every batch is its own report and every epoch its own row
    rec = Recorder()
    TrainingSession(rec, SessionOptions(progress_interval=0.0)).run(
        Trainer(mlp(), spiral, epochs=2, batch_size=20, compare_float16=False))
    assert len(rec.named("progress")) == 2 * t.steps_per_epoch
    assert [len(args[0]) for args in rec.named("epochs")] == [1, 1]


def test_pause_holds_between_batches_and_is_left_out_of_epoch_time(spiral):
    t = Trainer(mlp(), spiral, epochs=2, batch_size=20, compare_float16=False)
    held = threading.Event()
    session = None

    def on_progress(report):
        if report["iteration"] >= 5 and not held.is_set() and not session.paused:
            session.pause()

    rec = Recorder(progress=on_progress, held=lambda _it: held.set())
    session = TrainingSession(rec, SessionOptions(progress_interval=0.0))
    thread = threading.Thread(target=session.run, args=(t,))
    started = time.perf_counter()
    thread.start()
    assert held.wait(10)
    at = t.iteration
    threading.Event().wait(0.5)
    assert t.iteration == at, "a batch ran while paused"
    assert rec.named("held")[0][0] == at
    # the progress of the last batch arrived before the hold was announced
    last_report = rec.named("progress")[-1][0]
    assert last_report["iteration"] == at
    session.resume()
    thread.join(30)
    wall = time.perf_counter() - started
    assert not thread.is_alive() and t.epoch == 2
    assert session.paused_s >= 0.5
    # epoch times add up to the run's wall time less the hold (whatever the machine's load)
    assert sum(row["seconds"] for row in t.history) <= wall - session.paused_s + 0.05, t.history


def test_stop_keeps_the_best_weights_and_says_so(spiral):
    # momentum SGD with a large rate: validation loss goes up and down, so the best epoch
    # is rarely the last one
    t = Trainer(mlp(), spiral, epochs=40, batch_size=20, optimizer="sgd", lr=0.5, compare_float16=False)
    at_stop = {}

    def on_epochs(rows):
        row = rows[-1]
        if row["epoch"] >= 6 and t.best["epoch"] < row["epoch"] and not session.stop_requested:
            at_stop.update(_weights(t))  # the weights when the run stops, before keep-best
            session.request_stop()

    rec = Recorder(epochs=on_epochs)
    session = TrainingSession(rec, SessionOptions(progress_interval=0.0))
    session.run(t)
    (reason, kind), = rec.named("stopped")
    assert kind == "user" and session.kept_best_epoch == t.best["epoch"] < t.epoch
    assert f"kept the best weights (epoch {t.best['epoch']})" in reason
    final = _weights(t)
    for (nid, name), w in final.items():
        np.testing.assert_allclose(w, t._best_weights[nid][name], rtol=1e-6)
    assert any(not np.allclose(w, at_stop[k]) for k, w in final.items())


def test_stop_before_the_trainer_exists_trains_nothing(spiral):
    rec = Recorder()
    session = TrainingSession(rec)
    session.request_stop()
    t = Trainer(mlp(), spiral, epochs=3, batch_size=20, compare_float16=False)
    result = session.run(t)
    assert t.iteration == 0 and result["iterations"] == 0
    assert rec.named("stopped")[0][1] == "user" and rec.order()[-1] == "done"


def test_weights_final_comes_before_the_final_evaluation(spiral):
    t = Trainer(mlp(), spiral, epochs=2, batch_size=20, eval_batch_size=50)
    seen = {}
    rec = Recorder(weights_final=lambda: seen.update(_weights(t)))
    TrainingSession(rec).run(t)
    order = rec.order()
    final = order.index("weights_final")
    phases = [args[0]["phase"] for n, args in rec.calls[final:] if n == "phase"]
    assert "evaluation" in phases and "float16" in phases
    assert "epochs" not in order[final:] and "progress" not in order[final:]
    for k, w in _weights(t).items():
        np.testing.assert_array_equal(w, seen[k])  # the float16 check changed nothing for good


def test_views_are_paced_by_time_but_the_last_epoch_always_shows(spiral):
    t = Trainer(mlp(), spiral, epochs=6, batch_size=20, compare_float16=False)
    rec = Recorder()
    TrainingSession(rec, SessionOptions(views_interval=3600.0, snapshot_every=1)).run(t)
    # the first epoch (nothing shown yet) and the last one; none of the four between
    assert [args[0] for args in rec.named("histograms")] == ["epoch 1", "epoch 6"]
    assert len(rec.named("weights")) == 2
    filters = [args[0] for args in rec.named("filters")]
    assert filters[-1] == "after training" and "after epoch 6" in filters and "after epoch 3" not in filters
    rec = Recorder()
    TrainingSession(rec, SessionOptions(views_interval=0.0)).run(
        Trainer(mlp(), spiral, epochs=6, batch_size=20, compare_float16=False))
    assert len(rec.named("histograms")) == 6 and len(rec.named("weights")) == 6


def test_rows_held_back_still_arrive_when_the_run_fails(spiral):
    """Coalescing holds epoch rows back; a failure in the run must not lose them."""
    t = Trainer(mlp(), spiral, epochs=3, batch_size=20, compare_float16=False)
    original = t._end_epoch

    def end_epoch(*args):
        result = yield from original(*args)
        if t.epoch == 2:
            raise MemoryError("no room for epoch 3")
        return result

    t._end_epoch = end_epoch
    rec = Recorder()
    with pytest.raises(MemoryError):
        TrainingSession(rec, SessionOptions(progress_interval=10.0)).run(t)
    rows = [row["epoch"] for args in rec.named("epochs") for row in args[0]]
    assert rows == [1, 2]
