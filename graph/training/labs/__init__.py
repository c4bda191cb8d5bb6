"""The book's training experiments as labs (Qt-free): one module per lab, a shared base.

``LABS`` maps each lab's name to its class; ``make_lab(name, **settings)`` builds one.
See :mod:`graph.training.labs.base` for the event/result protocol.
"""
from __future__ import annotations

from graph.training.labs.base import Lab, LabDone, LabError, LabProgress, LabResult, LabSettings
from graph.training.labs.batchnorm import BatchNormLab
from graph.training.labs.init import InitLab, InitTrainLab
from graph.training.labs.optimizers import OptimizersLab
from graph.training.labs.overfit import OverfitLab
from graph.training.labs.race import RaceLab
from graph.training.labs.search import SearchFinalLab, SearchLab

LABS = {cls.name: cls for cls in (RaceLab, OptimizersLab, InitLab, InitTrainLab, BatchNormLab, OverfitLab,
                                  SearchLab)}
# reachable by name, not listed: the search's final run (a button after a search)
HIDDEN = {SearchFinalLab.name: SearchFinalLab}

__all__ = ["HIDDEN", "LABS", "Lab", "LabDone", "LabError", "LabProgress", "LabResult", "LabSettings", "make_lab"]


def make_lab(name: str, settings=None, **overrides) -> Lab:
    """A lab by name with its settings (book defaults for everything not given)."""
    cls = LABS.get(name) or HIDDEN.get(name)
    if cls is None:
        raise LabError(f"unknown lab {name!r} (labs: {', '.join(LABS)})")
    return cls(settings, **overrides)
