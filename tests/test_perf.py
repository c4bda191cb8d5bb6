"""Process-level performance helpers: they never raise and numpy keeps working."""
import numpy as np

from graph.run import perf


def test_allocator_tuning_and_trim_are_harmless():
    assert isinstance(perf.tune_allocator(), bool)
    big = np.ones((2048, 2048))
    del big
    assert isinstance(perf.release_free_memory(), bool)
    assert float(np.ones(10).sum()) == 10.0
