"""Training inside the app (pytest-qt, offscreen): a short run of ``simple_convnet`` on
``mnist-10k`` with pause, resume and stop; what the curves, filter viewer, results and the
document show afterwards; saving, reloading and continuing; errors as messages.

Runs are cut short with ``max_iterations`` (the worker then stops as the user would), so
each takes a few seconds, most of it the final evaluation of the 10,000 images.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from graph import Graph, templates  # noqa: E402
from graph.model.fileformat import load_graph  # noqa: E402

from app.training.dock import LOCK_REASON  # noqa: E402
from app.training.worker import RunConfig, prepare_graph  # noqa: E402

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def studio(qtbot, tmp_path, monkeypatch):
    """A main window with the training docks and ``simple_convnet`` open; returns ``(window, panel)``."""
    monkeypatch.setenv("BACKPROP_STUDIO_HOME", str(tmp_path / "home"))
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    panel = window.training
    window.resize(1400, 900)
    window.show()
    window.open_template("simple_convnet", ask=False)
    # as a user would: open the Training tab (this loads mnist-10k) and the views
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None)
    assert panel.settings.splits.name == "mnist-10k"
    QApplication.processEvents()
    yield window, panel
    panel.shutdown()


class Heartbeat:
    """A 10 ms timer on the GUI thread counting its ticks, and the count at each progress signal.

    The GUI thread must keep handling its own events while a run is active: then the
    count advances between the run's progress signals. (How long the longest gap is on a
    given machine is a figure for ``bench/gui_vs_cli.py`` (event-loop latency), not a test.)
    """

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.ticks = 0
        self.at_progress: list[int] = []
        self.max_gap = 0.0
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.max_gap = max(self.max_gap, now - self._last)
        self._last = now
        self.ticks += 1

    def progress(self, _p) -> None:
        self.at_progress.append(self.ticks)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def _canvas_state(window) -> tuple:
    """``(sorted node ids, position of conv1)`` of the document's graph."""
    g = window.document.graph
    return sorted(g.nodes()), g.node("conv1").position


def _try_canvas_edits(window) -> tuple:
    """Drag conv1 by its title, select pool1 and press Delete, drop a ReLU from the palette;
    returns :func:`_canvas_state` afterwards."""
    from PySide6.QtCore import QPoint, Qt  # noqa: PLC0415
    from PySide6.QtTest import QTest  # noqa: PLC0415

    from gui_helpers import click, drag, drop_type, title_pos  # noqa: PLC0415

    view = window.view
    start = title_pos(view, "conv1")
    drag(view, start, start + QPoint(60, 40))
    click(view, title_pos(view, "pool1"))
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    drop_type(view, "ReLU", (40, 40))
    QApplication.processEvents()
    return _canvas_state(window)


def wait_ended(qtbot, panel) -> str:
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as blocker:
        pass
    return blocker.args[0]


