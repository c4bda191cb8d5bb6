"""The concept panels in the window: Concepts menu, truth table edits through undo, activation
marks after a run, the calculator from a node, im2col hover, and the playground's clicks."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from graph import templates
from gui_helpers import make_window, studio_home  # noqa: F401 - fixture


@pytest.fixture
def win(qtbot, studio_home):  # noqa: F811 - the fixture above
    return make_window(qtbot)


def open_template(window, name):
    window.document.reset(templates.build(name), name=name)
    QApplication.processEvents()


def select(window, node_id):
    window.scene.select_nodes([node_id])
    QApplication.processEvents()


def test_concepts_menu_opens_each_panel(win):
    ui = win.concepts
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles.index("Concepts") == titles.index("Help") - 1
    for key in ("gate", "activation", "conv", "im2col"):
        ui.actions[key].trigger()
        assert ui.dock.isVisible() and ui.tabs.currentIndex() == ("gate", "activation", "conv", "im2col").index(key)
    ui.actions["playground"].trigger()
    assert ui.playground_dock.isVisible()


def test_truth_table_edit_goes_through_undo(win):
    open_template(win, "and_gate")
    win.concepts.show_tab("gate")
    panel = win.concepts.gate
    ys = [panel.table.item(i, 2).text() for i in range(4)]
    assert ys == ["0", "0", "0", "1"]
    assert panel.title.text().startswith("AND")
    panel.spins[0][3].setValue(-0.2)          # b
    assert win.document.graph.node("b").params["value"] == pytest.approx(-0.2)
    assert [panel.table.item(i, 2).text() for i in range(4)] == ["0", "1", "1", "1"]
    assert panel.title.text().startswith("OR")
    win.document.undo_stack.undo()
    assert [panel.table.item(i, 2).text() for i in range(4)] == ["0", "0", "0", "1"]
    assert panel.spins[0][3].value() == pytest.approx(-0.7)


def test_xor_panel_draws_two_lines(win):
    win.concepts.show_tab("gate")
    open_template(win, "xor_two_layer")
    panel = win.concepts.gate
    assert len(panel.line_items) == 2
    assert "no single perceptron" in panel.explanation.text()
    open_template(win, "two_layer_net")
    assert not panel.table.isEnabled() and "two scalar inputs" in panel.explanation.text()


def test_activation_plot_marks_inputs_after_a_run(win):
    open_template(win, "toy_mlp")
    win.concepts.show_tab("activation")
    select(win, "tanh1")
    panel = win.concepts.activation
    assert "tanh1" in panel.title.text()
    assert len(panel.f_curve.getData()[0]) > 100 and panel.f_marks.data.size == 0
    win.stepping.controller.run_forward()
    assert panel.f_marks.data.size > 0 and panel.d_marks.data.size == 0
    win.stepping.controller.run_backward()
    assert panel.d_marks.data.size > 0
    assert "∂L/∂x" in panel.summary.text()


def test_calculator_follows_the_selected_conv(win):
    g = templates.build("simple_convnet")
    g.set_params("conv1", stride=2)
    win.document.reset(g, name="strided")
    win.concepts.show_tab("conv")
    select(win, "conv1")
    panel = win.concepts.conv
    assert (panel.size_h.value(), panel.kernel.value(), panel.stride.value()) == (28, 5, 2)
    assert "12.5 → 12" in panel.formula.text()
    assert "row 27" in panel.explanation.text()
    panel.size_h.setValue(5)
    panel.size_w.setValue(5)
    panel.kernel.setValue(3)
    panel.wanted.setValue(3)
    assert "P = 1 gives 3 exactly" in panel.advice.text()


def test_inspector_explains_the_output_size(win):
    g = templates.build("simple_convnet")
    g.set_params("conv1", stride=2)
    win.document.reset(g, name="strided")
    select(win, "conv1")
    text = win.inspector.info["arithmetic"].text()
    assert "12.5 → 12" in text and "row 27" in text


def test_im2col_row_times_filter_equals_the_output_shown(win):
    open_template(win, "simple_convnet")
    win.concepts.show_tab("im2col")
    select(win, "conv1")
    panel = win.concepts.im2col
    assert panel.view is None
    win.stepping.controller.run_forward()
    assert panel.view is not None
    panel.filter.setValue(3)
    panel.set_row(panel.view.row_of(10, 7))
    entry = panel.shown_entry()
    out = win.stepping.controller.engine.value("conv1")[0, 3, 10, 7]
    assert entry.value == pytest.approx(float(entry.row @ entry.filter + entry.bias))
    assert entry.value == pytest.approx(out, rel=1e-5, abs=1e-6)
    assert f"{entry.value:.6g}" in panel.formula.text()
    # hovering the output pixel (2, 5) moves the highlight to its row
    img, vb = panel.images["output"]
    scene_pos = vb.mapViewToScene(QPointF(5.5, 2.5))
    panel._hover(scene_pos)
    assert panel.row == panel.view.row_of(2, 5)


def test_playground_trains_and_clicks_add_points(win, qtbot):
    open_template(win, "toy_mlp")
    win.concepts.show_tab("playground")
    panel = win.concepts.playground
    pg_ = panel.playground
    assert pg_ is not None
    n_train = len(pg_.splits().y_train)
    panel.cls.setCurrentIndex(1)
    vb = panel.plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(1.0, -2.0))

    class Click:
        def __init__(self, button):
            self._b = button

        def scenePos(self):  # noqa: N802 - mimics pyqtgraph's MouseClickEvent
            return scene

        def button(self):
            return self._b

        def accept(self):
            pass

    panel._clicked(Click(Qt.MouseButton.LeftButton))
    assert len(pg_.splits().y_train) == n_train + 1 and pg_.user_y.tolist() == [1]
    panel._clicked(Click(Qt.MouseButton.RightButton))
    assert len(pg_.user_y) == 0
    panel.set_training(True)
    qtbot.waitUntil(lambda: pg_.iteration > 20 and panel.snapshot is not None, timeout=60000)
    panel.set_training(False)
    assert panel.snapshot is not None and np.asarray(panel.heat.image).shape == pg_.snapshot(False).heat.shape
    assert set(panel.unit_images) >= {"features", "tanh1", "tanh2"}
    before = win.document.graph.node("affine1").weights.get("W")
    panel.apply_weights()                      # the trained weights go into the document, undoably
    trained = win.document.graph.node("affine1").weights["W"]
    assert before is None or not np.array_equal(before, trained)
    win.document.undo_stack.undo()
    after_undo = win.document.graph.node("affine1").weights.get("W")
    assert (after_undo is None) if before is None else np.array_equal(after_undo, before)
    panel.feature_boxes["x1·x2"].setChecked(True)
    assert pg_.features == ("x1", "x2", "x1·x2")
