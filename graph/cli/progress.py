"""The ``train`` command's progress display on stderr: a tqdm bar on a terminal, plain
lines otherwise.

On a terminal one bar covers the whole run (iteration n of N) with the epoch, the loss,
the measured samples/s and the trainer's ETA (which leaves out paused time and includes
validation and the final evaluation, unlike tqdm's own rate); between batches it says
which phase runs (validation, checkpoint, final evaluation, float16 check, writing).
When stderr is a file or a pipe there is no bar: one line per epoch and one line per
end-of-run phase, so logs stay readable.
"""
from __future__ import annotations

import os
import time

from tqdm import tqdm

from graph.training.events import EpochEvent, IterationEvent, PhaseEvent, fmt_duration

# phases that get a line of their own in a log; validation and checkpoints come with
# every epoch and are summed up by its line
LOGGED_PHASES = ("evaluation", "float16", "writing")


class ProgressBar:
    """Progress of one run on ``stream`` (see the module docs); ``enabled=False`` prints
    nothing but what :meth:`line` is forced to."""

    def __init__(self, stream, epochs: int, enabled: bool = True) -> None:
        self.stream, self.epochs, self.enabled = stream, epochs, enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self._bar: tqdm | None = None
        self._phase_shown: tuple[str, str] | None = None
        self._last = 0.0

    def _ensure_bar(self, total: int, start: int) -> tqdm:
        if self._bar is None:
            cols, rows = _terminal_size(self.stream)
            self._bar = tqdm(total=total, initial=start, file=self.stream, ncols=cols, nrows=rows, leave=False,
                             bar_format="{desc} |{bar}| it {n_fmt}/{total_fmt}{postfix}", mininterval=0.1)
        return self._bar

    def iteration(self, ev: IterationEvent) -> None:
        if not self.tty:
            return
        bar = self._ensure_bar(ev.total_iterations, ev.iteration - 1)
        bar.set_description_str(f"epoch {ev.epoch}/{self.epochs}", refresh=False)
        bar.set_postfix_str(f"loss {ev.loss:.4f}, {ev.samples_per_s:,.0f} samples/s, ETA {fmt_duration(ev.eta_s)}",
                            refresh=False)
        bar.update(ev.iteration - bar.n)  # tqdm redraws at most every mininterval ...
        if ev.batch == ev.batches_per_epoch:
            bar.refresh()  # ... and each epoch's last batch shows before its epoch line

    def phase(self, ev: PhaseEvent) -> None:
        if not self.enabled:
            return
        if not self.tty:
            if ev.phase in LOGGED_PHASES and self._phase_shown != (ev.phase, ev.text):
                self._phase_shown = (ev.phase, ev.text)
                self.line(ev.text + "…")
            return
        now = time.monotonic()
        if now - self._last < 0.1 and ev.done not in (0, ev.total):
            return
        self._last = now
        bar = self._ensure_bar(1, 0)
        count = f" {ev.done:,}/{ev.total:,}" if ev.total > 1 else ""
        bar.set_description_str(f"{ev.text}{count}", refresh=False)
        bar.set_postfix_str("", refresh=False)  # the last batch's loss and ETA are history now
        bar.refresh()

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def epoch(self, ev: EpochEvent) -> None:
        val = "" if ev.val_loss is None else f"  val loss {ev.val_loss:.4f} acc {ev.val_acc:.4f}"
        self.line(f"epoch {ev.epoch}/{self.epochs}  train loss {ev.train_loss:.4f} acc {ev.train_acc:.4f}"
                  f"{val}  {ev.seconds:.1f} s{'  *' if ev.improved else ''}")

    def close(self) -> None:
        """Remove the bar (the final line follows as plain text)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _terminal_size(stream) -> tuple[int, int]:
    """The terminal's columns and rows, 100 x 24 where it reports none (a bare
    pseudo-terminal says 0 x 0, and tqdm then draws nothing at all)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return 100, 24
    return size.columns or 100, size.lines or 24