def test_short_run_pause_resume_stop(qtbot, studio):
    window, panel = studio
    views, dock = panel.views, panel.dock
    cm_before = np.array(window.document.graph.node("conv1").weights.get("W", np.zeros(1)))
    views.show()
    qtbot.waitUntil(lambda: views.filters.mosaic("conv1", "now") is not None)
    beat = Heartbeat()
    assert panel.start(fresh=True, max_iterations=40, compare_float16=False)
    assert panel.running
    beat.start()  # counted only while the run is active: from here to run_ended
    panel.progressed.connect(beat.progress)
    panel.run_ended.connect(beat.stop)
    # editing is locked, with the reason on show
    assert dock.banner.isVisible() and dock.banner.text() == LOCK_REASON
    assert not window.action_set["undo"].isEnabled() and not window.action_set["delete"].isEnabled()
    assert not dock.start_button.isEnabled() and dock.stop_button.isEnabled()
    # ... and the canvas takes no edit: a drag, the Delete key and a palette drop change nothing
    locked_before = _canvas_state(window)
    assert _try_canvas_edits(window) == locked_before

    qtbot.waitUntil(lambda: views.curves.point_count() >= 5, timeout=RUN_TIMEOUT_MS)
    panel.pause()
    assert dock.resume_button.isEnabled() and not dock.pause_button.isEnabled()
    # the batch in flight finishes, then the worker says it holds (after that batch's
    # progress, so the curves are complete)
    qtbot.waitUntil(lambda: panel.run.holding, timeout=RUN_TIMEOUT_MS)
    held = views.curves.point_count()
    worker = panel.run.worker
    assert worker.trainer.iteration == held
    for _ in range(5):
        QApplication.processEvents()
    assert views.curves.point_count() == held and worker.trainer.iteration == held, \
        "training went on while paused"
    assert "(paused)" in dock.progress.format()
    assert f"Paused after iteration {held}" in dock.status.text()
    panel.resume()
    qtbot.waitUntil(lambda: views.curves.point_count() > held, timeout=RUN_TIMEOUT_MS)
    panel.stop()
    outcome = wait_ended(qtbot, panel)

    assert outcome == "stopped"
    assert not panel.running and not dock.banner.isVisible()
    assert window.action_set["undo"].isEnabled()
    # curves received every iteration that ran, in order
    n = views.curves.point_count()
    assert held < n <= 40
    assert np.array_equal(views.curves.it.data, np.arange(1, n + 1))
    assert np.all(np.isfinite(views.curves.loss.data))
    # the first layer's filters changed between "before training" and "now"
    before, now = views.filters.mosaic("conv1", "before"), views.filters.mosaic("conv1", "now")
    assert before is not None and now is not None and before.shape == now.shape
    assert not np.allclose(np.nan_to_num(before), np.nan_to_num(now))
    change = views.filters.mosaic("conv1", "change")
    assert np.nanstd(change) > 0.05  # the learned change is not a blank
    views.hide()
    views.show()  # showing the views again keeps the run's filters
    qtbot.wait(50)
    assert views.filters.mosaic("conv1", "change") is change
    # the confusion matrix counts every test sample once
    result = panel.last_result
    cm = np.asarray(result["confusion_matrix"])
    assert cm.sum() == len(panel.settings.splits.y_test) == 1000
    assert np.array_equal(views.results.confusion.matrix, cm)
    assert views.results.gallery.count == min(60, len(result["misclassified"]))
    # histograms: the initial weights, and weights/activations/gradients where it stopped
    labels = [label for label, _ in views.results.histograms.snapshots]
    assert labels[0] == "before training" and labels[-1].startswith("at stop")
    kinds = {k for k, _ in views.results.histograms.snapshots[-1][1]}
    assert kinds == {"weights", "activations", "gradients"}
    # the trained weights are in the document, as one undoable step
    doc = window.document
    assert doc.is_modified
    trained = doc.graph.node("conv1").weights["W"]
    assert not np.array_equal(trained, cm_before)
    assert dock.continue_button.isEnabled()
    doc.undo_stack.undo()
    assert not np.array_equal(doc.graph.node("conv1").weights.get("W", cm_before), trained)
    doc.undo_stack.redo()
    assert np.array_equal(doc.graph.node("conv1").weights["W"], trained)
    # the GUI thread kept handling its events while the run was active: its timer ticked
    # between the run's progress signals (a run blocking the GUI thread delivers them all
    # with the same count)
    print(f"heartbeat: {beat.ticks} ticks, max gap {beat.max_gap * 1000:.1f} ms (figure only)")
    seen = beat.at_progress
    advanced = sum(b > a for a, b in zip(seen, seen[1:]))
    assert len(seen) >= 4 and advanced >= 2 * (len(seen) - 1) / 3, seen
    # unlocked again: the same edits go through (so the probe above could see them)
    before = _canvas_state(window)
    after = _try_canvas_edits(window)
    assert after[1] != before[1]  # conv1 moved
    assert len(after[0]) == len(before[0]) and after[0] != before[0]  # pool1 deleted, a ReLU dropped


def test_save_reload_and_continue_training(qtbot, studio, tmp_path):
    window, panel = studio
    # an ordinary Start, without showing the views first (regression: the activation
    # view had no graph then, and stayed empty)
    assert not panel.views.isVisible()
    assert panel.start(fresh=True, max_iterations=5, compare_float16=False)
    assert wait_ended(qtbot, panel) == "stopped"
    a = panel.views.activations
    assert a.graph is not None
    panel.views.show()
    qtbot.waitExposed(panel.views)
    panel.views.tabs.setCurrentWidget(a)
    a.index.setValue(5)
    qtbot.waitUntil(lambda: a.probabilities is not None and "conv1" in a.images)
    assert set(a.images) == {"conv1", "relu1", "pool1", "affine1", "relu2", "affine2"}
    assert a.probabilities.sum() == pytest.approx(1.0) and "predicted" in a.info.text()
    panel.views.hide()
    path = tmp_path / "trained.json"
    assert window.save_to(str(path))
    saved = window.document.graph.node("conv1").weights["W"].copy()
    assert np.allclose(load_graph(path).node("conv1").weights["W"], saved)

    window.open_template("two_layer_net", ask=False)
    assert not panel.dock.continue_button.isEnabled()  # a fresh example has no weights to continue from
    assert window.load_path(str(path))
    assert np.allclose(window.document.graph.node("conv1").weights["W"], saved)
    assert panel.dock.continue_button.isEnabled()
    # the filter viewer shows the loaded weights while idle
    from app.training.filters import filter_mosaic  # noqa: PLC0415

    assert np.allclose(np.nan_to_num(panel.views.filters.mosaic("conv1", "now")),
                       np.nan_to_num(filter_mosaic(saved)), atol=1e-6)

    assert panel.start(fresh=False, max_iterations=3, compare_float16=False)
    assert wait_ended(qtbot, panel) == "stopped"
    # continuing starts from the loaded weights, not from a fresh initialisation
    before = panel.views.filters.mosaic("conv1", "before")
    assert np.allclose(np.nan_to_num(before), np.nan_to_num(filter_mosaic(saved)), atol=1e-5)
    assert panel.views.curves.point_count() == 5 + 3  # the curves carry on


