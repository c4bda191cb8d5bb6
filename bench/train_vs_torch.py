"""SimpleConvNet on mnist-10k: seconds per epoch and resident memory, Backprop Studio vs PyTorch CPU.

Same net (conv 30x5x5, ReLU, max-pool 2, affine 100, ReLU, affine 10), same split
(8000 / 1000 / 1000), same shuffle order per epoch, Adam 1e-3 (eps 1e-7 as in the book),
batch 100, float32, 2 threads. Each side runs in its own subprocess so the resident
memory (VmRSS from /proc/self/status, printed after every epoch) is its own.

``train s`` is the time of the epoch's iterations (forward, backward, update);
``epoch s`` adds the validation pass. PyTorch is a benchmark tool only
(``pip install torch``), never a dependency. Prints figures; asserts nothing.

Usage: python -m bench.train_vs_torch [--epochs 10]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

THREADS = 2


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_ours(epochs: int) -> None:
    from graph import templates
    from graph.datasets import load_dataset
    from graph.trainer import EpochEvent, IterationEvent, Trainer

    data = load_dataset("mnist-10k")
    trainer = Trainer(templates.build("simple_convnet"), data, epochs=epochs, batch_size=100, optimizer="adam",
                      lr=0.001, seed=0, compare_float16=False)
    busy = 0.0
    last = time.perf_counter()
    for ev in trainer:
        now = time.perf_counter()
        if isinstance(ev, IterationEvent):
            busy += now - last
        elif isinstance(ev, EpochEvent):
            print(json.dumps({"epoch": ev.epoch, "train_s": busy, "epoch_s": ev.seconds, "val_acc": ev.val_acc,
                              "rss_mb": rss_mb()}), flush=True)
            busy = 0.0
        last = time.perf_counter()
    print(json.dumps({"test_acc": trainer.result["test_accuracy"]}), flush=True)


def run_torch(epochs: int) -> None:
    import numpy as np
    import torch

    from graph.datasets import load_dataset

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    data = load_dataset("mnist-10k")
    tensors = {s: (torch.from_numpy(data.split(s)[0].astype(np.float32) / 255.0),
                   torch.from_numpy(data.split(s)[1])) for s in ("train", "val", "test")}
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 30, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(4320, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_train, y_train = tensors["train"]

    def accuracy(split):
        x, y = tensors[split]
        with torch.no_grad():
            return float((net(x).argmax(1) == y).float().mean())

    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng(np.random.SeedSequence([0, 1, epoch])).permutation(len(y_train))
        net.train()
        for b in range(0, len(order), 100):
            idx = torch.from_numpy(order[b:b + 100])
            opt.zero_grad()
            loss_fn(net(x_train[idx]), y_train[idx]).backward()
            opt.step()
        train_s = time.perf_counter() - t0
        net.eval()
        val = accuracy("val")
        print(json.dumps({"epoch": epoch, "train_s": train_s, "epoch_s": time.perf_counter() - t0, "val_acc": val,
                          "rss_mb": rss_mb()}), flush=True)
    print(json.dumps({"test_acc": accuracy("test"), "torch": torch.__version__}), flush=True)


def _child(which: str, epochs: int) -> list[dict] | str:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS))
    proc = subprocess.run([sys.executable, "-m", "bench.train_vs_torch", "--only", which, "--epochs", str(epochs)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--only", choices=("ours", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only == "ours":
        return run_ours(args.epochs)
    if args.only == "torch":
        return run_torch(args.epochs)
    print(f"SimpleConvNet, mnist-10k 8000/1000/1000, Adam 1e-3, batch 100, float32, {THREADS} threads, "
          f"{os.cpu_count()} CPUs")
    ours = _child("ours", args.epochs)
    theirs = _child("torch", args.epochs)
    if isinstance(theirs, str):
        print(f"PyTorch unavailable ({theirs}); showing Backprop Studio only")
        theirs = []
    if isinstance(ours, str):
        raise SystemExit(f"Backprop Studio run failed: {ours}")
    rows_o = [r for r in ours if "epoch" in r]
    rows_t = [r for r in theirs if "epoch" in r]
    print(f"{'epoch':>5} | {'ours train s':>12} {'epoch s':>8} {'val acc':>7} {'RSS MiB':>8} | "
          f"{'torch train s':>13} {'epoch s':>8} {'val acc':>7} {'RSS MiB':>8}")
    for i, o in enumerate(rows_o):
        t = rows_t[i] if i < len(rows_t) else None
        right = (f"{t['train_s']:13.2f} {t['epoch_s']:8.2f} {t['val_acc']:7.3f} {t['rss_mb']:8.1f}"
                 if t else f"{'-':>13}")
        print(f"{o['epoch']:5d} | {o['train_s']:12.2f} {o['epoch_s']:8.2f} {o['val_acc']:7.3f} {o['rss_mb']:8.1f} | "
              + right)

    def summary(rows, results, name):
        if not rows:
            return
        # on a shared machine other jobs inflate some epochs: the minimum and the median
        # of epochs 2.. are the robust figures (epoch 1 includes warm-up)
        times = sorted(r["train_s"] for r in (rows[1:] or rows))
        growth = rows[-1]["rss_mb"] - rows[1]["rss_mb"] if len(rows) > 1 else 0.0
        test = next((r["test_acc"] for r in results if "test_acc" in r), float("nan"))
        print(f"{name}: training s per epoch (epochs 2..{len(rows)}) min {times[0]:.2f}, median "
              f"{times[len(times) // 2]:.2f}; test accuracy {test:.4f}; RSS change epoch 2 -> {len(rows)}: "
              f"{growth:+.1f} MiB")

    summary(rows_o, ours, "Backprop Studio")
    summary(rows_t, theirs, "PyTorch CPU   ")


if __name__ == "__main__":
    main()
