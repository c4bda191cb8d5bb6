"""The batch-split worker threads (layers.parallel) give exactly the single-threaded bits."""
from __future__ import annotations

import numpy as np
import pytest

from layers import make_op, parallel


@pytest.fixture
def threads():
    """Restore the thread setting after a test that changes it."""
    old = parallel.threads()
    yield
    parallel.set_threads(old)


def _run(op, x, params, threads: int):
    parallel.set_threads(threads)
    out, cache = op.forward([x], params, True)
    dout = np.random.default_rng(7).standard_normal(out.shape).astype(out.dtype)
    in_grads, p_grads = op.backward(dout, cache, True)
    return np.array(out), [np.array(g) for g in in_grads], {k: np.array(v) for k, v in p_grads.items()}


def _big_batch(shape=(64, 16, 28, 28), relu=True):
    """float32 images, more than MIN_ELEMENTS of them; after ReLU many exact zeros (ties)."""
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    assert x.size > parallel.MIN_ELEMENTS
    return np.maximum(x, 0) if relu else x


@pytest.mark.parametrize("type_name, config, params, relu", [
    ("ReLU", {}, {}, False),
    ("MaxPool2D", {"kernel_size": 2, "stride": 2}, {}, True),
    ("MaxPool2D", {"kernel_size": 3, "stride": 2, "padding": 1}, {}, True),
    ("Conv2D", {"out_channels": 8, "kernel_size": 3, "padding": 1}, "init", False),
])
def test_threaded_matches_single_threaded_bit_for_bit(threads, type_name, config, params, relu):
    x = _big_batch(relu=relu)
    op = make_op(type_name, **config)
    if params == "init":
        shapes = op.param_shapes(x.shape)
        params = {k: np.asarray(v, dtype=np.float32)
                  for k, v in op.init_params(shapes, np.random.default_rng(0)).items()}
        params["b"] = np.linspace(-1, 1, shapes["b"][0], dtype=np.float32)
    one = _run(op, x, params, 1)
    two = _run(op, x, params, 2)
    assert np.array_equal(one[0], two[0])
    assert all(np.array_equal(a, b) for a, b in zip(one[1], two[1]))
    assert one[2].keys() == two[2].keys()
    assert all(np.array_equal(one[2][k], two[2][k]) for k in one[2])


def test_conv_input_gradient_threaded_matches(threads):
    x = _big_batch(relu=False)[:, :4]
    op = make_op("Conv2D", out_channels=16, kernel_size=5, stride=1, padding=2)
    params = {k: np.asarray(v, dtype=np.float32)
              for k, v in op.init_params(op.param_shapes(x.shape), np.random.default_rng(1)).items()}
    one, two = _run(op, x, params, 1), _run(op, x, params, 2)
    assert np.array_equal(one[1][0], two[1][0])


@pytest.mark.parametrize("split", ["rows", "cols"])
@pytest.mark.parametrize("m, k, n", [(100, 4320, 100), (4320, 100, 100), (100, 100, 4320)])
def test_matmul_split_is_exact(threads, split, m, k, n):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    parallel.set_threads(1)
    one = parallel.matmul(a, b)
    parallel.set_threads(2)
    two = parallel.matmul(a, b, split=split)
    assert two.shape == (m, n) and np.array_equal(one, two)


def test_small_or_foreign_arrays_are_not_split(threads):
    parallel.set_threads(2)
    assert parallel.batch_chunks(np.zeros((4, 10))) == [slice(None)]
    assert parallel.batch_chunks(np.zeros(())) == [Ellipsis]
    big = np.zeros((8, parallel.MIN_ELEMENTS))
    assert parallel.batch_chunks(big) == [slice(0, 4), slice(4, 8)]
    assert parallel.batch_chunks(big.view(np.matrix)) == [slice(None)]  # only plain NumPy arrays
    parallel.set_threads(1)
    assert parallel.batch_chunks(big) == [slice(None)]


def test_worker_exceptions_propagate(threads):
    parallel.set_threads(2)
    big = np.zeros((8, parallel.MIN_ELEMENTS), dtype=np.float32)

    def fail(sl):
        if sl.start:
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        parallel.run_batch(fail, big)


def test_sub_slices_cover_the_chunk_in_budget_sized_groups():
    x = np.zeros((10, 4), dtype=np.float32)
    assert parallel.sub_slices(x, slice(2, 9), per_item_bytes=16, budget=48) == [slice(2, 5), slice(5, 8), slice(8, 9)]
    assert parallel.sub_slices(x, slice(None), per_item_bytes=16, budget=1 << 20) == [slice(0, 10)]
    assert parallel.sub_slices(x[:0], slice(None), per_item_bytes=16) == [slice(0, 0)]
    assert parallel.sub_slices(x.view(np.recarray), slice(None), per_item_bytes=16, budget=16) == [slice(0, 10)]
