"""``backprop-studio lab NAME [options] [--json] [--out DIR]`` and ``lab --list``.

Every setting of a lab is an option (``--function rosenbrock``, ``--lr-sgd 0.9``...),
with the book's value as default. Progress goes to stderr; ``--json`` prints one JSON
object on stdout at the end (the same as :meth:`LabResult.to_json`); ``--out DIR``
writes ``result.json``, one CSV per table and PNG plots drawn headless by
:mod:`graph.views.plot_png`.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

from graph.cli.common import UsageError
from graph.training.labs import HIDDEN, LABS, LabDone, LabProgress, make_lab
from graph.training.metrics import jsonable
from graph.views.lab_figures import figures
from graph.views.plot_png import write_png

ALL = {**LABS, **HIDDEN}


def add_lab_parser(subparsers) -> None:
    """Register ``lab`` with one sub-parser per lab, its options generated from its settings."""
    p = subparsers.add_parser("lab", help="run one of the book's experiments (lab --list shows them)",
                              description="Run one of the book's training experiments headless.")
    p.add_argument("--list", action="store_true", help="list the labs and exit")
    labs = p.add_subparsers(dest="lab_name", metavar="NAME", parser_class=type(p))
    for name, cls in ALL.items():
        lp = labs.add_parser(name, help=cls.title, description=cls.about)
        for f in cls.Settings.describe_fields():
            default = "auto" if f["default"] is None else f["default"]
            choices = f" ({', '.join(f['choices'])})" if f["choices"] else ""
            lp.add_argument("--" + f["name"].replace("_", "-"), dest="set_" + f["name"], default=None,
                            metavar=f["type"].upper(), help=f"{f['help']}{choices}; default {default}")
        lp.add_argument("--json", action="store_true", help="print one JSON object with the result on stdout")
        lp.add_argument("--out", metavar="DIR", help="write result.json, CSV tables and PNG plots here")
        lp.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run_lab(args) -> int:
    if args.list or not args.lab_name:
        if not args.list:
            raise UsageError(f"name a lab: {', '.join(LABS)} (or lab --list)")
        for name, cls in LABS.items():
            print(f"{name:11s} {cls.title}: {cls.about}")
        return 0
    given = {k[4:]: v for k, v in vars(args).items() if k.startswith("set_") and v is not None}
    lab = make_lab(args.lab_name, **given)
    progress = _Progress(sys.stderr, enabled=not args.quiet)
    result = None
    for ev in lab:
        if isinstance(ev, LabProgress):
            progress.show(ev)
        elif isinstance(ev, LabDone):
            result = ev.result
    progress.done()
    if args.out:
        written = write_outputs(result, Path(args.out))
        progress.line(f"wrote {', '.join(p.name for p in written)} to {args.out}")
    if args.json:
        print(json.dumps(jsonable(result.to_json()), allow_nan=False))
    else:
        print("\n".join(result.summary))
    return 0


def write_outputs(result, out: Path) -> list[Path]:
    """``result.json``, ``<table>.csv`` per table, ``<figure>.png`` per figure."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "result.json"]
    written[0].write_text(json.dumps(jsonable(result.to_json()), allow_nan=False, indent=1))
    for name in result.tables:
        path = out / f"{name}.csv"
        _write_one(result, name, path)
        written.append(path)
    for name, fig in figures(result).items():
        path = out / f"{name}.png"
        write_png(path, fig, (1200, 800) if fig.get("kind") == "grid" else (900, 600))
        written.append(path)
    return written


def _write_one(result, name: str, path: Path) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(result.tables[name]["header"])
        w.writerows(result.tables[name]["rows"])


class _Progress:
    """One self-overwriting line on a terminal; otherwise a line per stage and every few seconds."""

    def __init__(self, stream, enabled: bool = True) -> None:
        self.stream, self.enabled = stream, enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self._last, self._stage = 0.0, None

    def show(self, ev: LabProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        new_stage = ev.stage != self._stage
        if not new_stage and now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last, self._stage = now, ev.stage
        text = f"{ev.stage}: {ev.done}/{ev.total}" + (f"  {ev.message}" if ev.message else "")
        if self.tty:
            self.stream.write("\r" + text[:118].ljust(118))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 118 + "\r")
            self.stream.flush()
