"""Step backprop in the editor (pytest-qt, offscreen): the labels the canvas shows.

Labels are read from the node and edge items, not from the engine.
"""
from __future__ import annotations


import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtWidgets  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.stepping.cli_hook import apply_steps  # noqa: E402
from app.stepping.inputs import default_feeds, parse_value  # noqa: E402
from graph import templates  # noqa: E402
from gui_helpers import close_windows, studio_home  # noqa: E402,F401


@pytest.fixture
def open_example(qtbot, studio_home):
    """Open a built-in example in a fresh main window; returns ``(window, stepping ui)``.

    Windows are deleted and garbage collected right after the test, so the cyclic
    garbage of their plots does not pause a later test's GUI thread.
    """
    windows = []

    def _open(name: str):
        window = MainWindow(restore_layout=False)
        window.quiet = True
        window.prompt_unsaved = lambda: "discard"
        windows.append(window)
        window.document.reset(templates.build(name), name=name)
        ui = window.stepping
        window.resize(1280, 800)
        window.show()
        return window, ui

    yield _open
    close_windows(windows)


def shown(window) -> dict:
    """Everything the canvas shows as text: node overlays and states, edge labels, the
    active node's rule card and glow."""
    scene = window.scene
    nodes = {n: (i.overlay_above, i.overlay_below, i.state) for n, i in scene.nodes.items()}
    edges = {k: (i.value_text, i.grad_text) for k, i in scene.edges.items()}
    overlay = window.stepping.overlay
    rule = overlay.rule_item.text if overlay.rule_item is not None and overlay.rule_item.isVisible() else ""
    glow = overlay.glow.node_id if overlay.glow is not None and overlay.glow.isVisible() else ""
    return {"nodes": nodes, "edges": edges, "rule": rule, "glow": glow}


def test_apple_step_through_book_numbers(open_example):
    window, ui = open_example("apple")
    c = ui.controller
    snapshots = [shown(window)]
    while ui.actions.step.isEnabled() and c.step():
        snapshots.append(shown(window))
    assert c.index == c.count - 1 == 9
    scene = window.scene
    assert scene.nodes["mul_tax"].overlay_above == "220"
    assert scene.nodes["mul_tax"].overlay_below == "1"
    assert scene.edges[("mul_apple", "a")].value_text == "100"
    assert scene.edges[("mul_apple", "b")].value_text == "2"
    assert scene.edges[("mul_tax", "a")].value_text == "200"
    assert scene.edges[("mul_apple", "a")].grad_text == "2.2"
    assert scene.edges[("mul_apple", "b")].grad_text == "110"
    assert scene.edges[("mul_tax", "b")].grad_text == "200"
    assert scene.edges[("mul_tax", "a")].grad_text == "1.1"
    # step back restores each previous display exactly
    for k in range(len(snapshots) - 2, -1, -1):
        ui.actions.step_back.trigger()
        assert shown(window) == snapshots[k]
    assert c.index == -1
    assert all(i.state == "normal" and not i.overlay_above for i in scene.nodes.values())


def test_forward_shows_values_before_gradients(open_example):
    window, ui = open_example("apple")
    ui.actions.run_forward.trigger()
    scene = window.scene
    assert scene.nodes["mul_tax"].overlay_above == "220"
    assert scene.nodes["mul_tax"].state == "active"
    assert all(not e.grad_text for e in scene.edges.values())
    c = ui.controller
    c.jump(c.replay.event_index("mul_apple", "forward"))
    assert scene.nodes["mul_tax"].state == "dimmed" and not scene.nodes["mul_tax"].overlay_above


def test_apple_orange(open_example):
    window, ui = open_example("apple_orange")
    ui.actions.run_backward.trigger()
    scene = window.scene
    assert scene.nodes["mul_tax"].overlay_above == "715"
    assert scene.edges[("mul_orange", "a")].grad_text == "3.3"
    assert scene.edges[("mul_orange", "b")].grad_text == "165"
    assert scene.edges[("mul_tax", "b")].grad_text == "650"
    assert scene.edges[("mul_apple", "a")].grad_text == "2.2"
    assert scene.edges[("add_apple_orange", "a")].grad_text == "1.1"


