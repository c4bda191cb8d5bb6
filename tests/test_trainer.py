"""The trainer on toy data and tiny graphs: events, reproducibility, resume, NaN stop,
early stopping, stop, run-folder files and the toy accuracy targets (the ``train`` command
line: tests/test_trainer_cli.py; pausing is the session's: tests/test_session.py)."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from graph import Graph
from graph.training.datasets import DatasetError, DataSplits, load_dataset
from graph.training.trainer import (DoneEvent, EpochEvent, IterationEvent, PhaseEvent, StoppedEvent, TrainConfig,
                                    Trainer, TrainError)


def mlp(hidden=(16, 16), act="Tanh", inputs=2, classes=2, dropout=0.0) -> Graph:
    """Input (N, inputs) -> [Affine, act] * len(hidden) -> Affine classes -> softmax loss."""
    g = Graph()
    g.add_node("Input", id="x", shape=[None, inputs], role="data")
    g.add_node("Input", id="t", shape=[None], role="label")
    prev = "x"
    for i, h in enumerate(hidden):
        g.add_node("Affine", id=f"fc{i}", out_features=h, init="xavier")
        g.add_node(act, id=f"act{i}")
        g.connect(prev, f"fc{i}")
        g.connect(f"fc{i}", f"act{i}")
        prev = f"act{i}"
        if dropout:
            g.add_node("Dropout", id=f"drop{i}", ratio=dropout)
            g.connect(prev, f"drop{i}")
            prev = f"drop{i}"
    g.add_node("Affine", id="out", out_features=classes, init="xavier")
    g.connect(prev, "out")
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("out", "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
    return g


@pytest.fixture(scope="module")
def spiral():
    return load_dataset("spiral:noise=0.1,n=1000")


@pytest.fixture(scope="module")
def small():
    return load_dataset("circle:n=200,noise=0.05")


def _metrics(history):
    """Epoch rows without the wall-clock seconds (which differ from run to run)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def _weights(trainer):
    return {k: np.array(v) for k, v in trainer.engine.params_ref().items()}


