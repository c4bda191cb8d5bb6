"""The end of a GUI run (pytest-qt, offscreen): editing unlocks as soon as the weights are
final, while the final evaluation still runs; the progress bar names each phase; the
float16 check's result is in Results."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtWidgets  # noqa: E402

from gui_helpers import studio_home  # noqa: E402,F401 - a fixture
from tests.test_gui_training import studio, wait_ended  # noqa: E402,F401 - the fixture


def test_editing_unlocks_when_the_weights_are_final_and_phases_show(qtbot, studio):  # noqa: F811
    window, panel = studio
    assert panel.start(fresh=True, max_iterations=5)
    worker = panel.run.worker
    at_final, formats = [], []

    class Probe(QtCore.QObject):
        """Lives in the GUI thread and connects after the panel: sees the state its slots left."""

        @QtCore.Slot(object, object)
        def weights_ready(self, *_args):
            at_final.append((panel.running, panel.dock.banner.isVisible(), window.action_set["undo"].isEnabled(),
                             panel.dock.stop_button.isEnabled(), window.document.undo_stack.count()))

        @QtCore.Slot(object)
        def phase(self, ph):
            formats.append((ph["phase"], panel.dock.progress.format()))

    probe = Probe()
    worker.weights_ready.connect(probe.weights_ready)
    worker.phase.connect(probe.phase)
    assert wait_ended(qtbot, panel) == "stopped"
    (running, banner, undo, stop, steps), = at_final
    assert running and not banner and undo and not stop, "editing stayed locked until the evaluation ended"
    assert steps == window.document.undo_stack.count()  # the weights went in then, once
    shown = dict(formats)
    assert shown["evaluation"].startswith("evaluating the final weights")
    assert "/10,000" in [f for p, f in formats if p == "evaluation"][-1]
    assert shown["float16"].startswith("float16 check")
    result = panel.last_result
    assert result["float16_test_accuracy"] is not None
    summary = panel.views.results.summary.text()
    assert f"rounded to float16 {result['float16_test_accuracy']:.2%}" in summary


def test_histograms_are_drawn_when_shown_and_at_most_twelve_curves(qtbot):
    import numpy as np  # noqa: PLC0415

    from app.training.results import HistogramView  # noqa: PLC0415

    view = HistogramView()
    qtbot.addWidget(view)
    hist = (np.ones(40), np.linspace(-1, 1, 41))
    for i in range(30):  # a toy set's run sends a snapshot per epoch
        view.add_snapshot(f"epoch {i}", {("weights", "fc.W"): hist})
    assert len(view.plot.getPlotItem().listDataItems()) == 0  # hidden: nothing re-plotted yet
    view.show()
    qtbot.waitExposed(view)
    labels = [item.name() for item in view.plot.getPlotItem().listDataItems()]
    assert len(labels) == HistogramView.MAX_DRAWN and labels[0] == "epoch 0" and labels[-1] == "epoch 29"


def test_trimming_the_heap_looks_the_c_library_up_once(monkeypatch):
    import ctypes.util  # noqa: PLC0415

    from graph.run import perf  # noqa: PLC0415

    perf._libc.cache_clear()
    calls = []
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: calls.append(name) or real(name))
    for _ in range(3):
        perf.release_free_memory()
    assert len(calls) <= 1  # find_library runs ldconfig in a subprocess: not once per epoch


def test_a_toy_set_run_with_misclassified_points_shows_its_results(qtbot, studio):  # noqa: F811
    """2-D points are not images: the gallery says how many were wrong instead of the
    results slot failing (it raised TypeError and Results stayed empty)."""
    window, panel = studio
    window.open_template("toy_mlp", ask=False)
    assert panel.settings.load("spiral")
    panel.settings.epochs.setValue(2)
    assert panel.start(fresh=True, compare_float16=False)
    assert wait_ended(qtbot, panel) == "done"
    result = panel.last_result
    wrong = len(result["misclassified"]) if "misclassified" in result else result["misclassified_count"]
    assert wrong > 0, "two epochs on the spiral should leave some test points wrong"
    results = panel.views.results
    assert results.gallery.count == 0 and results.gallery.isHidden()   # the matrix gets the room
    assert f"Misclassified test samples</b>: {wrong} (points" in results.gallery_title.text()
    assert f"{result['test_accuracy']:.2%}" in results.summary.text()
    # the epochs' rows came together, yet each loss marker sits at its own epoch's end
    per_epoch = panel._started_info["iterations_per_epoch"]
    assert list(panel.views.curves.ep_it.data) == [per_epoch * 1.0, per_epoch * 2.0]


def test_curves_are_sized_at_start_as_the_trainer_counts(qtbot, studio):  # noqa: F811
    """The curves get the run's extent before the thread starts (drawing it later took the
    GIL from the first epochs); the trainer's own count agrees, also with a training-set
    size that is no multiple of the batch."""
    window, panel = studio
    window.open_template("toy_mlp", ask=False)
    assert panel.settings.load("spiral")
    panel.settings.epochs.setValue(3)
    panel.settings.batch_size.setValue(20)
    curves, sized = panel.views.curves, []
    original = curves.set_extent
    curves.set_extent = lambda iterations, epochs: sized.append((iterations, epochs)) or original(iterations, epochs)
    assert panel.start(fresh=True, compare_float16=False, train_size=150)
    assert sized == [(3 * 8, 3)]  # ceil(150 / 20) = 8 iterations an epoch
    assert wait_ended(qtbot, panel) == "done"
    assert sized == [(3 * 8, 3)], "the trainer counted otherwise: the curves were sized again"
    assert panel._started_info["total_iterations"] == 24


def test_start_paints_first_and_a_second_start_meanwhile_is_refused(qtbot, studio):  # noqa: F811
    """start() lets the window paint before the thread starts; a timer that fires then
    and asks for another run (or reads the buttons) sees the run already going."""
    from app import gc_guard  # noqa: PLC0415

    window, panel = studio
    window.open_template("toy_mlp", ask=False)
    assert panel.settings.load("spiral")
    panel.settings.epochs.setValue(2)
    seen = []
    QtCore.QTimer.singleShot(0, lambda: seen.append((panel.start(), panel.running,
                                                     panel.dock.start_button.isEnabled(),
                                                     panel.dock.stop_button.isEnabled())))
    assert panel.start(fresh=True, compare_float16=False)
    assert seen == [(False, True, False, True)]
    assert gc_guard.workers_running() == 1
    assert wait_ended(qtbot, panel) == "done"
    qtbot.waitUntil(lambda: gc_guard.workers_running() == 0)


def test_a_bad_override_is_refused_before_anything_locks(qtbot, studio):  # noqa: F811
    window, panel = studio
    assert not panel.start(fresh=True, batch_size=0)
    assert not panel.running and not panel.dock.banner.isVisible()
    assert "batch size" in panel.dock.status.text()
    assert window.action_set["undo"].isEnabled() or window.document.undo_stack.count() == 0


def test_the_toolbar_undo_follows_the_edit_lock(qtbot, studio):  # noqa: F811
    """The toolbar's Undo is a twin of Edit > Undo; the lock disabled only the menu's, and
    the toolbar's undid the last step mid-run."""
    window, panel = studio
    doc = window.document
    doc.undo_stack.clear()
    window.scene.select_nodes(["conv1"])
    window.action_set["delete"].trigger()
    assert doc.undo_stack.canUndo()
    twins = [a for a in window.main_toolbar.actions() if a.text() in ("Undo", "Redo")]
    undo = twins[0]
    assert len(twins) == 2 and undo.isEnabled()
    panel.set_locked(True)
    assert not undo.isEnabled()
    undo.trigger()
    assert doc.undo_stack.canUndo() and doc.undo_stack.index() == 1, "the locked toolbar Undo undid a step"
    panel.set_locked(False)
    assert undo.isEnabled()


