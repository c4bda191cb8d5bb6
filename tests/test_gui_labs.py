"""The Labs dock, each lab's panel driven as a user would, and the run comparison (pytest-qt)."""
from __future__ import annotations

import csv

import numpy as np

from gui_helpers import window  # noqa: F401 - fixture
from gui_helpers import studio_home  # noqa: F401 - fixture

TIMEOUT = 120_000


def set_fields(panel, **values):
    for name, value in values.items():
        panel.form.set_value(name, value)


def run_panel(qtbot, panel, **values):
    set_fields(panel, **values)
    with qtbot.waitSignal(panel.result_ready, timeout=TIMEOUT) as blocker:
        assert panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    return blocker.args[0]


def test_labs_menu_lists_every_lab_and_opens_its_tab(window):  # noqa: F811
    from graph.training.labs import LABS  # noqa: PLC0415

    names = [a.objectName() for a in window.menus.labs.actions() if a.objectName().startswith("actionLab_")]
    assert names == [f"actionLab_{n}" for n in LABS]
    window.labs.actions["overfit"].trigger()
    dock = window.labs.dock
    assert dock.isVisible()
    assert dock.ensure_built().currentWidget() is dock.panels["overfit"]
    assert dock.panels["overfit"].form.values()["train_size"] == "300"  # the book's defaults


def test_race_panel_contour_paths_slider_and_open_as_graph(window, qtbot, tmp_path):  # noqa: F811
    panel = window.labs.dock.show_lab("race")
    assert panel.form.editors["lr_sgd"].placeholderText() == "auto (0.95)"
    result = run_panel(qtbot, panel)
    assert set(panel.curves) == {"sgd", "momentum", "adagrad", "adam"}
    x, y = panel.curves["sgd"].getData()
    assert len(x) == 31 and (x[0], y[0]) == (-7.0, 2.0)
    panel.slider.setValue(5)
    x, _ = panel.curves["adam"].getData()
    assert len(x) == 6 and panel.step_label.text() == "step 5"
    assert panel.arrows.getData()[0] is not None and len(panel.arrows.getData()[0]) > 10
    panel.play()
    qtbot.waitUntil(lambda: panel.slider.value() == panel.slider.maximum(), timeout=20_000)
    assert panel.image.image is not None
    png = panel.export_png(str(tmp_path / "race.png"))
    assert png and (tmp_path / "race.png").read_bytes()[:4] == b"\x89PNG"
    written = panel.export_csv(str(tmp_path / "race.csv"))
    rows = list(csv.reader(open(written[0])))
    assert rows[0] == ["optimizer", "step", "x", "y", "f"] and len(rows) == 1 + 4 * 31
    np.testing.assert_allclose(np.array(result.data["paths"]["sgd"])[1], [-7 + 0.95 * 0.7, 2 - 0.95 * 4])
    # per-optimizer learning rate and another course
    set_fields(panel, function="rosenbrock", optimizers="sgd,adam", lr_adam="0.05", steps="10")
    assert panel.form.editors["lr_sgd"].placeholderText().startswith("auto (0.0008")
    result = run_panel(qtbot, panel)
    assert result.data["lr"]["adam"] == 0.05 and len(result.data["paths"]["sgd"]) == 11
    panel.graph_button.click()
    assert window.document.graph.has_node("x") and window.document.graph.has_node("f")
    assert window.document.graph.node("x").type == "Parameter"


