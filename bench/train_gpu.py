"""SimpleConvNet training throughput (samples/s), NumPy vs CuPy, at batch 100 and 1000.

Runs the real trainer loop (feeding, forward, backward, Adam update, per-iteration loss
read-back) on mnist-10k for ``--epochs`` epochs per setting and reports the throughput of
the last epoch, so the first epoch's warm-up (CuPy kernel compilation, BLAS start-up) is
excluded. Without a usable GPU the CuPy rows are skipped with the reason. Prints figures;
asserts nothing. Target from the training issue: CuPy >= 20x NumPy at batch 1000.

Usage: python -m bench.train_gpu [--epochs 2] [--batches 100,1000]
"""
from __future__ import annotations

import argparse
import time


def throughput(backend: str, batch_size: int, epochs: int) -> tuple[float, float]:
    """``(samples per second in the last epoch, test accuracy)`` for one setting."""
    from graph import templates
    from graph.training.datasets import load_dataset
    from graph.training.trainer import EpochEvent, IterationEvent, Trainer

    data = load_dataset("mnist-10k")
    trainer = Trainer(templates.build("simple_convnet"), data, epochs=epochs, batch_size=batch_size,
                      optimizer="adam", lr=0.001, backend=backend, seed=0, compare_float16=False)
    samples, busy, rate = 0, 0.0, 0.0
    last = time.perf_counter()
    for ev in trainer:
        now = time.perf_counter()
        if isinstance(ev, IterationEvent):
            busy += now - last
            samples += min(batch_size, trainer.n_train - (ev.batch - 1) * batch_size)
        elif isinstance(ev, EpochEvent):
            rate = samples / busy if busy else 0.0
            samples, busy = 0, 0.0
        last = time.perf_counter()
    return rate, trainer.result["test_accuracy"]


def main() -> None:
    from graph.run.backend import cupy_status
    from graph.run.perf import tune_process

    tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", default="100,1000")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    gpu_ok, gpu_note = cupy_status()
    print(f"SimpleConvNet on mnist-10k (8000 training samples), Adam 1e-3, float32, last of {args.epochs} epochs")
    print(f"GPU: {gpu_note}")
    print(f"{'batch':>6} | {'NumPy samples/s':>15} | {'CuPy samples/s':>14} | {'speed-up':>8}")
    for batch in batches:
        cpu, _ = throughput("numpy", batch, args.epochs)
        if gpu_ok:
            gpu, _ = throughput("cupy", batch, args.epochs)
            print(f"{batch:6d} | {cpu:15,.0f} | {gpu:14,.0f} | {gpu / cpu:7.1f}x")
        else:
            print(f"{batch:6d} | {cpu:15,.0f} | {'skipped':>14} | {'-':>8}")
    if not gpu_ok:
        print(f"CuPy skipped: {gpu_note}")


if __name__ == "__main__":
    main()