def test_results_say_the_best_epoch_was_restored_and_forget_the_last_caption(qtbot):
    import numpy as np  # noqa: PLC0415

    from app.training.results import ResultsView  # noqa: PLC0415
    from graph.cli.train import _restored  # noqa: PLC0415

    view = ResultsView()
    qtbot.addWidget(view)
    result = {"test_accuracy": 0.5, "epochs": 60, "iterations": 240, "best_epoch": 4, "restored_best": True,
              "confusion_matrix": np.array([[10, 15], [10, 15]])}
    view.show_result(result)
    assert "weights of the best epoch (4), restored" in view.summary.text()
    assert "right" in view.confusion.plot.titleLabel.text
    view.clear("This run's results appear here when it finishes or is stopped.")
    assert "right" not in view.confusion.plot.titleLabel.text   # not the last run's accuracy
    assert "restored" in _restored(result) and _restored({**result, "best_epoch": 60}) == ""
    view.show_result({**result, "best_epoch": 60})
    assert "restored" not in view.summary.text()


def test_the_wheel_guard_goes_per_field_while_training_is_locked(qtbot, studio):  # noqa: F811
    """While the edit lock holds, no Python filter sits on the application (each GUI event
    would take the GIL from the trainer); fields in scroll areas stay guarded one by one,
    and the application-wide guard is back once the lock goes."""
    from PySide6 import QtWidgets  # noqa: PLC0415

    from gui_helpers import form_with_spin_box, wheel_down  # noqa: PLC0415

    window, panel = studio
    guard = QtWidgets.QApplication.instance()._wheel_guard
    area, spin = form_with_spin_box(window)
    bar = area.verticalScrollBar()
    wheel = lambda: wheel_down(spin)  # noqa: E731

    panel.set_locked(True)
    try:
        assert guard.suspended and spin in guard.per_field
        spin.clearFocus()
        wheel()            # guarded per field: the form scrolls, the value stays
        assert spin.value() == 20 and bar.value() > 0
    finally:
        panel.set_locked(False)
    assert not guard.suspended and guard.per_field == []
    bar.setValue(0)
    wheel()                # the application-wide guard again
    assert spin.value() == 20 and bar.value() > 0