def test_active_node_rule_with_numbers(open_example):
    window, ui = open_example("apple")
    c = ui.controller
    c.jump(0)
    c.jump(c.replay.event_index("mul_tax", "backward"))
    rule = ui.overlay.rule_item
    assert rule.isVisible()
    assert "∂L/∂mul_apple = ∂L/∂out × tax = 1 × 1.1 = 1.1" in rule.text
    assert ui.overlay.animation.state() == ui.overlay.animation.State.Running
    glow = ui.overlay.glow
    assert glow.isVisible() and glow.parentItem() is window.scene.nodes["mul_tax"]
    assert "∂L/∂tax = ∂L/∂out × mul_apple = 1 × 200 = 200" in ui.inspector.rule.text()


def test_timeline_lists_and_jumps(open_example):
    window, ui = open_example("apple")
    ui.controller.step()
    labels = ui.timeline.labels()
    assert len(labels) == 11 and "forward · mul_apple" in labels[3] and "backward · tax" in labels[7]
    ui.timeline.list.setCurrentRow(8)
    assert ui.controller.index == 7
    assert ui.controller.current_event().node == "mul_apple"
    ui.controller.step_back()
    assert ui.timeline.list.currentRow() == 7


def test_play_runs_to_the_end(open_example, qtbot):
    window, ui = open_example("apple")
    c = ui.controller
    c.set_speed(30)
    ui.actions.play.trigger()
    assert c.playing
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    assert c.index == c.count - 1
    assert window.scene.nodes["apple"].overlay_below == "2.2"


def test_editing_the_graph_drops_the_run(open_example):
    window, ui = open_example("apple")
    ui.controller.run_backward()
    window.document.set_params("tax", value=1.2)
    assert ui.controller.replay is None
    assert all(e.value_text is None for e in window.scene.edges.values())
    ui.controller.run_backward()
    assert window.scene.nodes["mul_tax"].overlay_above == "240"


def test_conv_inspector_shows_channel_grid(open_example):
    window, ui = open_example("simple_convnet")
    c = ui.controller
    c.run_forward()
    x = c.events[c.replay.event_index("x", "forward")].output
    assert x.shape == (1, 1, 28, 28)
    window.scene.select_nodes(["conv1"])
    view = ui.inspector.view_named("output")
    assert view is not None and view.mode == "grid" and view.grid == (5, 6)
    assert view.image_data().shape == (5 * 25 - 1, 6 * 25 - 1)
    assert view.stats.nan == 0 and view.hist is not None
    c.run_backward()
    assert ui.inspector.view_named("∂L/∂W").mode == "grid"
    edge = window.scene.edges[("relu1", "x")]
    assert edge.value_text is None and edge.value_pixmap is not None


def test_input_editor_feeds_a_digit(open_example):
    window, ui = open_example("simple_convnet")
    window.scene.select_nodes(["x"])
    editor = ui.inspector.input_editor
    assert not editor.isHidden() and editor.node == "x"
    editor.use_sample(3)
    feeds = ui.controller.feeds
    assert feeds["x"].shape == (1, 1, 28, 28) and feeds["t"].shape == (1,)
    ui.controller.run_forward()
    assert ui.controller.events[0].output.shape == (1, 1, 28, 28)
    editor.randomise()
    assert ui.controller.replay is None


def test_parse_value_and_default_feeds():
    np.testing.assert_array_equal(parse_value("[1, 2, 3]", [None, 3]), [[1, 2, 3]])
    assert parse_value("2", [None, 2, 2]).shape == (1, 2, 2)
    with pytest.raises(ValueError, match="does not fit"):
        parse_value("[1, 2]", [None, 3])
    g = templates.build("simple_convnet")
    feeds = default_feeds(g, {})
    assert feeds["x"].shape == (1, 1, 28, 28) and feeds["t"].dtype.kind == "i"


def test_gradient_check_badges(open_example, qtbot):
    window, ui = open_example("apple")
    ui.controller.run_backward()
    window.scene.select_nodes(["mul_tax"])
    assert ui.inspector.check_node()
    qtbot.waitUntil(lambda: ui.inspector.check_button.isEnabled(), timeout=20000)
    assert "passed" in ui.inspector.badge.text()
    assert ui.inspector.check_all()
    qtbot.waitUntil(lambda: ui.inspector.check_button.isEnabled(), timeout=20000)
    assert ui.overlay.badges and all(ok for ok, _ in ui.overlay.badges.values())
    # with a node still selected, "Check all" shows the summary, not that node's result
    assert ui.inspector.node == "mul_tax"
    text = ui.inspector.badge.text()
    assert f"{len(ui.inspector.checked)} nodes checked, 0 failed" in text and "max rel. error" not in text