def test_fresh_start_reinitialises_and_dropout_override(qtbot):
    g = templates.build("simple_convnet")
    g.node("conv1").weights["W"] = np.ones((30, 1, 5, 5))
    assert prepare_graph(g, RunConfig(fresh=True)).node("conv1").weights == {}
    kept = prepare_graph(g, RunConfig(fresh=False)).node("conv1").weights["W"]
    assert np.array_equal(kept, g.node("conv1").weights["W"])
    assert kept is not g.node("conv1").weights["W"]

    # the override sets every Dropout node's ratio in the run's copy, not in the document
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 4], role="data")
    g.add_node("Dropout", id="d1", ratio=0.5)
    g.add_node("Affine", id="fc", out_features=3)
    g.add_node("Dropout", id="d2", ratio=0.2)
    g.connect("x", "d1")
    g.connect("d1", "fc")
    g.connect("fc", "d2")
    ratios = lambda graph: [graph.node(d).params["ratio"] for d in ("d1", "d2")]  # noqa: E731
    assert ratios(prepare_graph(g, RunConfig(dropout=0.3))) == [0.3, 0.3]
    assert ratios(g) == [0.5, 0.2]
    assert ratios(prepare_graph(g, RunConfig(dropout=None))) == [0.5, 0.2]
    # and the form passes its value on; its lowest value means "as in the graph"
    from app.training.settings import TrainingSettings  # noqa: PLC0415

    s = TrainingSettings()
    qtbot.addWidget(s)
    s.dropout.setValue(0.3)
    assert s.values()["dropout"] == pytest.approx(0.3)
    s.dropout.setValue(0.0)
    assert s.values()["dropout"] is None


def test_user_stop_keeps_the_best_epochs_weights(qtbot):
    """Stop after epoch 3 of a run whose best epoch is 1 (the validation labels are the
    training labels flipped, so each epoch of learning makes validation worse): the weights
    the run hands back are epoch 1's, not the current ones."""
    from app.training.worker import TrainingWorker  # noqa: PLC0415
    from graph.training.datasets import DataSplits  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    data = DataSplits("opposite", x[:200], y[:200], x[:200], 1 - y[:200], x[200:], y[200:], ["a", "b"])
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 2], role="data")
    g.add_node("Input", id="t", shape=[None], role="label")
    g.add_node("Affine", id="fc", out_features=2)
    g.add_node("SoftmaxCrossEntropy", id="loss")
    g.connect("x", "fc")
    g.connect("fc", "loss", dst_port="x")
    g.connect("t", "loss", dst_port="t")
    run = RunConfig(train={"epochs": 10, "batch_size": 20, "optimizer": "sgd", "lr": 0.1,
                           "compare_float16": False}, histograms=False, max_rate=1e9)  # a row per epoch
    worker = TrainingWorker(prepare_graph(g, run), data, run)
    after_epoch, stops, finished = {}, [], []
    improved = {}

    def on_epochs(rows):
        (e,) = rows
        improved[e["epoch"]] = e["improved"]
        eng = worker.trainer.engine
        after_epoch[e["epoch"]] = {"fc": {name: eng.param("fc", name) for name in ("W", "b")}}
        if e["epoch"] == 3:
            worker.request_stop()  # the user presses Stop during epoch 4

    worker.epochs_done.connect(on_epochs)
    worker.stopped.connect(lambda reason, kind: stops.append((reason, kind)))
    worker.finished.connect(lambda result, weights: finished.append(weights))
    worker.run()  # on this thread: the signals arrive directly
    assert improved == {1: True, 2: False, 3: False}
    assert len(stops) == 1 and stops[0][1] == "user" and "kept the best weights (epoch 1)" in stops[0][0]
    (final,) = finished
    for name in ("W", "b"):
        assert not np.allclose(after_epoch[3]["fc"][name], after_epoch[1]["fc"][name])
        np.testing.assert_array_equal(final["fc"][name], after_epoch[1]["fc"][name])