def test_short_curves_stand_side_by_side(qtbot):
    """In a 720p window's bottom dock the stacked accuracy and learning-rate plots were a
    few pixels tall; a short widget puts the three plots in one row."""
    from app.training.curves import TrainingCurves  # noqa: PLC0415

    c = TrainingCurves()
    qtbot.addWidget(c)
    c.resize(700, 600)
    c.show()
    qtbot.waitUntil(lambda: c.height() == 600)
    rows = lambda: {c.layout_widget.ci.items[p][0][0] for p in (c.loss_plot, c.acc_plot, c.lr_plot)}  # noqa: E731
    legends = lambda: [p.legend.isVisible() for p in (c.loss_plot, c.acc_plot)]  # noqa: E731
    assert rows() == {0, 1} and not c._in_row
    assert legends() == [True, True] and not c.key.isVisible()
    c.resize(700, 240)
    qtbot.waitUntil(lambda: c._in_row)
    assert rows() == {0}
    # the legends covered the epoch markers there: one key line under the plots instead
    assert legends() == [False, False] and c.key.isVisible()
    assert "validation, epoch" in c.key.text() and "smoothed" in c.key.text()
    assert not c.loss_plot.titleLabel.isVisible() and c.loss_plot.getAxis("left").labelText == "loss"
    # the key wraps: one long line (~560 px) would hold the plots that wide
    assert c.key.minimumSizeHint().width() < 200
    c.resize(700, 600)
    qtbot.waitUntil(lambda: not c._in_row)
    assert rows() == {0, 1} and legends() == [True, True] and not c.key.isVisible()
    assert c.loss_plot.titleLabel.isVisible() and c.loss_plot.titleLabel.text == "Loss"


def test_opening_a_graph_picks_a_dataset_it_can_take(qtbot, studio):  # noqa: F811
    """toy_mlp (two features) opened after simple_convnet kept mnist-10k, which it cannot
    train on; a dataset that fits stays."""
    window, panel = studio
    assert panel.settings.splits.name == "mnist-10k"
    window.open_template("toy_mlp", ask=False)
    assert panel.settings.splits.name == "spiral"
    assert panel.settings.load("moons")
    window.open_template("toy_mlp", ask=False)
    assert panel.settings.splits.name == "moons"      # two features: it fits, it stays
    window.open_template("simple_convnet", ask=False)
    assert panel.settings.splits.name == "mnist-10k"


def test_the_training_dock_first_shown_for_toy_mlp_loads_a_toy_set(qtbot, studio_home):  # noqa: F811
    from gui_helpers import make_window  # noqa: PLC0415

    window = make_window(qtbot)
    window.open_template("toy_mlp", ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None)
    assert panel.settings.splits.name == "spiral"


