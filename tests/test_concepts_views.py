"""Headless models behind the concept panels: playground, truth tables, activation curves,
conv arithmetic and im2col (graph/views/)."""
from __future__ import annotations

import numpy as np
import pytest

from graph import Engine, templates
from graph.views import activation_curves as ac
from graph.views.conv_arithmetic import (
    ConvArithmeticError, axis_arithmetic, node_arithmetic, padding_advice, shape_note, suggest_padding,
)
from graph.views.im2col import Im2colError, Im2colView
from graph.views.playground import Playground, PlaygroundError, RefreshClock, expand
from graph.views.truth_table import TruthTable, TruthTableError, separable

QUADRANT_CENTRES = np.array([[3.0, 3.0], [-3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]])


# -- playground ---------------------------------------------------------------------------------
def test_xor_boundary_read_back_from_the_heat_map_classifies_the_quadrants():
    pg = Playground(templates.build("toy_mlp"), "xor", n=200, seed=0)
    pg.train_for(60.0, max_iterations=400)
    snap = pg.snapshot()
    assert snap.heat.shape == (len(snap.xs), len(snap.xs))
    assert ((snap.heat >= 0) & (snap.heat <= 1)).all()
    # the toy set's xor: class 1 where x1 · x2 >= 0
    np.testing.assert_array_equal(snap.classify(QUADRANT_CENTRES), [1, 0, 1, 0])
    assert snap.test_acc > 0.9
    assert snap.units["tanh1"].shape == (32, len(snap.xs), len(snap.xs))
    assert snap.units["features"].shape[0] == 2


def test_heat_map_orientation_rows_are_x2():
    pg = Playground(templates.build("toy_mlp"), "gauss", n=100)
    pg.train_for(60.0, max_iterations=150)
    snap = pg.snapshot(with_test=False)
    # gauss: class 1 around (2, 2), class 0 around (-2, -2)
    np.testing.assert_array_equal(snap.classify([[2.5, 2.5], [-2.5, -2.5]]), [1, 0])


def test_added_points_change_the_training_set():
    pg = Playground(templates.build("toy_mlp"), "circle", n=100, train_ratio=0.5)
    before = pg.splits()
    assert len(before.y_train) == 50 and len(before.y_test) == 50
    pg.add_point(0.5, -0.25, 0)
    after = pg.splits()
    assert len(after.y_train) == 51 and len(after.y_test) == 50
    assert after.x_train[-1].tolist() == [0.5, -0.25] and after.y_train[-1] == 0
    assert pg.trainer.n_train == 51            # the trainer trains on the new set
    pg.train_for(5.0, max_iterations=3)
    assert pg.remove_point(0.55, -0.2)          # the nearest point within the radius
    assert len(pg.splits().y_train) == 50
    assert not pg.remove_point(100.0, 100.0)


def test_noise_ratio_and_feature_inputs():
    pg = Playground(templates.build("toy_mlp"), "spiral", n=100, train_ratio=0.5)
    pg.set_data(train_ratio=0.8, noise=0.3)
    assert len(pg.splits().y_train) == 80
    pg.set_features(["x1", "x2", "x1²", "x2²", "x1·x2", "sin x1", "sin x2"])
    assert pg.graph.node("x").params["shape"] == [None, 7]
    assert pg.splits().x_train.shape[1] == 7
    pg.train_for(5.0, max_iterations=5)
    snap = pg.snapshot(with_test=False)
    assert snap.units["features"].shape[0] == 7
    np.testing.assert_allclose(expand([[2.0, 3.0]], ["x1·x2", "sin x2"]), [[6.0, np.sin(3.0)]])
    with pytest.raises(PlaygroundError, match="at least one"):
        pg.set_features([])


def test_playground_refuses_graphs_without_two_features():
    with pytest.raises(PlaygroundError, match=r"2 features"):
        Playground(templates.build("two_layer_net"))
    with pytest.raises(PlaygroundError, match="ratio"):
        Playground(templates.build("toy_mlp"), train_ratio=1.0)


def test_refresh_clock_keeps_a_few_per_second_within_budget():
    clock = RefreshClock(min_hz=3, max_hz=8, budget=0.05)
    assert RefreshClock().budget <= 0.10
    assert clock.due(0.0)
    clock.took(0.0, 0.004)        # cheap snapshot: as often as 8 per second
    assert clock.interval == pytest.approx(1 / 8)
    clock.took(1.0, 0.010)        # 10 ms: every 0.2 s keeps the cost at 5 %
    assert clock.interval == pytest.approx(0.2)
    assert not clock.due(1.1) and clock.due(1.21)
    clock.took(2.0, 1.0)          # slow: still at least 3 per second
    assert clock.interval == pytest.approx(1 / 3)
    clock.cost(0.0125)            # the painting that followed, known later, resets the rate
    assert clock.interval == pytest.approx(0.25) and clock.last == 2.0


