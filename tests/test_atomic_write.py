"""The one atomic-write helper: mode, umask, symlinks, stale temp files, error text."""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from graph.model import atomic_write as aw
from graph.model.atomic_write import atomic_write, clean_stale_temp_files
from graph.training.checkpoint import load_checkpoint, save_checkpoint
from graph.training.metrics import atomic_write_bytes


def test_new_file_honours_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "a.json", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o600


def test_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o640


def test_a_symlink_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_writer_callable_and_failure_removes_the_temp_file(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write(path, lambda fh: fh.write(b"abc"))
    assert path.read_bytes() == b"abc"

    def half(fh):
        fh.write(b"half")
        raise RuntimeError("serialiser broke")

    with pytest.raises(RuntimeError):
        atomic_write(path, half)
    assert path.read_bytes() == b"abc" and os.listdir(tmp_path) == ["a.bin"]


def test_full_disk_names_the_file_and_the_reason(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(tmp_path / "metrics.csv", b"1,2\n")
    assert info.value.filename == str(tmp_path / "metrics.csv")
    assert "no space left" in str(info.value) and info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_temp_files_of_killed_saves_are_cleaned_on_the_next_save(tmp_path):
    # a process that exited (pid now unused) left a temp file behind
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".g.json.bs{pid}-0123456789ab.tmp"
    stale.write_bytes(b"partial")
    mine = tmp_path / f".g.json.bs{os.getpid()}-0123456789ab.tmp"
    mine.write_bytes(b"a save in another thread")
    other = tmp_path / ".notes.tmp"
    other.write_bytes(b"not ours")
    atomic_write(tmp_path / "h.json", b"{}")
    names = sorted(os.listdir(tmp_path))
    assert stale.name not in names and mine.name in names and other.name in names
    assert clean_stale_temp_files(str(tmp_path / "missing")) == []


def test_checkpoints_and_run_files_use_the_helper(tmp_path, monkeypatch):
    calls = []
    real = aw.atomic_write

    def spy(path, data):
        calls.append(os.path.basename(os.fspath(path)))
        return real(path, data)

    monkeypatch.setattr("graph.training.metrics.atomic_write", spy)
    save_checkpoint(tmp_path / "checkpoint.npz", {"a": 1})
    atomic_write_bytes(tmp_path / "m.csv", b"")
    assert calls == ["checkpoint.npz", "m.csv"]
    assert load_checkpoint(tmp_path / "checkpoint.npz") == {"a": 1}
