"""The Training dock's settings form on its own (pytest-qt, offscreen): the CuPy entry on
any machine, and the entries that open the user's own .npz file or image folder."""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("pytestqt")


@pytest.mark.parametrize("gpu", [False, True])
def test_cupy_entry_follows_the_gpu_probe(qtbot, monkeypatch, gpu):
    """Both branches on any machine: no CuPy (the entry is disabled and says why) and a
    working one (the CPU stand-in: the entry is enabled and names the device)."""
    import cupy_standin  # noqa: PLC0415

    import graph.run.backend as backend  # noqa: PLC0415
    from app.training.settings import TrainingSettings  # noqa: PLC0415

    monkeypatch.setitem(sys.modules, "cupy", cupy_standin.make_module() if gpu else None)
    backend.clear_cache()
    try:
        ok, reason = backend.cupy_status()
        s = TrainingSettings()
        qtbot.addWidget(s)
    finally:
        monkeypatch.undo()
        backend.clear_cache()
    assert ok is gpu
    item = s.backend.model().item(1)
    assert item.isEnabled() is gpu
    if gpu:
        assert s.backend_note.text() == "CuPy 13.9.9 on CPU stand-in" and s.backend.itemText(1) == "CuPy (GPU)"
    else:
        assert s.backend_note.text() == f"CuPy unavailable: {reason}" and "not installed" in reason
        assert item.toolTip() == reason and s.backend.itemText(1).endswith("unavailable")


def _image_folder(root) -> None:
    """Two classes of 8x8 greyscale PGM images: ``dark`` (6 images) and ``light`` (4)."""
    rng = np.random.default_rng(0)
    for cls, n, lo in (("dark", 6, 0), ("light", 4, 128)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(lo, lo + 128, (8, 8), dtype=np.uint8)
            (root / cls / f"{i}.pgm").write_bytes(b"P5\n8 8\n255\n" + pixels.tobytes())


def test_custom_dataset_entries_open_a_file_or_a_folder(qtbot, monkeypatch, tmp_path):
    """The two "open" entries of the dataset list show the right dialog and load what the
    user picks: a real .npz file and a real image folder (only the modal dialog's exec is
    stood in for, choosing the path as a user would)."""
    from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415

    from app.training.settings import OPEN_FOLDER, OPEN_NPZ, TrainingSettings  # noqa: PLC0415

    s = TrainingSettings()
    qtbot.addWidget(s)
    npz_dialog = s.custom_dataset_dialog("npz")
    assert npz_dialog.fileMode() == QFileDialog.FileMode.ExistingFile
    assert npz_dialog.nameFilters() == ["NumPy archive (*.npz)"]
    assert s.custom_dataset_dialog("folder").fileMode() == QFileDialog.FileMode.Directory

    folder = tmp_path / "shapes"
    _image_folder(folder)
    rng = np.random.default_rng(1)
    npz = tmp_path / "points.npz"
    np.savez(npz, x=rng.random((50, 3)), y=rng.integers(0, 3, 50))
    picks = {QFileDialog.FileMode.ExistingFile: npz, QFileDialog.FileMode.Directory: folder}
    asked = []

    def choose(dialog):
        asked.append(dialog.fileMode())
        dialog.selectFile(str(picks[dialog.fileMode()]))
        return 1

    monkeypatch.setattr(QFileDialog, "exec", choose)
    s.dataset.activated.emit(s.dataset.findText(OPEN_NPZ))
    assert s.splits.sample_shape == (3,) and s.splits.num_classes == 3
    assert len(s.splits.y_train) + len(s.splits.y_val) + len(s.splits.y_test) == 50
    assert s.dataset.currentData() == str(npz)

    s.dataset.activated.emit(s.dataset.findText(OPEN_FOLDER))
    assert asked == [QFileDialog.FileMode.ExistingFile, QFileDialog.FileMode.Directory]
    splits = s.splits
    assert splits.class_names == ["dark", "light"] and tuple(splits.sample_shape) == (1, 8, 8)
    labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    assert sorted(labels.tolist()) == [0] * 6 + [1] * 4
    assert s.dataset.currentData() == str(folder)
    assert "2 classes" in s.split_label.text() and "(1, 8, 8) uint8" in s.split_label.text()