def test_showing_the_dock_leaves_no_undo_step_and_a_step_pushed_mid_run_stays_locked(qtbot, studio_home):  # noqa: F811
    """Loading the dataset refilled the form with the same values, and the settings keeper
    saved them: an undo step and a modified file from only looking. And an Undo disabled
    when the lock came (empty stack) was enabled by a step pushed during the run."""
    from gui_helpers import make_window  # noqa: PLC0415

    window = make_window(qtbot)
    window.open_template("toy_mlp", ask=False)
    panel, stack = window.training, window.document.undo_stack
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None)
    qtbot.wait(600)                        # longer than the keeper's save delay
    assert stack.count() == 0 and stack.isClean()
    panel.set_locked(True)
    try:
        window.document.set_meta("note", {"any": 1})   # an undoable step while locked
        assert stack.canUndo() and not window.action_set["undo"].isEnabled()
        twins = [a for a in window.main_toolbar.actions() if a.text() == "Undo"]
        assert twins and not twins[0].isEnabled()
    finally:
        panel.set_locked(False)
    assert window.action_set["undo"].isEnabled()


def test_a_graph_without_saved_settings_gets_the_defaults(qtbot, studio):  # noqa: F811
    """simple_convnet opened after a 3000-epoch toy run kept the 3000 epochs."""
    window, panel = studio
    s = panel.settings
    default_epochs = s.epochs.value()
    s.epochs.setValue(3000)
    window.open_template("toy_mlp", ask=False)
    assert s.epochs.value() == default_epochs


def test_tab_goes_from_the_learning_rate_through_the_optimizer_options(qtbot, studio):  # noqa: F811
    """The options are rebuilt with each optimizer and came last in the Tab chain."""
    _window, panel = studio
    s = panel.settings
    s.optimizer.setCurrentIndex(s.optimizer.findData("adam"))
    chain, w = [], s.lr
    for _ in range(4):
        w = w.nextInFocusChain()
        while not isinstance(w, QtWidgets.QAbstractSpinBox):
            w = w.nextInFocusChain()
        chain.append(w)
    assert chain == [*s.hyper_fields.values(), s.weight_decay]


def test_an_empty_matrix_forgets_the_last_runs_class_labels(qtbot):
    import numpy as np  # noqa: PLC0415

    from app.training.results import ConfusionMatrixView  # noqa: PLC0415

    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_matrix(np.array([[3, 1], [0, 4]]))
    assert view.plot.getAxis("bottom")._tickLevels is not None
    view.forget()
    assert view.plot.getAxis("bottom")._tickLevels is None and view.plot.getAxis("left")._tickLevels is None


def test_locking_scrolls_the_form_back_to_its_banner(qtbot, studio):  # noqa: F811
    """The banner heads the scrolling form; Start sits outside it, so the form may be
    scrolled down when a run locks it."""
    window, panel = studio
    window.resize(1280, 500)
    bar = panel.dock.form_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    panel.set_locked(True)
    try:
        qtbot.waitUntil(lambda: not panel.dock.banner.visibleRegion().isEmpty())
        assert bar.value() == 0
    finally:
        panel.set_locked(False)



def test_the_epoch_axis_ticks_whole_epochs(qtbot):
    """A 3-epoch run's accuracy axis read 1, 1.5, 2, 2.5, 3."""
    from app.training.curves import TrainingCurves  # noqa: PLC0415

    c = TrainingCurves()
    qtbot.addWidget(c)
    c.resize(900, 380)
    c.show()
    for epochs, want in ((3, [1, 2, 3]), (37, [4, 8, 12, 16, 20, 24, 28, 32, 36])):
        c.set_extent(80 * epochs, epochs)
        major = c.acc_plot.getAxis("bottom").tickValues(0.5, epochs + 0.5, 400)[0][1]
        assert [float(v) for v in major] == want


def test_a_small_confusion_matrix_labels_every_other_class(qtbot):
    """In a 720p window's dock a 10-class matrix is ~100 px: ten labels overlapped."""
    from app.training.results import ConfusionMatrixView  # noqa: PLC0415

    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.show()
    labels = lambda side: [t for _, t in view.plot.getAxis(side)._tickLevels[0]]  # noqa: E731
    cm = np.eye(10, dtype=int) * 90 + 1
    view.resize(600, 600)
    view.set_matrix(cm)
    qtbot.waitUntil(lambda: len(labels("left")) == 10)
    view.resize(150, 150)
    qtbot.waitUntil(lambda: len(labels("left")) < 10)
    assert labels("left")[:2] == ["0", "2"] or labels("left")[:2] == ["0", "3"]
