"""The same training run from the GUI and from the CLI: throughput ratio and event-loop latency.

Cases: ``simple_convnet`` on mnist-10k (10 epochs, batch 100, Adam 1e-3) and ``toy_mlp``
on spiral (60 epochs, batch 20, Adam 1e-2: a few milliseconds per epoch, the case where
progress signals and redraws used to swamp the GUI). Each run is its own process and
the two sides alternate (GUI, CLI, GUI, CLI...), so load from other processes on a
shared machine hits both alike.

* CLI: ``python -m app.entry train ... --json --quiet``.
* GUI: this file with ``--child``: the editor window (offscreen unless ``--visible``)
  with the template open and the Training views shown on the Curves tab; Start is
  clicked and the run goes to its end. While it trains, the bench acts like a user 50 ms
  after Start and then every 0.3 s: it opens the Train menu and closes it, pans the
  canvas, and switches the views' tabs. A 20 ms timer measures the event loop's latency:
  how late each tick comes (p50, p99, max; target p99 < 100 ms). Each tick is a Python
  call that takes the GIL from the training thread; at 10 ms the probe alone cost a
  simple_convnet run about 2 %.

* GUI, watching: the same with ``--watch``: nobody touches the window while it trains and
  no probe runs (a user watching the curves).

The ratios compare the trainer's own run time (epochs plus the final evaluation, as
both processes report it in ``seconds``; target GUI / CLI <= 1.1), for the watched
runs and for the runs with a user acting; the wall time from Start to the end of the
run is shown too. All must reach the same test accuracy (the same seeded run). Prints
figures; asserts nothing.

    python -m bench.gui_vs_cli [--repeats 2] [--cases convnet toy]
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

CASES = {
    "convnet": {"template": "simple_convnet", "dataset": "mnist-10k", "epochs": 10, "batch": 100, "lr": 0.001},
    "toy": {"template": "toy_mlp", "dataset": "spiral", "epochs": 60, "batch": 20, "lr": 0.01},
}


class LatencyProbe:
    """A timer (20 ms) on the GUI thread; ``lateness`` holds how late each tick came (s)."""

    def __init__(self, interval_ms: int = 20) -> None:
        from PySide6 import QtCore  # noqa: PLC0415

        self.interval = interval_ms / 1000
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.lateness: list[float] = []
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness.append(max(now - self._last - self.interval, 0.0))
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def summary(self) -> dict:
        late = sorted(self.lateness) or [0.0]
        pick = lambda q: late[min(int(q * len(late)), len(late) - 1)]  # noqa: E731
        return {"ticks": len(self.lateness), "p50_ms": pick(0.5) * 1000, "p99_ms": pick(0.99) * 1000,
                "max_ms": late[-1] * 1000}


class User:
    """Right after Start, then every 0.3 s, one action in turn: open and close the Train menu, pan the canvas,
    switch the training views' tab."""

    def __init__(self, window, panel) -> None:
        from PySide6 import QtCore  # noqa: PLC0415

        self.window, self.panel, self.n = window, panel, 0
        self.timer = QtCore.QTimer()
        self.timer.setInterval(300)
        self.timer.timeout.connect(self._act)
        self.actions = 0

    def _act(self) -> None:
        from PySide6 import QtCore  # noqa: PLC0415

        w, step = self.window, self.n % 3
        self.n += 1
        if step == 0:
            menu = w.menus.train
            menu.popup(w.mapToGlobal(QtCore.QPoint(40, 40)))
            QtCore.QTimer.singleShot(120, menu.close)
        elif step == 1:
            w.view.pan_by(60 if self.n % 2 else -60, 20)
        else:
            tabs = self.panel.views.tabs
            tabs.setCurrentIndex((tabs.currentIndex() + 1) % 2)  # Curves <-> Filters
        self.actions += 1


