"""The ``train`` command's progress on stderr (graph/cli/progress.py): a tqdm bar with the
iteration, loss, samples/s and ETA on a terminal, phases between batches; plain epoch and
phase lines when stderr is not a terminal."""
from __future__ import annotations

import io

from graph.cli.progress import ProgressBar
from graph.training.events import EpochEvent, IterationEvent, PhaseEvent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(stream) -> str:
    bar = ProgressBar(stream, epochs=2)
    for i in range(1, 21):
        bar.iteration(IterationEvent(1 + (i > 10), i, 0.5 / i, 1e-3, 12345.0, 61.0 - i, (i - 1) % 10 + 1, 10, 20))
        if i == 10:
            bar.phase(PhaseEvent("validation", "epoch 1: validation", 0, 100))
            bar.phase(PhaseEvent("validation", "epoch 1: validation", 100, 100))
            bar.epoch(EpochEvent(1, 0.4, 0.8, 0.5, 0.75, 1.5, 1e-3, True))
    bar.phase(PhaseEvent("evaluation", "evaluating the final weights", 0, 3000, weights_final=True))
    bar.phase(PhaseEvent("evaluation", "evaluating the final weights", 3000, 3000))
    bar.phase(PhaseEvent("writing", "writing the run folder runs/x", 0, 1))
    bar.close()
    bar.line("test accuracy 0.9")
    return stream.getvalue()


def test_terminal_gets_a_tqdm_bar_with_the_run_figures():
    text = _run(Terminal())
    frames = text.split("\r")
    last_training = [f for f in frames if "samples/s" in f][-1]
    assert "it 20/20" in last_training
    assert "epoch 2/2" in last_training and "loss 0.0250" in last_training
    assert "12,345 samples/s" in last_training and "ETA 0:41" in last_training
    assert any("evaluating the final weights 3,000/3,000" in f for f in frames)
    assert any("epoch 1: validation" in f for f in frames)
    # the epoch line is printed above the bar, whole
    assert "epoch 1/2  train loss 0.4000 acc 0.8000  val loss 0.5000 acc 0.7500  1.5 s  *\n" in text
    assert text.endswith("test accuracy 0.9\n")


def test_a_log_gets_plain_lines_only():
    text = _run(io.StringIO())
    assert "\r" not in text and "samples/s" not in text
    assert text.splitlines() == [
        "epoch 1/2  train loss 0.4000 acc 0.8000  val loss 0.5000 acc 0.7500  1.5 s  *",
        "evaluating the final weights…",
        "writing the run folder runs/x…",
        "test accuracy 0.9",
    ]


def test_quiet_prints_nothing():
    stream = Terminal()
    bar = ProgressBar(stream, epochs=1, enabled=False)
    bar.iteration(IterationEvent(1, 1, 0.5, 1e-3, 1.0, 1.0, 1, 1, 1))
    bar.phase(PhaseEvent("evaluation", "evaluating", 0, 10))
    bar.line("x")
    assert stream.getvalue() == ""
