"""Issue 15 item 1: the gradient check never calls a correct backprop wrong at ReLU/max-pool kinks."""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, Graph, templates
from graph.cli.common import digit_feed
from graph.cli.main import main as cli_main
from graph.run.gradcheck import gradcheck
from graph.run.kinks import branch_pattern, op_pattern
from layers.activations import ReLU

pytest.importorskip("pytestqt")

from gui_helpers import studio_home  # noqa: E402,F401


def digits_feed(g: Graph) -> dict:
    return {"x": digit_feed(g.node("x").params["shape"], 1)}


def test_convnet_on_a_digit_passes_with_kinks_skipped():
    g = templates.build("simple_convnet")
    results = gradcheck(g, feeds=digits_feed(g))
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    # blank pixels put conv1's outputs exactly at ReLU's kink: every bias nudge crosses one
    bias = next(r for r in results if r.check == "graph" and r.node == "conv1" and r.tensor == "param b")
    assert bias.skipped > 0 and bias.entries + bias.skipped <= 24


def test_kink_pattern_sees_relu_and_maxpool_switches():
    relu = ReLU()
    assert op_pattern(relu, np.array([-1.0, 0.0, 2.0])).tolist() == [False, False, True]
    g = Graph()
    g.add_node("Input", id="x", shape=[None, 1, 2, 2])
    g.add_node("MaxPool2D", id="pool", kernel_size=2, stride=2)
    g.add_node("Sum", id="s")
    g.connect("x", "pool")
    g.connect("pool", "s")
    eng = Engine(g)
    eng.forward({"x": np.zeros((1, 1, 2, 2))})
    before = branch_pattern(eng)
    eng.forward({"x": np.array([[[[0.0, 1e-6], [0.0, 0.0]]]])})
    assert not np.array_equal(before[0], branch_pattern(eng)[0])


def test_a_wrong_relu_rule_still_fails(monkeypatch):
    """Skipping kinks must not hide a wrong rule away from them."""
    def wrong(self, dout, cache, need_inputs=True):
        return [dout * cache * 1.01], {}

    monkeypatch.setattr(ReLU, "backward", wrong)
    g = templates.build("simple_convnet")
    results = gradcheck(g, feeds=digits_feed(g), node="relu1")
    assert any(not r.passed for r in results)


def test_cli_gradcheck_digits_exits_zero(capsys):
    rc = cli_main(["gradcheck", "simple_convnet", "--feed", "x=digits"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "entries skipped at kinks" in out and "switches a ReLU between off and on" in out


def test_gui_badge_is_neutral_about_kinks(qtbot, studio_home):
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.document.reset(templates.build("simple_convnet"), name="simple_convnet")
    ui = window.stepping
    window.show()
    window.scene.select_nodes(["x"])
    ui.inspector.input_editor.use_sample(0)
    window.scene.select_nodes(["conv1"])
    assert ui.inspector.check_node()
    qtbot.waitUntil(lambda: ui.inspector.check_button.isEnabled(), timeout=60000)
    assert "passed" in ui.inspector.badge.text() and "skipped at kinks" in ui.inspector.badge.text()
    assert not ui.inspector.kinks.isHidden() and "corner" in ui.inspector.kinks.text()
    assert ui.inspector.check_all()
    qtbot.waitUntil(lambda: ui.inspector.check_button.isEnabled(), timeout=60000)
    assert "0 failed" in ui.inspector.badge.text()
    assert all(ok for ok, _ in ui.overlay.badges.values())
