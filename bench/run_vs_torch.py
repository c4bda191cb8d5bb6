"""The whole ``backprop-studio train`` process against a PyTorch script doing the same.

What a user waits for: start-up, data loading, 10 epochs of training with validation and
a checkpoint after each, the final evaluation of train, validation and test, writing the
run folder. Ours is the README's command, run as a user runs it::

    python -m app.entry train simple_convnet --dataset mnist-10k --epochs 10 --batch-size 100 \\
        --optimizer adam --lr 0.001 --seed 0 --out RUN --json --quiet

(its float16 check included, as by default). The peer is this file with ``--torch-script``:
the same net (conv 30x5x5, ReLU, max-pool 2, affine 100, ReLU, affine 10), the same
8000 / 1000 / 1000 split loaded with our loader, the same shuffle order, Adam 1e-3
(eps 1e-7), batch 100, float32, 2 threads, validation and ``torch.save`` of model and
optimizer after every epoch, final evaluation and confusion matrix, a metrics file.

Each run is its own process; the two alternate (ours, torch, ours, torch, ...) so load
from other processes on a shared machine hits both alike. Reported: the ratio of the
median wall times (target <= 0.6) and of the CPU seconds, the per-epoch ratio (median epoch seconds over epochs
2..N, validation and checkpoint included; target <= 0.7) and the step ratio (forward +
backward + update at batch 100, in-process, alternating blocks, from
:mod:`bench.engine_simple_convnet`; target <= 0.5), and the load average. PyTorch is a
benchmark tool only, never a dependency of the app. Prints figures; asserts nothing.

    python -m bench.run_vs_torch [--epochs 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

THREADS = 2


def torch_script(epochs: int, out: str) -> None:
    """The PyTorch side: prints one JSON line with per-epoch seconds and the test accuracy."""
    import numpy as np
    import torch

    from graph.training.datasets import load_dataset

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    data = load_dataset("mnist-10k")
    tensors = {s: (torch.from_numpy(data.split(s)[0].astype(np.float32) / 255.0), torch.from_numpy(data.split(s)[1]))
               for s in ("train", "val", "test")}
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 30, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(4320, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_train, y_train = tensors["train"]

    def evaluate(split):
        x, y = tensors[split]
        net.eval()
        with torch.no_grad():
            scores = torch.cat([net(x[i:i + 1000]) for i in range(0, len(y), 1000)])
        return float(loss_fn(scores, y)), float((scores.argmax(1) == y).float().mean()), scores.argmax(1)

    history = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng(np.random.SeedSequence([0, 1, epoch])).permutation(len(y_train))
        net.train()
        for b in range(0, len(order), 100):
            idx = torch.from_numpy(order[b:b + 100])
            opt.zero_grad()
            loss_fn(net(x_train[idx]), y_train[idx]).backward()
            opt.step()
        val_loss, val_acc, _ = evaluate("val")
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch},
                   os.path.join(out, "checkpoint.pt"))
        history.append({"epoch": epoch, "val_loss": val_loss, "val_acc": val_acc, "seconds": time.perf_counter() - t0})
    result = {split + "_accuracy": evaluate(split)[1] for split in ("train", "val")}
    _, result["test_accuracy"], pred = evaluate("test")
    y = tensors["test"][1]
    result["confusion_matrix"] = torch.bincount(y * 10 + pred, minlength=100).reshape(10, 10).tolist()
    result["history"] = history
    torch.save(net.state_dict(), os.path.join(out, "model.pt"))
    with open(os.path.join(out, "metrics.json"), "w") as fh:
        json.dump(result, fh)
    print(json.dumps({"test_accuracy": result["test_accuracy"], "history": history, "torch": torch.__version__}))


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str]) -> tuple[float, float, dict | str]:
    """``(wall s, CPU s, result or error)`` of one process. CPU seconds (user + system, all
    threads) are the steadier figure on a machine other jobs load: wall time there mostly
    measures how long the process waited for a core."""
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    t0, c0 = time.perf_counter(), _cpu_children()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.perf_counter() - t0, _cpu_children() - c0
    if proc.returncode not in (0, 1):
        return wall, cpu, (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return wall, cpu, json.loads(proc.stdout.strip().splitlines()[-1])


def ours_cmd(epochs: int, out: str) -> list[str]:
    return [sys.executable, "-m", "app.entry", "train", "simple_convnet", "--dataset", "mnist-10k",
            "--epochs", str(epochs), "--batch-size", "100", "--optimizer", "adam", "--lr", "0.001", "--seed", "0",
            "--out", out, "--json", "--quiet"]


def theirs_cmd(epochs: int, out: str) -> list[str]:
    return [sys.executable, "-m", "bench.run_vs_torch", "--torch-script", "--epochs", str(epochs), "--out", out]


def _epoch_median(result: dict) -> float:
    rows = result["history"][1:] or result["history"]
    return statistics.median(r["seconds"] for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per side for the step ratio")
    parser.add_argument("--torch-script", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_script:
        torch_script(args.epochs, args.out)
        return 0
    print(f"whole run: simple_convnet, mnist-10k, {args.epochs} epochs, Adam 1e-3, batch 100, {THREADS} threads; "
          f"{os.cpu_count()} CPUs; load average before {os.getloadavg()[0]:.1f}", flush=True)
    walls: dict[str, list[float]] = {"ours": [], "torch": []}
    cpus: dict[str, list[float]] = {"ours": [], "torch": []}
    epochs: dict[str, list[float]] = {"ours": [], "torch": []}
    for rep in range(args.repeats):
        for name, make in (("ours", ours_cmd), ("torch", theirs_cmd)):
            with tempfile.TemporaryDirectory(prefix=f"bps-{name}-") as out:
                wall, cpu, result = _run(make(args.epochs, os.path.join(out, "run") if name == "ours" else out))
            if isinstance(result, str):
                print(f"{name} failed: {result}")
                return 1
            walls[name].append(wall)
            cpus[name].append(cpu)
            epochs[name].append(_epoch_median(result))
            print(f"  run {rep + 1} {name:>5}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, median epoch {epochs[name][-1]:.2f} s, "
                  f"test accuracy {result['test_accuracy']:.4f}, load {os.getloadavg()[0]:.1f}", flush=True)
    wall_ratio = statistics.median(walls["ours"]) / statistics.median(walls["torch"])
    epoch_ratio = statistics.median(epochs["ours"]) / statistics.median(epochs["torch"])
    print(f"whole process: ours median {statistics.median(walls['ours']):.2f} s, PyTorch "
          f"{statistics.median(walls['torch']):.2f} s, ratio {wall_ratio:.2f} (target <= 0.6)")
    cpu_ratio = statistics.median(cpus["ours"]) / statistics.median(cpus["torch"])
    print(f"whole process, CPU seconds: ours median {statistics.median(cpus['ours']):.2f} s, PyTorch "
          f"{statistics.median(cpus['torch']):.2f} s, ratio {cpu_ratio:.2f}")
    print(f"per epoch (train + validation + checkpoint): ratio {epoch_ratio:.2f} (target <= 0.7)")
    from bench.engine_simple_convnet import measure  # noqa: PLC0415 - imports torch; only the parent needs it

    ours, theirs = measure(100, args.steps, THREADS)
    if theirs:
        print(f"step (forward + backward + update, batch 100): ours {statistics.median(ours):.1f} ms, PyTorch "
              f"{statistics.median(theirs):.1f} ms, ratio {statistics.median(ours) / statistics.median(theirs):.2f} "
              "(target <= 0.5)")
    print(f"load average after {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
