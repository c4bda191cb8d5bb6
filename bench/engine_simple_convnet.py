"""SimpleConvNet training step through the Engine vs PyTorch CPU (same net, same batch).

One step = forward (training mode) + backward + SGD update, float32. Prints the median
and the fastest milliseconds per step over ``--steps`` timed steps for batch 100 and 256,
and the ratio engine / PyTorch when torch is importable (``torch.set_num_threads(2)``;
``--torch-threads`` changes it). Each side runs in its own processes, alternating
(PyTorch's OpenMP threads spin after each op and would slow a shared process), so load
from other processes affects both alike. It asserts nothing about time: run it and read
the figures.

On a machine shared with other jobs, multi-threaded BLAS collapses when its threads
are descheduled; compare single-threaded there:

    python -m bench.engine_simple_convnet [--steps 20] [--batches 100 256]
    OPENBLAS_NUM_THREADS=1 python bench/engine_simple_convnet.py --torch-threads 1
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from graph import Engine, templates
from graph.run.perf import tune_process
from graph.training.optim import SGD

LR = 0.01


def engine_stepper(batch: int):
    """A function doing one training step of SimpleConvNet through the Engine."""
    rng = np.random.default_rng(0)
    eng = Engine(templates.build("simple_convnet"), backend="numpy", dtype="float32", seed=0)
    feeds = {"x": rng.random((batch, 1, 28, 28), dtype=np.float32), "t": rng.integers(0, 10, batch)}
    opt = SGD(lr=LR)
    params = eng.params_ref()

    def step() -> None:
        eng.forward(feeds, train=True)
        eng.backward(prune=True)
        opt.step(params, eng.grads_ref())

    step()
    assert eng.value("conv1").dtype == np.float32 and eng.param("affine1", "W").dtype == np.float32
    return step


def torch_stepper(batch: int, threads: int = 2):
    """The same step in PyTorch, or ``None`` when torch is not installed."""
    try:
        import torch  # noqa: PLC0415 - optional: only for the comparison
    except ImportError:
        return None
    from torch import nn  # noqa: PLC0415

    torch.set_num_threads(threads)
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

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), t).backward()
        opt.step()

    return step


def time_ms(step) -> float:
    t0 = time.perf_counter()
    step()
    return (time.perf_counter() - t0) * 1e3


def time_side(side: str, batch: int, steps: int, threads: int, warmup: int = 5) -> list[float] | None:
    """ms per step of one side (``engine`` or ``torch``) in this process; ``None`` without torch."""
    if side == "engine":
        tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)
        step = engine_stepper(batch)
    else:
        step = torch_stepper(batch, threads)
        if step is None:
            return None
    for _ in range(warmup):
        step()
    return [time_ms(step) for _ in range(steps)]


def measure(batch: int, steps: int, threads: int, rounds: int = 3) -> tuple[list, list]:
    """ms per step for the engine and PyTorch, each side in its own process.

    PyTorch's OpenMP threads keep spinning after each op, and would slow the engine in a
    shared process (and OpenBLAS's the other way round), so every round runs one process
    per side, alternating (engine, torch, engine, torch...) so that load from other
    processes hits both alike; each times ``steps // rounds`` steps after a warm-up.
    Returns the two lists of step times (the torch one empty without torch).
    """
    per = max(1, steps // rounds)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        for side, into in (("engine", ours), ("torch", theirs)):
            cmd = [sys.executable, "-m", "bench.engine_simple_convnet", "--side", side, "--steps", str(per),
                   "--batches", str(batch), "--torch-threads", str(threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            if proc.returncode != 0:
                raise RuntimeError(f"{side} step timing failed: {proc.stderr.strip()[-500:]}")
            times = json.loads(proc.stdout.strip().splitlines()[-1])
            if times is not None:
                into.extend(times)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batches", type=int, nargs="+", default=[100, 256])
    parser.add_argument("--torch-threads", type=int, default=2,
                        help="PyTorch threads (NumPy's BLAS threads: set OPENBLAS_NUM_THREADS to match)")
    parser.add_argument("--side", choices=("engine", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(time_side(args.side, args.batches[0], args.steps, args.torch_threads)))
        return
    print(f"SimpleConvNet step (forward + backward + SGD), float32, {args.steps} steps; "
          f"{os.cpu_count()} CPUs, NumPy {np.__version__}, torch threads {args.torch_threads}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print("median and fastest step in ms; the fastest is the better estimate on a busy machine")
    print(f"{'batch':>5}  {'engine med':>10}  {'min':>6}  {'torch med':>9}  {'min':>6}  "
          f"{'ratio med':>9}  {'min':>5}")
    for batch in args.batches:
        ours, theirs = measure(batch, args.steps, args.torch_threads)
        row = f"{batch:>5}  {statistics.median(ours):>10.1f}  {min(ours):>6.1f}"
        if theirs:
            row += (f"  {statistics.median(theirs):>9.1f}  {min(theirs):>6.1f}"
                    f"  {statistics.median(ours) / statistics.median(theirs):>9.2f}  {min(ours) / min(theirs):>5.2f}")
        else:
            row += "  (torch not installed)"
        print(row)


if __name__ == "__main__":
    main()