# -- events ---------------------------------------------------------------------------------------
def test_events_in_order_with_the_notes_words(small):
    t = Trainer(mlp(), small, epochs=2, batch_size=32, compare_float16=False)
    events, final_eta = [], None
    for ev in t:
        events.append(ev)
        if isinstance(ev, IterationEvent) and ev.iteration == 10:
            final_eta = t._final_eta()  # the final evaluation's share, from the validation pace
    its = [e for e in events if isinstance(e, IterationEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert len(its) == 2 * t.steps_per_epoch == 2 * 5  # 160 training samples, batch 32
    assert [e.iteration for e in its] == list(range(1, 11))
    assert its[0].batches_per_epoch == 5 and its[0].samples_per_s > 0
    # at the last batch only the final evaluation is left
    assert all(e.eta_s > 0 for e in its) and its[-1].eta_s == final_eta > 0
    assert [e.epoch for e in epochs] == [1, 2]
    assert isinstance(events[-1], DoneEvent)
    r = events[-1].result
    for key in ("train_accuracy", "val_accuracy", "test_accuracy", "epochs", "seconds", "confusion_matrix"):
        assert key in r
    assert np.asarray(r["confusion_matrix"]).sum() == len(small.y_test)
    wrong = round((1 - r["test_accuracy"]) * len(small.y_test))
    assert len(r["misclassified"]) == wrong


def test_every_phase_is_announced_with_progress_and_weights_final_before_evaluating(small, tmp_path):
    t = Trainer(mlp(), small, epochs=2, batch_size=32, eval_batch_size=16, run_dir=tmp_path / "run")
    events = list(t)
    phases = [e for e in events if isinstance(e, PhaseEvent)]
    names = [p.phase for p in phases]
    assert names.count("checkpoint") == 2 and names[-1] == "writing"
    for name in ("validation", "evaluation", "float16"):
        steps = [p for p in phases if p.phase == name]
        # chunks of 16 samples: the done counts climb to the total
        assert len(steps) > 2 and steps[-1].done == steps[-1].total > 0
        assert [p.done for p in steps] != sorted({p.done for p in steps}, reverse=True)
    final = [i for i, p in enumerate(events) if isinstance(p, PhaseEvent) and p.weights_final]
    assert len(final) == 1
    first_eval = next(i for i, p in enumerate(events) if isinstance(p, PhaseEvent) and p.phase == "evaluation")
    assert final[0] == first_eval and all(not isinstance(e, (IterationEvent, EpochEvent)) for e in events[final[0]:])
    assert t.config.compare_float16 and "float16_test_accuracy" in t.result


def test_add_pause_leaves_held_time_out_of_epoch_seconds_and_eta(small):
    t = Trainer(mlp(), small, epochs=2, batch_size=32, compare_float16=False)
    held = 1.0     # long beside the run's compute, so the bounds below hold on a busy machine
    seen = []
    for ev in t:
        seen.append(ev)
        if isinstance(ev, IterationEvent) and ev.iteration == 2:
            time.sleep(held)  # the consumer holds the run mid-epoch ...
            t.add_pause(held)  # ... and says so
    first, second = (row["seconds"] for row in t.history)
    assert 0 < first < held / 2 and 0 < second < held / 2
    its = [e for e in seen if isinstance(e, IterationEvent)]
    # 3 batches of 32 in the epoch so far: counting the hold, fewer than 96 / held samples/s
    assert its[2].eta_s < held and its[2].samples_per_s > 2 * 96 / held
    assert t.result["seconds"] < held


def test_reproducible_for_a_seed_and_different_for_another(spiral):
    cfg = TrainConfig(epochs=3, batch_size=20, lr=0.01, compare_float16=False)
    runs = [Trainer(mlp(dropout=0.1), spiral, cfg, seed=s) for s in (3, 3, 4)]
    results = [r.run() for r in runs]
    assert _metrics(results[0]["history"]) == _metrics(results[1]["history"])
    for k, w in _weights(runs[0]).items():
        np.testing.assert_array_equal(w, _weights(runs[1])[k])
    assert _metrics(results[0]["history"]) != _metrics(results[2]["history"])


def test_resume_after_a_kill_equals_an_uninterrupted_run(spiral, tmp_path):
    cfg = TrainConfig(epochs=4, batch_size=40, optimizer="adam", lr=0.01, schedule="plateau:factor=0.5,patience=1",
                      compare_float16=False, seed=7)
    full = Trainer(mlp(dropout=0.2), spiral, cfg)
    full_result = full.run()

    killed = Trainer(mlp(dropout=0.2), spiral, cfg, run_dir=tmp_path / "run")
    for ev in killed:
        if isinstance(ev, IterationEvent) and ev.epoch == 3 and ev.batch == 5:
            break  # the process dies mid-epoch 3: epoch 2's checkpoint is on disk
    resumed = Trainer.from_checkpoint(tmp_path / "run", data=spiral)
    assert resumed.epoch == 2 and resumed.iteration == 2 * resumed.steps_per_epoch
    result = resumed.run()
    assert _metrics(result["history"]) == _metrics(full_result["history"])
    assert result["test_accuracy"] == full_result["test_accuracy"]
    for k, w in _weights(full).items():
        np.testing.assert_array_equal(w, _weights(resumed)[k])
    assert (tmp_path / "run" / "trained_graph.json").is_file()


def test_resume_reloads_the_dataset_by_name_and_extends_epochs(tmp_path):
    data = load_dataset("xor:n=200")
    Trainer(mlp(), data, epochs=1, batch_size=50, compare_float16=False, run_dir=tmp_path).run()
    more = Trainer.from_checkpoint(tmp_path, epochs=2)
    assert more.data.name == "xor:n=200"
    assert more.run()["epochs"] == 2


# -- stopping ----------------------------------------------------------------------------------------
def _overflow_graph() -> Graph:
    """Forward stays finite (the value underflows to 0) but the backward overflows at m2."""
    h = Graph()
    h.add_node("Input", id="x", shape=[None, 2], role="data")
    h.add_node("Input", id="t", shape=[None], role="label")
    h.add_node("Affine", id="fc", out_features=2)
    for name, value in (("c_small", 1e-30), ("c_big", 1e30)):
        h.add_node("Constant", id=name, value=value)
    chain = [("m1", "c_small"), ("m2", "c_small"), ("m3", "c_big"), ("m4", "c_big")]
    prev = "fc"
    h.connect("x", "fc")
    for node, const in chain:
        h.add_node("Mul", id=node)
        h.connect(prev, node, dst_port="a")
        h.connect(const, node, dst_port="b")
        prev = node
    h.add_node("SoftmaxCrossEntropy", id="loss")
    h.connect(prev, "loss", dst_port="x")
    h.connect("t", "loss", dst_port="t")
    return h


def _huge_forward_graph() -> Graph:
    h = Graph()
    h.add_node("Input", id="x", shape=[None, 2], role="data")
    h.add_node("Input", id="t", shape=[None], role="label")
    h.add_node("Affine", id="fc", out_features=2)
    h.add_node("Constant", id="big", value=1e30)
    h.add_node("Mul", id="scale1")
    h.add_node("Mul", id="boom")
    h.add_node("SoftmaxCrossEntropy", id="loss")
    h.connect("x", "fc")
    h.connect("fc", "scale1", dst_port="a")
    h.connect("big", "scale1", dst_port="b")
    h.connect("scale1", "boom", dst_port="a")
    h.connect("big", "boom", dst_port="b")
    h.connect("boom", "loss", dst_port="x")
    h.connect("t", "loss", dst_port="t")
    return h


def test_nan_in_the_forward_pass_names_the_node_and_keeps_weights(small):
    t = Trainer(_huge_forward_graph(), small, epochs=2, compare_float16=False)
    before = _weights(t)
    events = list(t)
    stop = next(e for e in events if isinstance(e, StoppedEvent))
    assert stop.kind == "nonfinite"
    assert "'boom' (Mul)" in stop.reason and "forward output" in stop.reason and "loss" in stop.reason
    assert not any(isinstance(e, EpochEvent) for e in events)
    for k, w in before.items():
        np.testing.assert_array_equal(_weights(t)[k], w)
    assert events[-1].result["stopped_kind"] == "nonfinite"


def test_inf_in_the_gradient_names_the_node(small):
    t = Trainer(_overflow_graph(), small, epochs=1, compare_float16=False)
    before = _weights(t)
    stop = next(e for e in t if isinstance(e, StoppedEvent))
    assert "gradient" in stop.reason and "'m2' (Mul)" in stop.reason
    for k, w in before.items():
        np.testing.assert_array_equal(_weights(t)[k], w)


def _opposite_validation() -> DataSplits:
    """A linearly separable training set whose validation set is the same points with the
    opposite labels: the better the fit, the worse the validation loss, every epoch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return DataSplits("opposite", x[:200], y[:200], x[:200], 1 - y[:200], x[200:], y[200:], ["a", "b"])


def test_early_stopping_restores_the_best_weights(tmp_path):
    """Epoch 1 is the best and the weights keep changing (lr > 0), so only a real restore
    brings epoch 1's weights back after epoch 3 (with lr = 0 a no-op restore passed)."""
    t = Trainer(mlp(), _opposite_validation(), epochs=10, optimizer="sgd", lr=0.1, early_stopping=2, compare_float16=False,
                run_dir=tmp_path)
    at_epoch = {}
    events = []
    for ev in t:
        events.append(ev)
        if isinstance(ev, EpochEvent):
            at_epoch[ev.epoch] = _weights(t)
    stop = next(e for e in events if isinstance(e, StoppedEvent))
    assert stop.kind == "early_stopping" and "val_loss" in stop.reason
    r = events[-1].result
    assert r["epochs"] == 3 and r["best_epoch"] == 1 and r["restored_best"]
    assert (tmp_path / "best.npz").is_file()
    final = _weights(t)
    for k, w in at_epoch[1].items():
        assert not np.allclose(at_epoch[3][k], w), f"{k} did not change after epoch 1"
        np.testing.assert_array_equal(final[k], w)


def test_early_stopping_on_accuracy_with_patience(spiral):
    t = Trainer(mlp(), spiral, epochs=60, batch_size=20, lr=0.01, early_stopping=3, monitor="val_acc",
                compare_float16=False)
    r = t.run()
    assert r["epochs"] < 60 and r["stopped_kind"] == "early_stopping"
    best = max(h["val_acc"] for h in r["history"])
    assert r["val_accuracy"] == pytest.approx(best)


def test_stop_from_another_thread_still_evaluates(spiral):
    t = Trainer(mlp(), spiral, epochs=50, batch_size=10, compare_float16=False)
    seen = []
    first = threading.Event()

    def worker():
        for ev in t:
            seen.append(ev)
            first.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert first.wait(5)
    t.request_stop()
    thread.join(10)
    assert not thread.is_alive()
    stop = next(e for e in seen if isinstance(e, StoppedEvent))
    assert stop.kind == "user" and t.epoch < 50
    assert isinstance(seen[-1], DoneEvent) and seen[-1].result["test_accuracy"] is not None


# -- checks and options -------------------------------------------------------------------------------
def test_graph_and_data_errors(small):
    g = mlp()
    g.add_node("Input", id="t2", shape=[None], role="label")
    with pytest.raises(TrainError, match="exactly one Input"):
        Trainer(g, small)
    with pytest.raises(DatasetError, match="expects"):
        Trainer(mlp(inputs=3), small)
    three = DataSplits("three", small.x_train, small.y_train % 3 + (small.y_train == 1) * 2, small.x_val,
                       small.y_val, small.x_test, small.y_test, ["a", "b", "c"])
    with pytest.raises(DatasetError, match="3 classes.*only 2"):
        Trainer(mlp(), three)
    with pytest.raises(TrainError, match="image samples"):
        Trainer(mlp(), small, augment="shift=2")
    with pytest.raises(TrainError, match="unknown optimizer"):
        Trainer(mlp(), small, optimizer="lbfgs")
    with pytest.raises(TrainError, match="unknown training option"):
        Trainer(mlp(), small, epoch=3)


def test_float64_training_and_float16_comparison(small):
    r = Trainer(mlp(), small, epochs=2, dtype="float64").run()
    assert r["dtype"] == "float64" and 0 <= r["float16_test_accuracy"] <= 1
    assert r["float64_test_accuracy"] == r["test_accuracy"]
    assert "rounded" in r["float16_measures"]


def test_float16_check_rounds_the_weights_and_puts_them_back(small):
    t = Trainer(mlp(), small, epochs=2, batch_size=16)
    result = t.run()
    trained = _weights(t)
    # the weights are the trained ones again, not their float16 roundings
    assert any(not np.array_equal(w, w.astype(np.float16).astype(w.dtype)) for w in trained.values())
    # what the check measured: the test split with every weight rounded to float16
    for (nid, name), w in trained.items():
        t.engine.set_param(nid, name, w.astype(np.float16).astype(np.float64))
    _, acc16, _ = t.evaluate("test")
    assert result["float16_test_accuracy"] == acc16


def test_augmented_images_and_one_hot_labels(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 1, 8, 8), dtype=np.uint8)
    y = (x[:, 0, :, :4].mean(axis=(1, 2)) > x[:, 0, :, 4:].mean(axis=(1, 2))).astype(int)
    np.savez(tmp_path / "imgs.npz", x=x, y=y)
    data = load_dataset(tmp_path / "imgs.npz")
    g = Graph()
    g.add_node("Input", id="img", shape=[None, 64], role="data")
    g.add_node("Input", id="onehot", shape=[None, 2], role="label")
    g.add_node("Affine", id="fc", out_features=2)
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("img", "fc")
    g.connect("fc", "loss", dst_port="x")
    g.connect("onehot", "loss", dst_port="t")
    r = Trainer(g, data, epochs=2, batch_size=16, augment="shift=1,rotate=5,scale=0.05",
                schedule="onecycle:max_lr=0.01", compare_float16=False).run()
    assert r["epochs"] == 2 and np.isfinite(r["train_loss"])


def _images_graph() -> Graph:
    g = Graph()
    g.add_node("Input", id="img", shape=[None, 1, 8, 8], role="data")
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("Flatten", id="flat")
    g.add_node("Affine", id="fc", out_features=2)
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("img", "flat")
    g.connect("flat", "fc")
    g.connect("fc", "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
    return g


def _batches_seen(trainer) -> dict:
    """Record the image batches the trainer feeds its engine: ``{train?: [array, ...]}``."""
    seen = {True: [], False: []}
    forward = trainer.engine.forward

    def recording(feeds=None, train=None):
        seen[bool(train)].append(np.array(feeds["img"]))
        return forward(feeds, train=train)

    trainer.engine.forward = recording
    return seen


def test_augmentation_changes_the_training_batches_the_engine_sees(tmp_path):
    """flip=1 mirrors every training image: the engine gets exactly the mirrored batches of
    an unaugmented run with the same seed, and the evaluation batches stay as they are."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 1, 8, 8), dtype=np.uint8)
    y = (x[:, 0, :, :4].mean(axis=(1, 2)) > x[:, 0, :, 4:].mean(axis=(1, 2))).astype(int)
    np.savez(tmp_path / "imgs.npz", x=x, y=y)
    data = load_dataset(tmp_path / "imgs.npz")
    runs = {}
    for augment in ("", "flip=1", "shift=2,rotate=10"):
        t = Trainer(_images_graph(), data, epochs=1, batch_size=16, augment=augment, compare_float16=False)
        runs[augment] = _batches_seen(t)
        t.run()
    plain = runs[""]
    assert len(plain[True]) == 6 and plain[False]  # 96 training samples in batches of 16, and evaluations
    for name in ("flip=1", "shift=2,rotate=10"):
        assert all(np.array_equal(a, b) for a, b in zip(runs[name][False], plain[False])), name
    for a, b in zip(runs["flip=1"][True], plain[True]):
        np.testing.assert_array_equal(a, b[..., ::-1])
    moved = [not np.array_equal(a, b) for a, b in zip(runs["shift=2,rotate=10"][True], plain[True])]
    assert all(moved)


def test_run_folder_files(small, tmp_path):
    Trainer(mlp(), small, epochs=2, run_dir=tmp_path / "r", compare_float16=False).run()
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"config.json", "metrics.csv", "metrics.json", "checkpoint.npz", "best.npz", "trained_graph.json",
            "confusion.csv", "confusion.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    rows = (tmp_path / "r" / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss,train_acc,val_loss,val_acc") and len(rows) == 3
    from graph.model.fileformat import load_graph

    g = load_graph(tmp_path / "r" / "trained_graph.json")
    assert g.node("fc0").weights["W"].shape == (2, 16)


# -- the toy targets (fast enough to run every time) ---------------------------------------------------
@pytest.mark.parametrize("spec, epochs, target", [
    ("spiral:noise=0.1,n=1000", 200, 0.97),
    ("xor:n=1000", 40, 0.98),
    ("circle:n=1000", 40, 0.98),
])
def test_toy_mlp_targets(spec, epochs, target):
    data = load_dataset(spec)
    r = Trainer(mlp(), data, epochs=epochs, batch_size=20, lr=0.01, compare_float16=False).run()
    assert r["test_accuracy"] >= target, r["history"][-1]


# -- audit fixes: NaN roll-back, float16 overflow, resume options ----------------------------------
def test_nan_stop_rolls_back_to_the_weights_before_the_bad_update(small, tmp_path, capsys):
    import warnings

    t = Trainer(mlp(act="ReLU"), small, TrainConfig(epochs=2, optimizer="sgd", lr=1e20, batch_size=20))
    before = _weights(t)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = t.run()
    assert result["stopped_kind"] == "nonfinite"
    # the first update blew up the weights; the second forward pass was non-finite, so the
    # weights from before that first update are back and their losses are reported
    for k, w in before.items():
        np.testing.assert_allclose(_weights(t)[k], w, rtol=1e-6)
    for key in ("train_loss", "val_loss", "test_loss"):
        assert result[key] is not None and np.isfinite(result[key]) and result[key] < 10
    assert result["float16_overflow"] is False

    from graph.cli.main import main
    rc = main(["train", "two_layer_net", "--optimizer", "sgd", "--lr", "1e20", "--epochs", "2", "--json",
               "--quiet", "--out", str(tmp_path / "nan")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert out["stopped_kind"] == "nonfinite" and out["test_loss"] < 10


def test_float16_overflow_is_reported_without_warnings(small):
    import warnings

    g = mlp()
    t = Trainer(g, small, epochs=1, compare_float16=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        t.engine.set_param("out", "b", np.full(2, 1e6))  # beyond float16's 65504
        result = t.run()
    assert result["float16_overflow"] is True
    assert "float16 overflow" in result["float16_note"]
