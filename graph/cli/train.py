"""``backprop-studio train`` and ``backprop-studio download``.

``train GRAPH_OR_TEMPLATE --dataset mnist-10k --epochs 10 --batch-size 100 --optimizer adam
--lr 0.001 [--schedule SPEC] [--weight-decay L] [--early-stopping N] [--augment SPEC]
[--backend numpy|cupy|auto] [--seed S] [--keep-final] [--train-size N] [--out RUN_DIR]
[--resume RUN_DIR] [--json] [--data-dir DIR]`` trains with a progress bar on stderr
(iteration, loss, samples/s, ETA, and what runs between batches; :mod:`graph.cli.progress`)
and fills the run folder (see :mod:`graph.training.trainer`). ``--resume`` of a run that
already finished says so and how to extend it, without evaluating it again. ``--json``
prints one JSON object on stdout at the end. User errors are ``ValueError`` subclasses;
the CLI turns them into one line and exit status 2.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from layers import kernels

from graph.cli.common import check_memory, limit_args, load_source
from graph.cli.progress import ProgressBar
from graph.run.backend import BACKENDS
from graph.run.fusion import uses_kernels
from graph.training.datasets import BUILTIN, SCALINGS, download, load_dataset
from graph.training.datasets.mnist import CHECKSUMS, MIRRORS, cache_dir
from graph.training.metrics import jsonable
from graph.training.optim import OPTIMIZERS
from graph.training.schedules import SCHEDULES, parse_spec
from graph.training.trainer import (MONITORS, DoneEvent, EpochEvent, IterationEvent, PhaseEvent, StoppedEvent,
                                    TrainConfig, Trainer, TrainError)


def add_train_parser(subparsers) -> None:
    """Register the ``train`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("train", help="train a graph on a dataset and write a run folder",
                              description="Train a graph (a template name or a graph file) on a dataset.",
                              epilog="Exit status: 0 when training ran (also after early stopping), 1 when "
                                     "a NaN/Inf in the loss or a gradient stopped it (the weights from before "
                                     "the update that caused it are kept and evaluated), 2 for a usage or "
                                     "data error.")
    p.add_argument("graph", nargs="?", metavar="GRAPH_OR_TEMPLATE",
                   help="template name (e.g. simple_convnet) or graph file; not needed with --resume")
    p.add_argument("--dataset", default=None,
                   help=f"{', '.join(BUILTIN)}, a toy spec like spiral:noise=0.1,n=1000, an .npz with x/y, "
                        "or a folder with one image subfolder per class (default mnist-10k; with --resume: the "
                        "run's own, or where its data now is)")
    p.add_argument("--data-dir", help="folder with mnist / fashion-mnist IDX files (also with --resume)")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training split (default 10; with --resume: the run's own)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per iteration (default 100)")
    p.add_argument("--optimizer", default=None,
                   help=f"{', '.join(OPTIMIZERS)} (nag = nesterov); options as adam:beta1=0.9,beta2=0.99 "
                        "(default adam)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the optimizer's)")
    p.add_argument("--schedule", default=None,
                   help=f"learning-rate schedule: {', '.join(SCHEDULES)}, e.g. exponential:gamma=0.95, "
                        "steps:boundaries=1000,2000;values=1e-3,5e-4,1e-4, onecycle:max_lr=0.01, "
                        "plateau:factor=0.5,patience=2")
    p.add_argument("--print-schedule", type=int, metavar="N", default=None,
                   help="print the learning rate of N iterations (0: the whole run) and exit")
    p.add_argument("--weight-decay", type=float, default=None, help="L2 coefficient on weights W (default 0)")
    p.add_argument("--clip-norm", type=float, default=None, help="clip the global gradient norm to this")
    p.add_argument("--early-stopping", type=int, default=None, metavar="N",
                   help="stop after N epochs without improvement of --monitor (default off)")
    p.add_argument("--monitor", choices=tuple(MONITORS), default=None, help="default val_loss")
    p.add_argument("--keep-final", action="store_true",
                   help="keep the final weights instead of restoring the best epoch's (to see overfitting)")
    p.add_argument("--no-shuffle", action="store_true",
                   help="visit the training samples in the same order every epoch (default: shuffle per epoch)")
    p.add_argument("--train-size", type=int, default=None, metavar="N",
                   help="train on the first N samples of the training split only (e.g. 300 to overfit)")
    p.add_argument("--augment", default=None,
                   help="image augmentation, e.g. shift=2,rotate=10,scale=0.1,flip=0.5,crop=4 (shift: max "
                        "translation in pixels; rotate: degrees; scale: max zoom; flip: probability of a "
                        "horizontal flip; crop=P: pad by P pixels and take a random crop of the original size)")
    p.add_argument("--scaling", choices=SCALINGS, default=None,
                   help="input scaling (auto: 0-1 for uint8 images, standardize for toy sets)")
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default numpy")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None, help="default float32")
    p.add_argument("--seed", type=int, default=None, help="default 0")
    p.add_argument("--out", metavar="RUN_DIR", help="run folder (default runs/<graph>-<dataset>-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a run from its last checkpoint with the run's own settings; only --epochs, "
                        "--dataset and --data-dir apply (other training options are ignored, with a warning)")
    p.add_argument("--no-float16", action="store_true",
                   help="skip the float16 check (test accuracy with the weights rounded to float16)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the results on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    limit_args(p)


def add_download_parser(subparsers) -> None:
    """Register the ``download`` subcommand."""
    p = subparsers.add_parser("download", help="fetch mnist or fashion-mnist IDX files (checksums verified)")
    p.add_argument("name", choices=tuple(CHECKSUMS), help="dataset to fetch")
    p.add_argument("--data-dir", help=f"target folder (default {cache_dir()}/<name>)")
    p.add_argument("--mirror", action="append", metavar="URL", help="use this base URL instead of the built-in mirrors (repeatable)")


def _optimizer_spec(text: str) -> tuple[str, dict]:
    name, options = parse_spec(text)
    for key, value in options.items():
        if not isinstance(value, float):
            raise TrainError(f"optimizer option {key} must be one number, got {value}")
    return name, options


# the defaults of the options that are ``None`` on the parser, so that ``--resume`` can
# tell an option the user gave from one left out
DEFAULTS = {"dataset": "mnist-10k", "epochs": 10, "batch_size": 100, "optimizer": "adam", "weight_decay": 0.0,
            "early_stopping": 0, "monitor": "val_loss", "scaling": "auto", "backend": "numpy",
            "dtype": "float32", "seed": 0}
# options a resumed run takes from its checkpoint (``--epochs``, ``--dataset`` and
# ``--data-dir`` do apply on resume)
RUN_OPTIONS = ("graph", "batch_size", "optimizer", "lr", "schedule", "weight_decay", "clip_norm",
               "early_stopping", "monitor", "augment", "scaling", "backend", "dtype", "seed", "out", "no_float16",
               "keep_final", "train_size", "no_shuffle")


def _opt(args, name: str):
    """``args.name``, or its default when the user left it out."""
    value = getattr(args, name, None)
    return DEFAULTS.get(name) if value is None else value


def _config(args) -> TrainConfig:
    name, options = _optimizer_spec(_opt(args, "optimizer"))
    return TrainConfig(epochs=_opt(args, "epochs"), batch_size=_opt(args, "batch_size"), optimizer=name,
                       lr=args.lr, optimizer_options=options, schedule=args.schedule,
                       weight_decay=_opt(args, "weight_decay"), clip_norm=args.clip_norm,
                       early_stopping=_opt(args, "early_stopping"), monitor=_opt(args, "monitor"),
                       augment=args.augment, scaling=_opt(args, "scaling"), backend=_opt(args, "backend"),
                       dtype=_opt(args, "dtype"), seed=_opt(args, "seed"), compare_float16=not args.no_float16,
                       restore_best=not args.keep_final, train_size=args.train_size, shuffle=not args.no_shuffle)


def _ignored_on_resume(args) -> list[str]:
    """The command-line spellings of run options given together with ``--resume``."""
    given = [n for n in RUN_OPTIONS if getattr(args, n, None) not in (None, False)]
    return ["GRAPH_OR_TEMPLATE" if n == "graph" else "--" + n.replace("_", "-") for n in given]


# every file a run writes into its folder (graph.training.trainer and metrics)
RUN_FILES = ("config.json", "metrics.csv", "metrics.json", "confusion.csv", "confusion.json",
             "checkpoint.npz", "best.npz", "trained_graph.json")


def _default_out(graph_spec: str, dataset: str) -> Path:
    stem = Path(graph_spec).stem if Path(graph_spec).suffix else graph_spec
    data = Path(dataset.partition(":")[0]).name or "data"
    return Path("runs") / f"{stem}-{data}-{time.strftime('%Y%m%d-%H%M%S')}"


def _build_trainer(args) -> Trainer:
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "checkpoint.npz").is_file():
            raise TrainError(f"--resume {run_dir}: no checkpoint.npz there (a run writes one after each epoch)")
        ignored = _ignored_on_resume(args)
        if ignored:
            print(f"backprop-studio: warning: {', '.join(ignored)} ignored with --resume: the run continues "
                  f"with the settings in {run_dir / 'checkpoint.npz'} (only --epochs, --dataset and "
                  "--data-dir apply)", file=sys.stderr)
        overrides = {} if args.epochs is None else {"epochs": args.epochs}
        return Trainer.from_checkpoint(run_dir, data_dir=args.data_dir, dataset=args.dataset, **overrides)
    if not args.graph:
        raise TrainError("give a GRAPH_OR_TEMPLATE to train (or --resume RUN_DIR)")
    graph = load_source(args.graph)
    args.memory_note = check_memory(graph, _opt(args, "batch_size"), _opt(args, "dtype"), True, args,
                                    eval_batch=TrainConfig().eval_batch_size)
    if uses_kernels(graph):
        kernels.preload()  # overlaps reading the dataset
    dataset = _opt(args, "dataset")
    data = load_dataset(dataset, data_dir=args.data_dir)
    run_dir = Path(args.out) if args.out else _default_out(args.graph, dataset)
    taken = [name for name in RUN_FILES if (run_dir / name).exists()]
    if (run_dir / "checkpoint.npz").exists():
        raise TrainError(f"{run_dir} already holds a run; continue it with --resume {run_dir} or choose "
                         "another --out")
    if taken and args.out:
        raise TrainError(f"--out {run_dir} already holds {', '.join(taken)}, which this run would overwrite; "
                         "choose another folder (or move those files)")
    if taken:   # the default name is per second: two runs in one second get numbered folders
        run_dir = next(p for p in (Path(f"{run_dir}-{i}") for i in range(2, 10 ** 6))
                       if not any((p / name).exists() for name in RUN_FILES))
        print(f"backprop-studio: the default run folder existed; writing to {run_dir}", file=sys.stderr)
    return Trainer(graph, data, _config(args), run_dir)


def _print_schedule(trainer: Trainer, n: int) -> int:
    total = n or trainer.config.epochs * trainer.steps_per_epoch
    curve = trainer.schedule.curve(total)
    print(f"# {trainer.schedule.describe()}; {trainer.steps_per_epoch} iterations per epoch")
    print("iteration,lr")
    for t, lr in enumerate(curve):
        print(f"{t},{lr:.6g}")
    return 0


def run_train(args) -> int:
    """Run ``train`` from parsed arguments; return the exit status (0, or 1 after a NaN/Inf stop)."""
    trainer = _build_trainer(args)
    if args.print_schedule is not None:
        return _print_schedule(trainer, args.print_schedule)
    finished = _finished_run(trainer) if args.resume else None
    if finished is not None:
        return _report_finished(trainer, finished, args.json)
    bar = ProgressBar(sys.stderr, trainer.config.epochs, enabled=not args.quiet)
    bar.line(f"{trainer.data.summary()}; {trainer.backend_note}; {trainer.optimizer.describe()}, "
             f"{trainer.schedule.describe()}; run folder {trainer.run_dir}")
    if getattr(args, "memory_note", None):
        bar.line(args.memory_note)
    if trainer.epoch:
        bar.line(f"resuming after epoch {trainer.epoch} (iteration {trainer.iteration})")
    result = None
    try:
        for ev in trainer:
            if isinstance(ev, IterationEvent):
                bar.iteration(ev)
            elif isinstance(ev, PhaseEvent):
                bar.phase(ev)
            elif isinstance(ev, EpochEvent):
                bar.epoch(ev)
            elif isinstance(ev, StoppedEvent):
                bar.line(ev.reason)
            elif isinstance(ev, DoneEvent):
                result = ev.result
    except KeyboardInterrupt:
        bar.line(f"interrupted; continue with: backprop-studio train --resume {trainer.run_dir}")
        raise
    finally:
        bar.close()
    result = {**result, "run_dir": str(trainer.run_dir)}
    if args.json:
        slim = {k: v for k, v in result.items() if k != "misclassified"}
        slim["misclassified_count"] = len(result.get("misclassified", []))
        print(json.dumps(jsonable(slim), allow_nan=False))
    else:
        half = result.get("float16_test_accuracy")
        overflow = ", float16 overflow" if result.get("float16_overflow") else ""
        bar.enabled = True
        bar.line(f"test accuracy {_fmt_acc(result['test_accuracy'])}"
                 + ("" if half is None else f" (float16-rounded weights: {half:.4f}{overflow})")
                 + f"; train {_fmt_acc(result['train_accuracy'])}, validation {_fmt_acc(result['val_accuracy'])}"
                 + f"; {result['epochs']} epochs in {result['seconds']:.1f} s{_restored(result)}; "
                 f"run folder {trainer.run_dir}")
    return 1 if result.get("stopped_kind") in ("nonfinite", "diverged") else 0


def _restored(result: dict) -> str:
    """Say when the figures are the best epoch's weights, not the last one's (the last
    epoch's line above would otherwise contradict them)."""
    best = result.get("best_epoch")
    if result.get("restored_best") and best is not None and best != result.get("epochs"):
        return f" (weights of the best epoch, {best}, restored)"
    return ""


def _finished_run(trainer: Trainer) -> dict | None:
    """The stored result of a resumed run that has nothing left to do (all its epochs,
    or early stopping, and the final evaluation written), else ``None``."""
    done = trainer.epoch >= trainer.config.epochs or (trainer.stopped is not None)
    path = trainer.run_dir / "metrics.json"
    if not done or not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # damaged: evaluating again rewrites it
    return stored if isinstance(stored, dict) and "test_accuracy" in stored else None


def _report_finished(trainer: Trainer, stored: dict, as_json: bool) -> int:
    """Say that the run already finished, and how to extend it; nothing is evaluated."""
    run_dir, epochs = trainer.run_dir, trainer.epoch
    if trainer.stopped is not None:
        how = (f"it stopped early after epoch {epochs} ({trainer.stopped.reason}); start a new run to "
               "train further")
    else:
        how = f"to train it longer: backprop-studio train --resume {run_dir} --epochs {epochs + 10}"
    print(f"{run_dir} already finished: {epochs} epochs, test accuracy {_fmt_acc(stored.get('test_accuracy'))}; "
          f"nothing to do ({how})", file=sys.stderr)
    if as_json:
        slim = {k: v for k, v in stored.items() if k not in ("misclassified", "iteration_loss")}
        slim["misclassified_count"] = len(stored.get("misclassified") or [])
        print(json.dumps(jsonable({**slim, "run_dir": str(run_dir), "already_finished": True}), allow_nan=False))
    return 0


def _fmt_acc(value) -> str:
    """An accuracy to 4 decimals, or ``n/a`` for an empty split."""
    return "n/a" if value is None else f"{value:.4f}"


def run_download(args) -> int:
    """Run ``download``: fetch, verify, report where the files are."""
    last = {"t": 0.0}

    def progress(name, done, total):
        now = time.monotonic()
        if now - last["t"] < 0.2 and done != total:
            return
        last["t"] = now
        size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        sys.stderr.write(f"\r{name}: {size}".ljust(70))
        sys.stderr.flush()

    mirrors = tuple(args.mirror) if args.mirror else MIRRORS[args.name]
    try:
        folder = download(args.name, args.data_dir, progress, mirrors=mirrors)
    finally:
        sys.stderr.write("\n")
    print(f"{args.name}: files verified in {folder}")
    return 0