def test_steps_hook_for_screenshots(open_example):
    window, ui = open_example("apple")
    assert apply_steps(window, 7)
    assert ui.controller.index == 6
    assert window.scene.nodes["mul_tax"].overlay_above == "220"
    assert apply_steps(window, 0) and ui.controller.index == -1


def test_a_graph_that_cannot_run_is_reported(open_example):
    window, ui = open_example("apple")
    window.document.disconnect("mul_tax", "b")
    assert not ui.controller.step()
    assert ui.controller.replay is None
    assert "cannot run the graph" in window.log.last("error")
    assert ui.timeline.labels() == [ui.timeline.labels()[0]] and "Not run yet" in ui.timeline.labels()[0]


def test_command_line_steps_in_process(qapp, studio_home, tmp_path, monkeypatch):
    from app import gui_main  # noqa: PLC0415
    from app.stepping import cli_hook  # noqa: PLC0415

    seen = []

    def spy(window, n):
        ok = real(window, n)
        seen.append((n, window.stepping.controller.index, window.scene.edges[("mul_tax", "b")].grad_text))
        return ok

    real = cli_hook.apply_steps
    monkeypatch.setattr(cli_hook, "apply_steps", spy)
    shot = tmp_path / "apple_backward.png"
    assert gui_main.run(["open", "apple", "--steps", "7", "--screenshot", str(shot), "--size", "1000x700"]) == 0
    assert seen == [(7, 6, "200")]
    assert shot.stat().st_size > 10_000


def test_command_line_steps_keep_a_wide_graph_readable(qapp, studio_home, tmp_path, monkeypatch):
    """--steps on a small screen zooms to readable text around the active step, not to "…"."""
    from app import gui_main  # noqa: PLC0415
    from app.canvas.readability import readable_zoom  # noqa: PLC0415
    from app.stepping import cli_hook  # noqa: PLC0415

    zooms = []

    def spy(window, n):
        ok = real(window, n)
        zooms.append(window.view.zoom())
        return ok

    real = cli_hook.apply_steps
    monkeypatch.setattr(cli_hook, "apply_steps", spy)
    shot = tmp_path / "apple_orange.png"
    assert gui_main.run(["open", "apple_orange", "--steps", "18", "--screenshot", str(shot),
                         "--size", "1280x720"]) == 0
    assert len(zooms) == 1 and zooms[0] >= readable_zoom() - 1e-6


@pytest.mark.parametrize("shape", [(1, 10), (10,), (3, 12), (2, 2)])
def test_table_rows_are_not_hidden_by_the_scroll_bar(qtbot, shape):
    from app.tensor_view import TensorView  # noqa: PLC0415

    view = TensorView(histogram=False)
    qtbot.addWidget(view)
    view.resize(300, 400)
    view.set_tensor("x", np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    view.show()
    qtbot.waitExposed(view)
    assert view.mode == "table"
    table = view._pages["table"]
    QtWidgets.QApplication.processEvents()
    overflows = table.horizontalHeader().length() > table.viewport().width()
    assert table.horizontalScrollBar().isVisible() == overflows
    last = table.visualItemRect(table.item(table.rowCount() - 1, 0))
    assert last.height() > 0 and last.bottom() < table.viewport().height(), \
        f"last row {last} outside the {table.viewport().height()} px viewport"


@pytest.mark.parametrize("name", ["apple", "apple_orange"])
def test_rule_card_covers_no_node_or_edge_label(open_example, name):
    from app.stepping.canvas_overlay import _obstacles  # noqa: PLC0415

    window, ui = open_example(name)
    c = ui.controller
    c.jump(0)
    for k in range(c.count):
        c.jump(k)
        rule = ui.overlay.rule_item
        if not rule.isVisible():
            continue
        card = rule.mapRectToScene(rule.boundingRect())
        covered = [o for o in _obstacles(window.scene) if card.intersects(o)]
        assert not covered, f"moment {k}: the rule card {card} covers {covered}"