# -- truth tables ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, ys", [("and_gate", [0, 0, 0, 1]), ("nand_gate", [1, 1, 1, 0]),
                                      ("or_gate", [0, 1, 1, 1]), ("xor_two_layer", [0, 1, 1, 0])])
def test_truth_tables_of_the_gates(name, ys):
    tt = TruthTable(templates.build(name))
    rows = tt.rows()
    assert [(r.x1, r.x2) for r in rows] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert [r.y for r in rows] == ys
    assert tt.gate() == {"and_gate": "AND", "nand_gate": "NAND", "or_gate": "OR", "xor_two_layer": "XOR"}[name]


def test_and_with_bias_minus_0_2_becomes_or():
    g = templates.build("and_gate")
    tt = TruthTable(g)
    (line,) = tt.lines()
    assert (line.w1, line.w2, line.b) == (0.5, 0.5, -0.7)
    edits = tt.edit(line, b=-0.2)
    assert edits == {"b": -0.2}
    for node, value in edits.items():
        g.set_params(node, value=value)
    assert [r.y for r in tt.rows()] == [0, 1, 1, 1]
    assert tt.gate() == "OR"
    assert tt.lines()[0].b == -0.2 and tt.lines()[0].name == "OR"


def test_weight_edit_moves_the_line_and_the_table():
    g = templates.build("or_gate")
    tt = TruthTable(g)
    for node, value in tt.edit(tt.lines()[0], w1=0.0).items():
        g.set_params(node, value=value)
    assert g.node("w").params["value"] == [[0.0], [0.5]]
    assert tt.gate() == "x2"
    (p, q) = tt.lines()[0].segment()
    assert p[1] == pytest.approx(0.4) and q[1] == pytest.approx(0.4)   # 0.5·x2 − 0.2 = 0: horizontal


def test_xor_panel_shows_two_lines_and_why_one_cannot_separate():
    tt = TruthTable(templates.build("xor_two_layer"))
    lines = tt.lines()
    assert [ln.name for ln in lines] == ["NAND", "OR"]
    assert all(ln.editable for ln in lines)
    assert not separable([0, 1, 1, 0]) and separable([0, 0, 0, 1])
    text = tt.explanation()
    assert "no single perceptron" in text and "NAND and OR" in text
    region = tt.region(n=21)
    assert region.shape == (21, 21)
    assert region[10, 10] == 1.0 and region[0, 0] == 0.0      # (0.5, 0.5) between the lines; (-0.5, -0.5) not
    edits = tt.edit(lines[1], b=-0.6)
    assert edits == {"b1": [0.7, -0.6]}


def test_truth_table_refuses_other_graphs():
    with pytest.raises(TruthTableError, match="two scalar inputs"):
        TruthTable(templates.build("two_layer_net"))
    with pytest.raises(TruthTableError, match="Step or Sigmoid"):
        TruthTable(templates.build("toy_mlp"))


# -- activation curves ------------------------------------------------------------------------
@pytest.mark.parametrize("op", ac.SUPPORTED)
def test_curves_derivative_matches_the_slope(op):
    c = ac.curves(op, {"alpha": 0.1} if op == "LeakyReLU" else None, n=1201)
    slope = np.gradient(c.y, c.x)
    away = np.abs(c.x) > 0.1                     # away from the kinks at 0
    np.testing.assert_allclose(c.dy[away], slope[away], atol=2e-3)


def test_marks_after_forward_and_backward():
    x = np.array([[-1.0, 0.5], [2.0, -3.0]])
    up = np.array([[1.0, 2.0], [0.5, 1.0]])
    m = ac.marks("ReLU", {}, x, up)
    np.testing.assert_array_equal(m.y, [0, 0.5, 2, 0])
    np.testing.assert_array_equal(m.local, [0, 1, 1, 0])
    np.testing.assert_array_equal(m.grad, [0, 2, 0.5, 0])
    sig = ac.marks("Sigmoid", {}, [0.0])
    assert sig.local[0] == pytest.approx(0.25) and sig.grad is None
    soft = ac.marks("Softmax", {}, np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0, 1.0]]), k=2)
    y = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    assert soft.y[0] == pytest.approx(y[2]) and soft.local[0] == pytest.approx(y[2] * (1 - y[2]))
    with pytest.raises(ac.ActivationPlotError, match="Sigmoid"):
        ac.curves("Conv2D")


