"""Checkpoint files that cannot be resumed, and the one duration format of the CLI and GUI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st


def test_one_duration_format_for_cli_and_gui():
    from graph.training.events import fmt_duration

    assert [fmt_duration(s) for s in (0, 4.6, 65, 3599.4, 3723, -3)] == \
        ["0:00", "0:05", "1:05", "59:59", "1:02:03", "0:00"]
    assert fmt_duration(float("inf")) == fmt_duration(float("nan")) == "-:--"


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_a_formatted_duration_reads_back_as_the_rounded_seconds(seconds):
    from graph.training.events import fmt_duration

    parts = [int(p) for p in fmt_duration(seconds).split(":")]
    assert all(0 <= p < 60 for p in parts[1:]) and len(parts) == (3 if round(seconds) >= 3600 else 2)
    total = 0
    for p in parts:
        total = total * 60 + p
    assert total == round(seconds)


# -- checkpoint files that cannot be resumed ---------------------------------------------------------
def _checkpoint_with_header(path, header) -> None:
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), a0=np.zeros(3))


@pytest.mark.parametrize("header, message", [
    ({"format": "someone-elses-checkpoint", "version": 1, "state": {}}, "is not a Backprop Studio checkpoint"),
    ({"version": 1, "state": {}}, "is not a Backprop Studio checkpoint"),
    ({"format": "backprop-studio-checkpoint", "version": 2, "state": {}}, "checkpoint version 2 is not supported"),
    ({"format": "backprop-studio-checkpoint", "state": {}}, "checkpoint version None is not supported"),
])
def test_checkpoint_of_another_format_or_version_is_refused(tmp_path, header, message):
    from graph.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, {"epoch": 3, "w": np.arange(4.0)})
    state = load_checkpoint(path)
    assert state["epoch"] == 3 and np.array_equal(state["w"], np.arange(4.0))
    _checkpoint_with_header(path, header)
    with pytest.raises(CheckpointError, match=message) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name, message", [
    ("text.npz", "cannot read checkpoint"), ("noheader.npz", "is not a Backprop Studio checkpoint"),
    ("badjson.npz", "damaged header"), ("nostate.npz", "holds no state"),
])
def test_unreadable_checkpoints_are_one_clear_error(tmp_path, name, message):
    from graph.training.checkpoint import CheckpointError, load_checkpoint

    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.npz")
    path = tmp_path / name
    if name == "text.npz":
        path.write_bytes(b"not a zip file at all")
    elif name == "noheader.npz":
        np.savez(path, a0=np.zeros(2))
    elif name == "badjson.npz":
        np.savez(path, header=np.frombuffer(b"{not json", dtype=np.uint8))
    else:
        _checkpoint_with_header(path, {"format": "backprop-studio-checkpoint", "version": 1})
    with pytest.raises(CheckpointError, match=message) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)


def test_resuming_from_a_newer_checkpoint_says_so_in_one_line(tmp_path, capsys):
    from graph.cli.main import main

    run = tmp_path / "run"
    run.mkdir()
    _checkpoint_with_header(run / "checkpoint.npz", {"format": "backprop-studio-checkpoint", "version": 7,
                                                     "state": {}})
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint version 7 is not supported" in err[0] and "Traceback" not in err[0]
