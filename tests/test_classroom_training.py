"""Issue 15 (classroom-ready): the training dock's mechanisms, driven through pytest-qt (offscreen)."""
from __future__ import annotations


import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtWidgets  # noqa: E402

from gui_helpers import studio, studio_home  # noqa: E402,F401


# -- item 4: nothing stale after opening another graph -----------------------------------------
def test_opening_another_graph_forgets_the_last_run(studio, qtbot):
    from app.training.dock import NO_RUN_STATUS  # noqa: PLC0415
    from app.training.results import EMPTY_HEADLINE  # noqa: PLC0415

    window = studio("two_layer_net")
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None, timeout=60000)
    with qtbot.waitSignal(panel.run_ended, timeout=120000):
        assert panel.start(max_iterations=2, epochs=1)
        # a new run does not show the last run's numbers as its own
        assert panel.views.results.summary.text().startswith("This run's results")
    assert "accuracy" in panel.views.results.summary.text()
    assert len(panel.views.curves.it) > 0
    window.open_template("apple", ask=False)
    assert panel.dock.status.text() == NO_RUN_STATUS
    assert panel.views.results.summary.text() == EMPTY_HEADLINE
    assert panel.views.results.confusion.matrix is None and panel.views.results.gallery.count == 0
    assert len(panel.views.curves.it) == 0 and panel.last_result is None
    assert panel.dock.progress.value() == 0


# -- item 5: every training setting states its range and says why it refuses -----------------
def type_into(field, text: str) -> None:
    le = field.lineEdit()
    field.setFocus()
    le.selectAll()
    le.setText(text)
    le.textEdited.emit(text)
    field.interpretText()
    field.clearFocus()
    QtWidgets.QApplication.processEvents()


@pytest.mark.parametrize("name,text,why", [
    ("batch_size", "0", "0 is below the smallest batch size 1"),
    ("epochs", "0", "0 is below the smallest epochs 1"),
    ("batch_size", "abc", "'abc' is not a whole number"),
    ("beta1", "1", "above the largest beta1 0.9999 (must stay below 1)"),
])
def test_settings_refuse_bad_values_with_the_reason(qtbot, name, text, why):
    from app.training.settings import TrainingSettings  # noqa: PLC0415

    s = TrainingSettings()
    qtbot.addWidget(s)
    s.show()
    field = s.hyper_fields[name] if name == "beta1" else getattr(s, name)
    before = field.value()
    assert " to " in field.toolTip().splitlines()[0]      # the range is stated
    with qtbot.waitSignal(s.message) as blocker:
        type_into(field, text)
    assert field.value() == before
    assert why in blocker.args[0] and why in s.refusal.text() and not s.refusal.isHidden()
    type_into(field, str(before))                         # fixing it clears the refusal
    assert s.refusal.isHidden()


def test_optimizer_rejects_a_decay_of_one_and_says_so():
    from graph.training.optim import OPTIMIZERS  # noqa: PLC0415

    with pytest.raises(ValueError, match="beta1 must be at least 0 and below 1"):
        OPTIMIZERS["adam"](beta1=1.0)


def test_optimizer_change_says_it_reset_the_learning_rate(qtbot):
    from app.training.settings import TrainingSettings  # noqa: PLC0415

    s = TrainingSettings()
    qtbot.addWidget(s)
    s.optimizer.setCurrentIndex(s.optimizer.findData("sgd"))
    assert "Learning rate reset to" in s.lr_note.text() and not s.lr_note.isHidden()


# -- item 15: training settings saved in the graph's meta and restored on open ----------------
def test_training_settings_saved_with_the_graph_and_restored(studio, tmp_path, qtbot):
    window = studio("two_layer_net")
    s = window.training.settings
    s.batch_size.setValue(32)
    s.optimizer.setCurrentIndex(s.optimizer.findData("momentum"))
    s.hyper_fields["momentum"].setValue(0.8)
    s.clip_norm.setValue(5.0)
    s.monitor.setCurrentText("val_acc")
    s.data_options.scaling.setCurrentIndex(s.data_options.scaling.count() - 1)
    scaling = s.data_options.scaling.currentData()
    window.training.keeper.save()
    saved = window.document.meta["training"]
    assert saved["batch_size"] == 32 and saved["optimizer"] == "momentum" and saved["clip_norm"] == 5.0
    values = s.values()
    assert values["clip_norm"] == 5.0 and values["monitor"] == "val_acc"
    # one undoable step puts the old settings back in the document
    window.document.undo_stack.undo()
    assert window.document.meta.get("training", {}).get("batch_size") != 32
    window.document.undo_stack.redo()
    path = tmp_path / "net.json"
    assert window.save_to(str(path))
    window.open_template("apple", ask=False)
    s.batch_size.setValue(100)
    s.optimizer.setCurrentIndex(s.optimizer.findData("adam"))
    s.clip_norm.setValue(0.0)
    assert window.load_path(str(path))
    assert s.batch_size.value() == 32 and s.optimizer.currentData() == "momentum"
    assert abs(s.hyper_fields["momentum"].value() - 0.8) < 1e-9
    assert s.clip_norm.value() == 5.0 and s.monitor.currentText() == "val_acc"
    assert s.data_options.scaling.currentData() == scaling


# -- item 14: the training dock says why, and keeps still ---------------------------------------
def test_training_dock_stop_says_why_and_pause_is_off_while_stopping(studio, qtbot):
    window = studio("two_layer_net")
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None, timeout=60000)
    s = panel.settings
    s.schedule.setCurrentText("constant")
    lo, hi = s.schedule_plot.getViewBox().viewRange()[1]
    assert lo == 0.0 and hi >= s.lr.value()             # lr 0.001 is not drawn as a line at 0
    assert panel.dock.status.minimumHeight() >= 3 * panel.dock.status.fontMetrics().lineSpacing()
    with qtbot.waitSignal(panel.run_ended, timeout=120000):
        assert panel.start(epochs=1)
        panel.stop()
        assert not panel.dock.pause_button.isEnabled() and not panel.dock.resume_button.isEnabled()
    # never blank: how the run ended (a stop during preparation may still end as "done")
    text = panel.dock.progress.format()
    assert text.startswith("stopped by request") or text == "done"
