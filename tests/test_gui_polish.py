"""Issue 15 item 14 leftovers: the class probability chart shows every bar, tick and its
title at its narrowest; the step inspector shows no empty rule box when nothing is selected."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.training.activations import ActivationViewer  # noqa: E402
from graph import templates  # noqa: E402
from graph.training.datasets.base import DataSplits  # noqa: E402
from gui_helpers import studio_home  # noqa: E402,F401


def tiny_digits(n: int = 4) -> DataSplits:
    """``n`` random 28×28 uint8 'digits' per split, ten classes."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = np.arange(n, dtype=np.int64) % 10
    return DataSplits("tiny", x, y, x, y, x, y, class_names=[str(k) for k in range(10)],
                      default_scaling="unit")


def test_probability_chart_shows_every_bar_tick_and_title(qtbot):
    viewer = ActivationViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 320)
    viewer.show()
    viewer.set_graph(templates.build("simple_convnet"))
    viewer.set_data(tiny_digits())
    plot = viewer.prob_plot
    # the splitter squeezes the chart to its minimum width, as a crowded dock does
    plot.parent().setSizes([10_000, 1])
    qtbot.wait(50)
    assert plot.width() <= plot.minimumWidth() + 5
    p = viewer.probabilities
    assert p is not None and len(p) == 10
    (x0, x1), (y0, y1) = plot.getPlotItem().viewRange()
    # bars are centred on 0..K-1 with width 0.8; every one lies inside the view
    assert x0 <= -0.4 and x1 >= len(p) - 1 + 0.4
    assert y0 <= 0.0 and y1 >= 1.0
    ticks = plot.getAxis("bottom")._tickLevels[0]
    assert [t[0] for t in ticks] == list(range(10))
    # the plot item fits its widget (a wide title once stretched it past the right edge,
    # cutting off the last bars), and the last bar's right edge and the title are on screen
    item = plot.getPlotItem()
    assert item.width() <= plot.width()
    right = item.getViewBox().mapViewToScene(QtCore.QPointF(len(p) - 1 + 0.4, 0.5)).x()
    assert 0 < right <= plot.width()
    assert item.titleLabel.item.boundingRect().width() <= item.width()


def test_no_empty_rule_box_when_nothing_is_selected(qtbot, studio_home):
    window = MainWindow(restore_layout=False)
    window.quiet = True
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    inspector = window.stepping.inspector
    inspector.show()
    inspector.raise_()
    qtbot.wait(20)
    assert inspector.header.text().startswith("Nothing to inspect")
    assert not inspector.rule.isVisible()
    inspector.refresh()
    assert not inspector.rule.isVisible()
    window.close()
    QtCore.QCoreApplication.processEvents()
