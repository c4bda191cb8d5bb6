"""Learning-rate schedules: formulas, curves, plateau logic and the CLI spec parser."""
from __future__ import annotations

import numpy as np
import pytest

from graph.training.schedules import (Constant, Exponential, OneCycle, PiecewiseConstant, Power, ReduceOnPlateau,
                             ScheduleError, make_schedule, parse_spec)


def test_constant_curve():
    c = make_schedule(None, lr=0.01).curve(5)
    assert c.shape == (5,) and c.dtype == np.float64 and np.all(c == 0.01)


def test_piecewise_constant_boundaries_are_iterations():
    s = make_schedule("steps:boundaries=1000,2000;values=1e-3,5e-4,1e-4")
    assert isinstance(s, PiecewiseConstant)
    assert [s.lr(t) for t in (0, 999, 1000, 1999, 2000, 10**6)] == [1e-3, 1e-3, 5e-4, 5e-4, 1e-4, 1e-4]
    g = make_schedule({"name": "steps", "boundaries": [10]}, lr=0.1)
    assert g.lr(9) == 0.1 and g.lr(10) == pytest.approx(0.01)
    with pytest.raises(ScheduleError, match="one more value"):
        make_schedule("steps:boundaries=10,20;values=1,2")


def test_exponential_gamma_is_per_epoch_by_default():
    s = make_schedule("exponential:gamma=0.95", lr=0.1, steps_per_epoch=80)
    assert isinstance(s, Exponential)
    assert s.lr(0) == 0.1
    assert s.lr(80) == pytest.approx(0.095)
    assert s.lr(160) == pytest.approx(0.1 * 0.95 ** 2)
    assert Exponential(1.0, gamma=0.5, step=1).curve(4).tolist() == [1, 0.5, 0.25, 0.125]


def test_power_schedule():
    s = Power(0.1, step=10, power=1)
    assert s.lr(0) == 0.1 and s.lr(10) == pytest.approx(0.05) and s.lr(30) == pytest.approx(0.025)
    assert make_schedule("power:power=2", lr=1.0, steps_per_epoch=5).lr(5) == pytest.approx(0.25)


def test_reduce_on_plateau_after_patience_epochs():
    s = make_schedule("plateau:factor=0.5,patience=2", lr=0.1)
    assert isinstance(s, ReduceOnPlateau)
    lrs = []
    for metric in (1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5):
        s.step_epoch(metric)
        lrs.append(s.lr(0))
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    state = s.state_dict()
    t = make_schedule("plateau:factor=0.5,patience=2", lr=0.1)
    t.load_state_dict(state)
    assert t.lr(0) == 0.025 and t.best == 0.5
    s.step_epoch(float("nan"))  # ignored
    assert s.bad_epochs == 0
    m = ReduceOnPlateau(1.0, factor=0.1, patience=1, mode="max", min_lr=0.05)
    for acc in (0.5, 0.4, 0.3):
        m.step_epoch(acc)
    assert m.lr(0) == 0.05


def test_onecycle_shape():
    s = make_schedule("onecycle:max_lr=0.01", total_iterations=1000)
    assert isinstance(s, OneCycle)
    c = s.curve(1000)
    peak = int(np.argmax(c))
    assert c.max() == pytest.approx(0.01) and 400 <= peak <= 500
    assert c[0] == pytest.approx(0.001)
    assert np.all(np.diff(c[:peak]) > 0) and np.all(np.diff(c[peak:]) <= 1e-15)
    assert c[-1] == pytest.approx(0.001 / 1000, rel=0.02)


def test_spec_parser_accepts_commas_and_semicolons():
    assert parse_spec("plateau:factor=0.5,patience=2") == ("plateau", {"factor": 0.5, "patience": 2})
    name, opts = parse_spec("steps:boundaries=1000,2000;values=1e-3,5e-4,1e-4")
    assert name == "steps" and opts == {"boundaries": [1000.0, 2000.0], "values": [1e-3, 5e-4, 1e-4]}


@pytest.mark.parametrize("spec, match", [
    ("cosine", "unknown schedule"),
    ("exponential:gamma=abc", "must be numbers"),
    ("exponential:0.9", "key=value"),
    ("exponential:gamma=0.9,foo=1", "foo"),
    ("plateau:factor=2", "< 1"),
    ("constant:lr=-1", ">= 0"),
])
def test_bad_specs_raise_schedule_error(spec, match):
    with pytest.raises(ScheduleError, match=match):
        make_schedule(spec)


def test_every_schedule_prints_a_curve():
    for s in (Constant(0.1), PiecewiseConstant(0.1, [2]), Exponential(0.1, 0.9), Power(0.1),
              ReduceOnPlateau(0.1), OneCycle(max_lr=0.1, total=10)):
        c = s.curve(10)
        assert c.shape == (10,) and np.all(c > 0) and s.describe()


# -- audit fixes ------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, fragment", [
    ("power:c=10", "schedule 'power' has no option c (it has: lr, step, power)"),
    ("exponential:gama=0.9", "schedule 'exponential' has no option gama (it has: lr, gamma, step)"),
    ({"name": "onecycle", "maxlr": 0.1}, "has no option maxlr (it has: lr, max_lr, total"),
])
def test_unknown_schedule_option_lists_the_valid_ones(spec, fragment):
    from graph.training.schedules import ScheduleError, make_schedule

    with pytest.raises(ScheduleError) as info:
        make_schedule(spec, 0.01, 10, 100)
    assert fragment in str(info.value)
