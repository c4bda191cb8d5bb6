"""Item 6 of the concepts issue: crop, scaling and shuffle in the Training dock like the CLI,
and the augmentation preview grid (headless model + the widget)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from graph.cli.main import build_parser
from graph.cli.train import _config
from graph.training.datasets import DataSplits, DatasetError
from graph.training.trainer import Trainer
from graph.views.augment_preview import augment_preview
from graph import templates


def digits(n=12):
    rng = np.random.default_rng(0)
    x = np.zeros((n, 1, 8, 8), np.uint8)
    x[:, :, 2:6, 3:5] = rng.integers(100, 255, (n, 1, 4, 2))
    return x


def test_preview_rows_are_original_then_augmented():
    x = digits()
    grid = augment_preview(x, "crop=2", samples=3, copies=4, seed=1)
    assert grid.shape == (3 * 9 - 1, 5 * 9 - 1)
    tiles = [[grid[r * 9:r * 9 + 8, c * 9:c * 9 + 8] for c in range(5)] for r in range(3)]
    original = x[0, 0] / x[0, 0].max()
    np.testing.assert_allclose(tiles[0][0], original)            # first column: the sample itself
    assert any(not np.allclose(tiles[0][c], tiles[0][0]) for c in range(1, 5))
    plain = augment_preview(x, None, samples=2, copies=2)
    np.testing.assert_allclose(plain[:8, :8], plain[:8, 9:17])   # no augmentation: copies equal
    with pytest.raises(DatasetError, match="image"):
        augment_preview(np.zeros((4, 2)), "crop=1")
    with pytest.raises(DatasetError, match="whole pixels"):
        augment_preview(x, "crop=1.5")


def test_shuffle_off_visits_samples_in_order():
    x = np.random.default_rng(0).standard_normal((8, 2))
    y = np.array([0, 1] * 4)
    data = DataSplits("t", x, y, x[:2], y[:2], x[:2], y[:2], ["0", "1"], default_scaling="standardize")
    seen = {}
    for shuffle in (True, False):
        trainer = Trainer(templates.build("toy_mlp"), data, epochs=2, batch_size=4, shuffle=shuffle,
                          compare_float16=False)
        order = []
        feeds = trainer._feeds
        trainer._feeds = lambda split, idx, rng=None, f=feeds: (order.append([int(i) for i in idx]) if rng is not None else None,
                                                               f(split, idx, rng))[1]
        trainer.run()
        seen[shuffle] = order
    assert seen[False] == [[0, 1, 2, 3], [4, 5, 6, 7]] * 2
    assert seen[True] != seen[False]


def test_cli_no_shuffle_and_scaling_reach_the_config():
    args = build_parser().parse_args(["train", "toy_mlp", "--no-shuffle", "--scaling", "none"])
    cfg = _config(args)
    assert cfg.shuffle is False and cfg.scaling == "none"
    assert _config(build_parser().parse_args(["train", "toy_mlp"])).shuffle is True


def test_training_dock_has_crop_scaling_shuffle_and_a_preview(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_HOME", str(tmp_path / "home"))
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.open_template("simple_convnet", ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None)
    opts = panel.settings.data_options
    first = np.array(opts.preview_image.image, copy=True)
    opts.crop.setValue(4)
    opts.shuffle.setChecked(False)
    opts.scaling.setCurrentIndex(opts.scaling.findData("standardize"))
    QApplication.processEvents()
    v = panel.settings.values()
    assert v["augment"]["crop"] == 4.0 and v["shuffle"] is False and v["scaling"] == "standardize"
    assert not np.array_equal(np.nan_to_num(first), np.nan_to_num(opts.preview_image.image))
    assert "crop 4" in opts.preview_note.text()
    panel.settings.aug_rotate.setValue(15.0)
    assert "rotate 15" in opts.preview_note.text()
    panel.settings.load("xor")
    assert opts.preview.isHidden() and "images" in opts.preview_note.text()
    panel.shutdown()


# the stop still evaluates all of mnist-10k: about half a minute per network on 2 shared cores
@pytest.mark.parametrize("name", ["lenet", pytest.param("conv_residual", marks=pytest.mark.slow),
                                  pytest.param("deep_convnet", marks=pytest.mark.slow),
                                  pytest.param("all_conv", marks=pytest.mark.slow)])
def test_new_cnn_templates_train_from_the_training_dock(qtbot, tmp_path, monkeypatch, name):
    monkeypatch.setenv("BACKPROP_STUDIO_HOME", str(tmp_path / "home"))
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.show()
    window.open_template(name, ask=False)
    panel = window.training
    panel.dock.show()
    panel.dock.raise_()
    qtbot.waitUntil(lambda: panel.settings.splits is not None)
    panel.settings.batch_size.setValue(20)
    assert panel.start(fresh=True, max_iterations=2, compare_float16=False)
    with qtbot.waitSignal(panel.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "stopped"          # max_iterations ends it as a user's Stop would
    assert any(window.document.graph.node(n).weights for n in window.document.graph.nodes())
    panel.shutdown()
