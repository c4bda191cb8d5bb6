"""SimpleConvNet training step through the Engine vs PyTorch CPU (same net, same batch).

One step = forward (training mode) + backward + SGD update, float32. Prints the median
milliseconds per step over ``--steps`` timed steps for batch 100 and 256, and the ratio
engine / PyTorch when torch is importable (``torch.set_num_threads(2)``). It asserts
nothing about time: run it and read the figures.

    python bench/engine_simple_convnet.py [--steps 20] [--batches 100 256]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from graph import Engine, templates
from graph.optim import SGD

LR = 0.01


def engine_step_ms(batch: int, steps: int, warmup: int = 3) -> float:
    rng = np.random.default_rng(0)
    eng = Engine(templates.build("simple_convnet"), backend="numpy", dtype="float32", seed=0)
    feeds = {"x": rng.random((batch, 1, 28, 28), dtype=np.float32), "t": rng.integers(0, 10, batch)}
    opt = SGD(lr=LR)
    params = eng.params_ref()
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        eng.forward(feeds, train=True)
        eng.backward(prune=True)
        opt.step(params, eng.grads_ref())
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    assert eng.value("conv1").dtype == np.float32
    return statistics.median(times) * 1e3


def torch_step_ms(batch: int, steps: int, warmup: int = 3) -> float | None:
    try:
        import torch  # noqa: PLC0415 - optional: only for the comparison
    except ImportError:
        return None
    from torch import nn  # noqa: PLC0415

    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))
    t = torch.from_numpy(rng.integers(0, 10, batch))
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), t)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batches", type=int, nargs="+", default=[100, 256])
    args = parser.parse_args()
    print(f"SimpleConvNet step (forward + backward + SGD), float32, median of {args.steps}; "
          f"{os.cpu_count()} CPUs, NumPy {np.__version__}")
    print(f"{'batch':>5}  {'engine ms':>10}  {'torch ms':>9}  {'ratio':>6}")
    for batch in args.batches:
        ours = engine_step_ms(batch, args.steps)
        theirs = torch_step_ms(batch, args.steps)
        if theirs is None:
            print(f"{batch:>5}  {ours:>10.1f}  {'-':>9}  {'-':>6}   (torch not installed)")
        else:
            print(f"{batch:>5}  {ours:>10.1f}  {theirs:>9.1f}  {ours / theirs:>6.2f}")


if __name__ == "__main__":
    main()