# -- conv arithmetic ----------------------------------------------------------------------------
def test_calculator_suggests_padding_1_for_the_seeds_exercise():
    assert [c.pad for c in suggest_padding(5, 3, 2, 3)] == [1]
    assert suggest_padding(5, 3, 2, 3)[0].exact
    assert "P = 1" in padding_advice(5, 3, 2, 3)
    assert axis_arithmetic(5, 3, 2, 1).out == 3


def test_calculator_explains_28_5_stride_2():
    a = axis_arithmetic(28, 5, 2, 0)
    assert a.out == 12 and not a.exact and a.dropped == [27]
    assert "12.5 → 12" in a.formula()
    text = a.explanation()
    assert "the last row (row 27) fits no window and is dropped" in text
    col = axis_arithmetic(28, 5, 2, 0, "W")
    assert "the last column (column 27)" in col.explanation()
    assert axis_arithmetic(28, 5, 1, 0).exact
    with pytest.raises(ConvArithmeticError, match="does not fit"):
        axis_arithmetic(3, 5, 1, 0)


def test_node_arithmetic_reuses_the_layers_explanation():
    g = templates.build("simple_convnet")
    g.set_params("conv1", stride=2)
    info = node_arithmetic(g, "conv1")
    assert info.input_shape == (None, 1, 28, 28)
    assert [a.out for a in info.axes] == [12, 12]
    assert "rounded down" in info.lines[0]
    note = shape_note(g, "conv1")
    assert "12.5 → 12" in note and "row 27" in note and "column 27" in note
    assert shape_note(g, "relu1") == ""
    assert [a.out for a in node_arithmetic(g, "pool1").axes] == [6, 6]


# -- im2col --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, node", [("simple_convnet", "conv1"), ("lenet", "conv2"), ("all_conv", "conv2")])
def test_im2col_row_times_filter_is_the_output_entry(name, node):
    g = templates.build(name)
    eng = Engine(g, dtype="float64")
    x = np.random.default_rng(1).random((2, 1, 28, 28))
    eng.forward({"x": x, "t": np.array([3, 4])})
    view = Im2colView.from_engine(eng, node, sample=1)
    out = eng.value(node)[1]
    for oh, ow in ((0, 0), (view.oh - 1, view.ow - 1), (view.oh // 2, 1)):
        row = view.row_of(oh, ow)
        assert view.pixel_of(row) == (oh, ow)
        entry = view.entry(row, fn=2)
        assert entry.value == pytest.approx(float(entry.row @ entry.filter + entry.bias))
        assert entry.value == pytest.approx(out[2, oh, ow], abs=1e-12)
        top, left, fh, fw = view.field(row)
        patch = view.padded[:, top:top + fh, left:left + fw].reshape(-1)
        np.testing.assert_array_equal(patch, entry.row)
    np.testing.assert_allclose(view.output(0), out[0], atol=1e-12)
    with pytest.raises(Im2colError, match="Conv2D"):
        Im2colView.from_engine(eng, "x")


def test_coverage_map_marks_padding_and_dropped_rows():
    from graph.views.conv_arithmetic import DROPPED, PADDING, PADDING_DROPPED, USED, coverage_map

    m = coverage_map(axis_arithmetic(28, 5, 2, 0), axis_arithmetic(28, 5, 2, 0, "W"))
    assert m.shape == (28, 28)
    assert (m[27, :] == DROPPED).all() and (m[:, 27] == DROPPED).all() and (m[:27, :27] == USED).all()
    p = coverage_map(axis_arithmetic(5, 3, 2, 1), axis_arithmetic(5, 3, 2, 1, "W"))
    assert p.shape == (7, 7) and (p[0] == PADDING).all() and (p[1:6, 1:6] == USED).all()
    assert PADDING_DROPPED not in p


def test_activation_moment_from_recorded_steps():
    g = templates.build("toy_mlp")
    eng = Engine(g, dtype="float64")
    events = list(eng.steps({"x": np.array([[0.5, -1.0]]), "t": np.array([1])}))
    fwd = next(e.index for e in events if e.node == "tanh1" and e.phase == "forward")
    bwd = next(e.index for e in events if e.node == "tanh1" and e.phase == "backward")
    x, up = ac.moment(events, fwd - 1, "tanh1")
    assert x is None and up is None
    x, up = ac.moment(events, fwd, "tanh1")
    assert x.shape == (1, 32) and up is None
    x, up = ac.moment(events, bwd, "tanh1")
    m = ac.marks("Tanh", {}, x, up)
    np.testing.assert_allclose(m.grad, eng.grad("affine1").reshape(-1), rtol=1e-10)