def test_untrainable_graph_reports_a_message(qtbot, studio):
    window, panel = studio
    window.open_template("apple", ask=False)
    assert panel.start(fresh=True, max_iterations=3)
    assert wait_ended(qtbot, panel) == "failed"
    text = panel.dock.status.text()
    assert "Training cannot run" in text and "Traceback" not in text
    assert window.log.last("error").startswith("Training cannot run")
    assert not panel.dock.banner.isVisible() and window.action_set["new"].isEnabled()


def test_settings_views_and_exports(qtbot, studio, tmp_path):
    window, panel = studio
    s = panel.settings
    assert "8000 train / 1000 validation / 1000 test" in s.split_label.text()
    # the learning-rate schedule preview follows the form
    s.schedule.setCurrentText("exponential")
    s.schedule_fields["gamma"].setValue(0.5)
    s.epochs.setValue(3)
    x, y = s.schedule_curve.getData()
    assert len(y) == 240 and y[0] == pytest.approx(s.lr.value()) and y[-1] < y[0] * 0.3
    assert s.values()["schedule"]["name"] == "exponential"
    # curves: hover read-out and exports
    c = panel.views.curves
    c.add_iterations([1, 2, 3], [2.0, 1.0, 0.5], [1e-3] * 3)
    c.add_epoch(1, 1.1, 0.6, 1.2, 0.55)
    c.redraw()
    assert "iteration 2: loss 1" in c.describe_at(c.loss_plot, 2.2)
    assert "val acc 0.55" in c.describe_at(c.acc_plot, 1.0)
    c.export_csv(str(tmp_path / "m.csv"))
    rows = (tmp_path / "m.csv").read_text().splitlines()
    assert rows[0].startswith("kind,iteration") and len(rows) == 1 + 3 + 1
    assert c.export_png(str(tmp_path / "m.png")) and (tmp_path / "m.png").stat().st_size > 1000
    # activations (built when the views are first shown): one image per layer, and class
    # probabilities that sum to 1
    a = panel.views.activations
    assert a.graph is None
    a.refresh()
    assert "No graph yet" in a.info.text()
    panel.views.show()
    qtbot.waitUntil(lambda: a.graph is not None)
    a.index.setValue(3)
    a.refresh()
    assert set(a.images) == {"conv1", "relu1", "pool1", "affine1", "relu2", "affine2"}
    assert a.probabilities is not None and a.probabilities.sum() == pytest.approx(1.0)
    assert a.images["conv1"].ndim == 2


@pytest.mark.slow
def test_full_epochs_then_continue(qtbot, studio):
    """Two real epochs: one fresh, one continued; epoch curves and histograms per epoch."""
    window, panel = studio
    panel.settings.epochs.setValue(1)
    assert panel.start(fresh=True, compare_float16=False)
    assert wait_ended(qtbot, panel) == "done"
    c = panel.views.curves
    first = panel.last_result
    assert c.point_count() == 80 and list(c.ep.data) == [1.0]
    assert first["test_accuracy"] > 0.9 and first["epochs"] == 1
    labels = [label for label, _ in panel.views.results.histograms.snapshots]
    assert labels == ["before training", "epoch 1"]
    assert {k for k, _ in panel.views.results.histograms.snapshots[1][1]} == {"weights", "activations", "gradients"}

    assert panel.start(fresh=False, compare_float16=False)
    assert wait_ended(qtbot, panel) == "done"
    assert c.point_count() == 160 and list(c.ep.data) == [1.0, 2.0]
    assert np.array_equal(c.it.data, np.arange(1, 161))
    assert panel.last_result["val_loss"] < first["val_loss"]


def test_divergence_rule():
    from app.training.outcome import divergence  # noqa: PLC0415

    falling = [2.3, 2.2, 2.0] + [1.0] * 20
    assert divergence(falling, [{"train_loss": 0.9, "train_acc": 0.7}], 10) is None
    assert divergence(falling, [], 10) is None
    assert divergence([2.3, 2.3, 2.3, 50.0], [{"train_loss": 40.0, "train_acc": 0.1}], 10) == (2.3, 40.0)
    # the start is the loss before the first update, even when the next ones explode
    assert divergence([2.5, 7e16, 1e27] + [3e5] * 9, [], 10) == (2.5, 3e5)
    # a continued run's noisy first batch is no divergence
    assert divergence([0.02] + [0.05] * 20, [{"train_loss": 0.06, "train_acc": 0.98}], 10) is None
    # accuracy at chance while the loss exploded on the way, even if the end looks tame
    assert divergence([2.3, 2.3, 2.3, 500.0, 2.0], [{"train_loss": 2.0, "train_acc": 0.1}], 10) == (2.3, 2.0)
    start, end = divergence([2.3, 2.3, 2.3], [], 10, nonfinite=True)
    assert start == pytest.approx(2.3) and np.isnan(end)
    assert divergence([2.3, 2.3, 2.3, 4.0, 5.0], [], 10) is None  # too few iterations to judge
    assert divergence([2.3] * 3 + [9.0] * 8, [], 10) == (2.3, 9.0)