def test_race_panel_bad_setting_is_one_message(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("race")
    set_fields(panel, steps="lots")
    assert not panel.start()
    assert "steps must be a whole number" in panel.status.text()


def test_optimizers_panel_live_curves_and_pause_resume_stop(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("optimizers")
    set_fields(panel, iterations="400", optimizers="sgd,adam")
    assert panel.start()
    qtbot.waitUntil(lambda: "sgd" in panel.series and len(panel.series["sgd"]["x"]) > 5, timeout=TIMEOUT)
    panel.toggle_pause()
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(300)
    seen = len(panel.series["sgd"]["x"])
    qtbot.wait(300)
    assert len(panel.series["sgd"]["x"]) <= seen + 25  # held (a batched update may still arrive)
    panel.toggle_pause()
    with qtbot.waitSignal(panel.result_ready, timeout=TIMEOUT) as blocker:
        panel.stop()
    result = blocker.args[0]
    assert result.stopped and len(result.data["losses"]["sgd"]) < 400
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=10_000)


def test_init_panel_grid_layers_across_choices_down(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("init")
    run_panel(qtbot, panel, activation="sigmoid", samples="200")
    assert len(panel.cells) == 4 * 5
    assert {c for (_, c) in panel.cells} == set(range(5)) and {r for (r, _) in panel.cells} == set(range(4))


def test_init_train_panel(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("init-train")
    result = run_panel(qtbot, panel, iterations="30")
    assert set(panel.series) == {"std=0.01", "Xavier", "He"}
    assert len(result.runs) == 3


def test_batchnorm_panel_small_multiples(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("batchnorm")
    run_panel(qtbot, panel, scales="2", epochs="2", train_size="200")
    assert len(panel.cells) == 2
    x, y = panel.cells[0][True].getData()
    assert len(x) == 3  # before training and after each epoch


def test_overfit_panel_and_run_comparison(window, qtbot, tmp_path):  # noqa: F811
    panel = window.labs.dock.show_lab("overfit")
    run_panel(qtbot, panel, epochs="3", train_size="200")
    assert set(panel.series) == {"λ = 0", "λ = 0.1"}
    assert len(panel.series["λ = 0"]["test"]) == 3
    runs = window.labs.runs.records
    assert [r.label for r in runs] == ["λ = 0", "λ = 0.1"]
    comparison = window.labs.show_comparison()
    assert window.training.views.tabs.currentWidget() is comparison
    assert [r.id for r in comparison.shown()] == [r.id for r in runs]
    assert len(comparison.loss_plot.listDataItems()) == 2
    comparison.accuracy.setCurrentText("test_acc")
    assert len(comparison.acc_plot.listDataItems()) == 2
    comparison.set_shown(runs[0].id, False)
    assert [r.id for r in comparison.shown()] == [runs[1].id]
    assert len(comparison.loss_plot.listDataItems()) == 1
    legend = [label.text for _, label in comparison.loss_plot.legend.items]
    assert legend == [runs[1].title]
    comparison.set_all(True)
    path = comparison.export_csv(str(tmp_path / "runs.csv"))
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["run", "label", "kind", "x", "column", "value"]
    assert {r[1] for r in rows[1:]} == {"λ = 0", "λ = 0.1"}
    assert comparison.export_png(str(tmp_path / "runs.png"))


def test_training_dock_runs_join_the_comparison(window, qtbot):  # noqa: F811
    window.open_template("two_layer_net", ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None, timeout=30_000)
    panel.settings.keep_final.setChecked(True)
    panel.settings.train_size.setValue(300)
    panel.settings.epochs.setValue(2)
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        assert panel.start(fresh=True)
    qtbot.waitUntil(lambda: len(window.labs.runs.records) == 1, timeout=10_000)
    rec = window.labs.runs.records[0]
    batches = -(-300 // panel.settings.batch_size.value())
    assert rec.source == "training" and len(rec.iterations) == 2 * batches and rec.lr
    assert [row["epoch"] for row in rec.epochs] == [1, 2]
    assert panel.last_result["restored_best"] is False
    with qtbot.waitSignal(panel.run_ended, timeout=TIMEOUT):
        assert panel.start(fresh=True)
    qtbot.waitUntil(lambda: len(window.labs.runs.records) == 2, timeout=10_000)
    comparison = window.labs.show_comparison()
    assert len(comparison.loss_plot.listDataItems()) == 2


def test_search_panel_scatter_table_narrow_and_final(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("search")
    run_panel(qtbot, panel, trials="4", epochs="1", train_size="100", val_size="50")
    assert panel.table.rowCount() == 4
    accs = [float(panel.table.item(r, 0).text()) for r in range(4)]
    assert accs == sorted(accs, reverse=True)
    assert len(panel.scatter.data) == 4
    first = panel.lab_settings()
    panel.k_spin.setValue(2)
    with qtbot.waitSignal(panel.result_ready, timeout=TIMEOUT):
        assert panel.narrow()
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    second = panel.lab_settings()
    assert second.round == 2 and first.lr_min <= second.lr_min <= second.lr_max <= first.lr_max
    assert second.lr_max / second.lr_min < first.lr_max / first.lr_min
    assert panel.table.rowCount() == 8 and len(panel.scatter.data) == 8
    panel.final_epochs.setValue(1)
    panel.table.selectRow(0)
    assert panel.final()
    qtbot.waitUntil(lambda: "Test accuracy" in panel.status.text(), timeout=TIMEOUT)
    assert "exactly once" in panel.status.text()
    qtbot.waitUntil(lambda: not panel.final_run.running, timeout=10_000)
    assert not panel.final_button.isEnabled() and not panel.final()  # the test set is used once
    assert window.labs.runs.records[-1].label.startswith("final")


def test_window_stays_responsive_while_a_lab_runs(window, qtbot):  # noqa: F811
    panel = window.labs.dock.show_lab("init-train")
    set_fields(panel, iterations="200")
    assert panel.start()
    ticks = []
    from PySide6.QtCore import QTimer  # noqa: PLC0415

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    qtbot.waitUntil(lambda: len(ticks) > 10, timeout=10_000)  # the event loop keeps turning
    timer.stop()
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT)
