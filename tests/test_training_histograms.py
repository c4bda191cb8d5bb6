"""The training views' histograms (app/training/worker.py ``histogram``): a big tensor is
sampled, and the percentages the view draws stay those of the whole tensor."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from app.training.worker import HIST_BINS, HIST_SAMPLE, histogram  # noqa: E402


def test_a_big_tensor_is_sampled_and_keeps_its_shares():
    rng = np.random.default_rng(0)
    acts = np.maximum(rng.normal(0.2, 1.0, size=(100, 30, 24, 24)), 0).astype(np.float32)  # ReLU output
    counts, edges = histogram(acts)
    assert len(counts) == HIST_BINS and len(edges) == HIST_BINS + 1
    assert HIST_SAMPLE // 2 <= counts.sum() <= HIST_SAMPLE
    full, _ = np.histogram(acts, bins=edges)
    share, full_share = counts / counts.sum(), full / full.sum()
    assert np.abs(share - full_share).max() < 0.01      # within one percentage point per bin
    assert share[0] == pytest.approx(full_share[0], abs=0.005)   # the ReLU's zeros


def test_small_tensors_are_counted_whole_and_non_finite_entries_left_out():
    v = np.array([1.0, 2.0, np.nan, np.inf, 3.0, -np.inf])
    counts, edges = histogram(v)
    assert counts.sum() == 3 and edges[0] == 1.0 and edges[-1] == 3.0
    counts, _ = histogram(np.arange(10))          # integers too
    assert counts.sum() == 10
    counts, edges = histogram(np.full(5, np.nan))  # nothing finite: an empty histogram
    assert counts.sum() == 0 and len(edges) == HIST_BINS + 1
    counts, edges = histogram(np.full(4, 2.5))     # one value: a unit-wide range around it
    assert counts.sum() == 4 and edges[0] == 2.0 and edges[-1] == 3.0


def test_a_range_of_a_few_float32_steps_and_a_layout_do_not_fool_it():
    # float32 edges over {1.0, 1.0000001} raised "Too many bins for data range"
    counts, _ = histogram(np.array([1.0, 1.0000001] * 10, np.float32))
    assert counts.sum() == 20
    counts, _ = histogram(np.array([0.99999994, 1.0], np.float32))
    assert counts.sum() == 2
    # a weight whose even class columns are 0 and odd ones 1: a strided sample would see
    # only one of them
    w = np.tile(np.array([0.0, 1.0], np.float32), (HIST_SAMPLE, 1))
    counts, _ = histogram(w)
    share = counts[-1] / counts.sum()
    assert 0.45 < share < 0.55