def test_learning_rate_field_takes_1e6_and_explains_refusals(qtbot, studio):
    from PySide6.QtCore import Qt  # noqa: PLC0415
    from PySide6.QtTest import QTest  # noqa: PLC0415

    window, panel = studio
    s = panel.settings
    s.optimizer.setCurrentIndex(s.optimizer.findData("sgd"))

    def type_lr(text):
        s.lr.setFocus()
        s.lr.lineEdit().selectAll()
        QTest.keyClicks(s.lr, text)
        QTest.keyClick(s.lr, Qt.Key.Key_Return)

    type_lr("1e7")
    assert s.lr.value() == pytest.approx(0.01)  # unchanged, and the reason is shown
    assert s.lr_note.isVisibleTo(s) and "above the largest learning rate" in s.lr_note.text()
    assert "learning rate not changed" in window.log.last("warning")
    type_lr("1e6")
    assert s.lr.value() == pytest.approx(1e6) and s.values()["lr"] == pytest.approx(1e6)
    assert not s.lr_note.isVisibleTo(s)
    # the arrows step on a log scale
    s.lr.setValue(0.001)
    s.lr.stepBy(1)
    assert s.lr.value() == pytest.approx(0.002)
    s.lr.stepBy(-2)
    assert s.lr.value() == pytest.approx(0.0005)

    # a run at that rate diverges, and the end of the run says so instead of a plain success
    s.lr.setValue(1e6)
    assert panel.start(fresh=True, max_iterations=12, compare_float16=False)
    assert wait_ended(qtbot, panel) == "stopped"
    warnings = [text for level, text in window.log.entries if level == "warning"]
    assert any(t.startswith("training diverged: loss went from ") and t.endswith("lower the learning rate")
               for t in warnings), warnings
    assert not any(level == "success" and text.startswith("training finished")
                   for level, text in window.log.entries)
    assert "Training diverged" in panel.dock.status.text()


def test_results_captions_and_counts_are_legible_in_a_small_dock(qtbot):
    """Regression: in the default 1360x840 window the gallery's captions ran together
    ("3→25→83→0…") and the confusion counts were ~6 px."""
    from PySide6.QtGui import QFont, QFontMetricsF  # noqa: PLC0415

    from app.training.results import ConfusionMatrixView, MisclassifiedGallery  # noqa: PLC0415

    rng = np.random.default_rng(0)
    gallery = MisclassifiedGallery()
    qtbot.addWidget(gallery)
    gallery.resize(400, 210)
    gallery.show()
    qtbot.waitExposed(gallery)
    gallery.set_samples(rng.random((60, 28, 28)), rng.integers(0, 10, 60), rng.integers(0, 10, 60))
    qtbot.waitUntil(lambda: gallery.cols == gallery.best_cols())
    assert 6 <= gallery.cols < 60
    cap = gallery.captions
    tr = cap.deviceTransform(gallery.viewportTransform())
    px = cap.fit_px(tr)
    assert px >= cap.MIN_PX
    font = QFont()
    font.setPixelSize(px)
    widest = max(QFontMetricsF(font).horizontalAdvance(t) for _, _, t, _ in cap.labels)
    pitch = tr.map(cap.cell, 0.0)[0] - tr.map(0.0, 0.0)[0]
    assert widest < pitch, "captions of neighbouring tiles run together"

    cm = ConfusionMatrixView()
    qtbot.addWidget(cm)
    cm.resize(230, 230)
    cm.show()
    qtbot.waitExposed(cm)
    m = np.diag(np.full(10, 100)) + rng.integers(0, 9, (10, 10))
    cm.set_matrix(m)
    qtbot.waitUntil(lambda: cm.plot.vb.viewRect().contains(cm.image.mapRectToView(cm.image.boundingRect())))
    tr = cm.counts.deviceTransform(cm.viewportTransform())
    assert cm.counts.fit_px(tr) >= 7