def gui_child(case: str, watch: bool = False) -> None:
    """Run one case in the GUI (``watch``: no user actions, no probe); print one JSON line."""
    os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-bench-"))
    from PySide6 import QtCore  # noqa: PLC0415

    from app.gui_main import _make_app  # noqa: PLC0415
    from app.main_window import MainWindow  # noqa: PLC0415

    c = CASES[case]
    from graph.run.perf import tune_allocator, tune_process  # noqa: PLC0415

    tune_allocator()   # before Qt starts threads, as app/gui_main.py does
    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    window.resize(1400, 900)
    window.show()
    tune_process()  # as app/gui_main.py does once its window is built
    window.open_template(c["template"], ask=False)
    panel = window.training
    s = panel.settings
    assert s.load(c["dataset"]), f"cannot load {c['dataset']}"
    s.epochs.setValue(c["epochs"])
    s.batch_size.setValue(c["batch"])
    s.optimizer.setCurrentIndex(s.optimizer.findData("adam"))
    s.lr.setValue(c["lr"])
    s.seed.setValue(0)
    s.schedule.setCurrentText("constant")
    panel.views.show()
    panel.views.tabs.setCurrentIndex(0)
    for _ in range(20):
        app.processEvents()
    probe, user = LatencyProbe(), User(window, panel)
    loop = QtCore.QEventLoop()
    panel.run_ended.connect(lambda _outcome: loop.quit())
    t0, c0 = time.perf_counter(), time.process_time()
    panel.dock.start_button.click()
    if not watch:
        probe.start()
        user.timer.start()
        QtCore.QTimer.singleShot(50, user._act)   # a toy run lasts a fraction of a second
    loop.exec()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    probe.stop()
    user.timer.stop()
    result = dict(panel.last_result or {})
    print(json.dumps({"wall_s": wall, "run_cpu_s": cpu, "seconds": result.get("seconds"), "test_accuracy": result.get("test_accuracy"),
                      "outcome": panel.outcome, "user_actions": user.actions, **probe.summary()}), flush=True)
    window.document.undo_stack.setClean()
    window.recovery.discard()
    window.close()
    # delete the window while Qt and Python are both alive, as app/gui_main.py does on quit
    window.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def cli_cmd(case: str, out: str) -> list[str]:
    c = CASES[case]
    return [sys.executable, "-m", "app.entry", "train", c["template"], "--dataset", c["dataset"],
            "--epochs", str(c["epochs"]), "--batch-size", str(c["batch"]), "--optimizer", "adam",
            "--lr", str(c["lr"]), "--seed", "0", "--json", "--quiet", "--out", out]


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str]) -> dict | str:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0, c0 = time.perf_counter(), _cpu_children()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out.setdefault("wall_s", time.perf_counter() - t0)
    out["process_cpu_s"] = _cpu_children() - c0  # the whole process: start-up and window included
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", nargs="+", choices=tuple(CASES), default=list(CASES))
    parser.add_argument("--visible", action="store_true", help="use the real display instead of offscreen")
    parser.add_argument("--child", choices=tuple(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--watch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        gui_child(args.child, args.watch)
        return 0
    if not args.visible:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    print(f"GUI vs CLI, same seeded run; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    for case in args.cases:
        runs: dict[str, list[dict]] = {"gui": [], "watch": [], "cli": []}
        for rep in range(args.repeats):
            for side in ("gui", "watch", "cli"):
                with tempfile.TemporaryDirectory(prefix="bps-gvc-") as tmp:
                    cmd = (cli_cmd(case, os.path.join(tmp, "run")) if side == "cli" else
                           [sys.executable, "-m", "bench.gui_vs_cli", "--child", case] + ["--watch"] * (side == "watch"))
                    r = _run(cmd)
                if isinstance(r, str):
                    print(f"{case} {side} failed: {r}")
                    return 1
                runs[side].append(r)
                extra = (f", CPU from Start to the end {r['run_cpu_s']:.2f} s, event loop p50 {r['p50_ms']:.1f} / p99 {r['p99_ms']:.1f} / max {r['max_ms']:.1f} ms "
                         f"over {r['ticks']} ticks, {r['user_actions']} user actions") if side == "gui" else ""
                print(f"  {case} run {rep + 1} {side:>5}: run {r['seconds']:.2f} s (wall {r['wall_s']:.2f} s, process "
                      f"CPU {r['process_cpu_s']:.2f} s), "
                      f"test accuracy {r['test_accuracy']:.4f}{extra}; load {os.getloadavg()[0]:.1f}", flush=True)
        g, w, c = (statistics.median(r["seconds"] for r in runs[side]) for side in ("gui", "watch", "cli"))
        p99 = max(r["p99_ms"] for r in runs["gui"])
        same = len({r["test_accuracy"] for side in runs.values() for r in side}) == 1
        print(f"{case}: GUI / CLI run time, watched {w / c:.2f}, with a user acting {g / c:.2f} (medians {w:.2f} s, "
              f"{g:.2f} s vs {c:.2f} s; target <= 1.1); event-loop latency p99 {p99:.1f} ms at worst (target < 100 ms); "
              f"same test accuracy: {same}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
