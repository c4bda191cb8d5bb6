"""SimpleConvNet on mnist-10k: seconds per epoch and resident memory, Backprop Studio vs PyTorch CPU.

Same net (conv 30x5x5, ReLU, max-pool 2, affine 100, ReLU, affine 10), same split
(8000 / 1000 / 1000), same shuffle order per epoch, Adam 1e-3 (eps 1e-7 as in the book),
batch 100, float32, 2 threads. Each side runs in its own subprocess so the resident
memory (VmRSS from /proc/self/status, printed after every epoch) is its own. The two
subprocesses run in lockstep, one epoch at a time each, alternating (ours, torch, ours,
...), so load from other processes on a shared machine hits both sides alike.

``train s`` is the time of the epoch's iterations (forward, backward, update);
``epoch s`` adds the validation pass. PyTorch is a benchmark tool only
(``pip install torch``), never a dependency. Prints figures; asserts nothing.

Usage: python -m bench.train_vs_torch [--epochs 10]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import sys
import time

THREADS = 2


def wait_turn(first: bool = False) -> None:
    """In lockstep mode, block until the parent says this side may run its next epoch.

    ``first``: set-up is done; say so, so the other side's set-up never overlaps an epoch.
    """
    if os.environ.get("BENCH_LOCKSTEP") == "1":
        if first:
            print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_ours(epochs: int) -> None:
    from graph import templates
    from graph.run.perf import tune_process
    from graph.training.datasets import load_dataset
    from graph.training.trainer import EpochEvent, IterationEvent, Trainer

    tune_process()  # ours only, as the app does: PyTorch's side stays as it comes

    data = load_dataset("mnist-10k")
    trainer = Trainer(templates.build("simple_convnet"), data, epochs=epochs, batch_size=100, optimizer="adam",
                      lr=0.001, seed=0, compare_float16=False)
    busy = 0.0
    wait_turn(first=True)
    last = time.perf_counter()
    for ev in trainer:
        now = time.perf_counter()
        if isinstance(ev, IterationEvent):
            busy += now - last
        elif isinstance(ev, EpochEvent):
            print(json.dumps({"epoch": ev.epoch, "train_s": busy, "epoch_s": ev.seconds, "val_acc": ev.val_acc,
                              "rss_mb": rss_mb()}), flush=True)
            busy = 0.0
            wait_turn()  # after the last epoch too: the test pass must not overlap torch's epoch
        last = time.perf_counter()
    print(json.dumps({"test_acc": trainer.result["test_accuracy"]}), flush=True)


def run_torch(epochs: int) -> None:
    import numpy as np
    import torch

    from graph.training.datasets import load_dataset

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
        wait_turn(first=epoch == 1)
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
    wait_turn()
    print(json.dumps({"test_acc": accuracy("test"), "torch": torch.__version__}), flush=True)


def _start(which: str, epochs: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS), BENCH_LOCKSTEP="1")
    # stderr goes to a file: a pipe nobody reads while we wait on stdout could fill and block
    err = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-m", "bench.train_vs_torch", "--only", which, "--epochs", str(epochs)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    proc.stderr_file = err
    return proc


def _ready(proc: subprocess.Popen) -> bool:
    """Wait until ``proc`` has finished its set-up (imports, data); False when it ended."""
    for line in proc.stdout:
        if line.startswith("{") and "ready" in json.loads(line):
            return True
    return False


def _next_epoch(proc: subprocess.Popen, rows: list) -> bool:
    """Let ``proc`` run one epoch; append its JSON lines up to that epoch's row. False when it ended."""
    try:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError):
        return False
    for line in proc.stdout:
        if line.startswith("{"):
            rows.append(json.loads(line))
            if "epoch" in rows[-1]:
                return True
    return False


def _finish(proc: subprocess.Popen, rows: list) -> str | None:
    """Let ``proc`` run to its end alone and collect the remaining lines; the last stderr
    line when the process failed."""
    try:
        out, _ = proc.communicate("go\n")
    except (BrokenPipeError, OSError):
        out, _ = proc.communicate()
    rows.extend(json.loads(line) for line in out.splitlines() if line.startswith("{"))
    if proc.returncode != 0:
        err = proc.stderr_file
        err.seek(0)
        return (err.read().strip().splitlines() or ["failed"])[-1]
    return None


def run_both(epochs: int) -> tuple[list[dict] | str, list[dict] | str]:
    """Both sides in lockstep: epoch e of ours, then epoch e of torch, then e + 1 ..."""
    procs = {"ours": _start("ours", epochs), "torch": _start("torch", epochs)}
    rows: dict[str, list] = {"ours": [], "torch": []}
    alive = {name: _ready(proc) for name, proc in procs.items()}
    for _ in range(epochs):
        for name, proc in procs.items():
            if alive[name]:
                alive[name] = _next_epoch(proc, rows[name])
    results: dict[str, list[dict] | str] = {}
    for name, proc in procs.items():
        failure = _finish(proc, rows[name])
        results[name] = failure if failure is not None else rows[name]
    return results["ours"], results["torch"]


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
    ours, theirs = run_both(args.epochs)
    if isinstance(theirs, str):
        print(f"PyTorch unavailable ({theirs}); showing Backprop Studio only")
        theirs = []
    if isinstance(ours, str):
        raise SystemExit(f"Backprop Studio run failed: {ours}")
    rows_o = [r for r in ours if "epoch" in r]
    rows_t = [r for r in theirs if "epoch" in r]
    print(f"{'epoch':>5} | {'ours train s':>12} {'epoch s':>8} {'val acc':>7} {'RSS MiB':>8} | "
          f"{'torch train s':>13} {'epoch s':>8} {'val acc':>7} {'RSS MiB':>8} | {'ratio':>5}")
    for i, o in enumerate(rows_o):
        t = rows_t[i] if i < len(rows_t) else None
        right = (f"{t['train_s']:13.2f} {t['epoch_s']:8.2f} {t['val_acc']:7.3f} {t['rss_mb']:8.1f} | "
                 f"{o['train_s'] / t['train_s']:5.2f}" if t else f"{'-':>13}")
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
    if rows_t and len(rows_o) > 1 and len(rows_t) > 1:
        mine = sorted(r["train_s"] for r in rows_o[1:])
        them = sorted(r["train_s"] for r in rows_t[1:])
        ratio = statistics.median(mine) / statistics.median(them)
        print(f"ratio Backprop Studio / PyTorch, training s per epoch: median {ratio:.2f}, "
              f"min {mine[0] / them[0]:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
