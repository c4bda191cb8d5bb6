"""Shared test set-up: Qt runs offscreen (set before anything imports Qt)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402 - after the environment is set

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The checkout's root directory (subprocess tests run from here)."""
    return REPO_ROOT


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh per test."""
    import numpy as np  # noqa: PLC0415

    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def _tuned_like_the_programs():
    """The test session tunes the process as the programs' entry points do
    (``graph.run.perf.tune_process``: allocator, one OpenBLAS thread beside the engine's own
    threads, gc.freeze), so the engine runs here as fast as in the app. The untuned library
    is checked in fresh processes by tests/test_perf.py."""
    from graph.run.perf import tune_process  # noqa: PLC0415

    tune_process()


@pytest.fixture(autouse=True, scope="session")
def _clear_clipboard_at_exit():
    """Empty the Qt clipboard once the session ends.

    Mime data left on the clipboard (copy/paste tests) makes the offscreen platform
    segfault while the interpreter tears the QApplication down, turning a green run into
    exit status 139. Qt is not imported here unless a test already did.
    """
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication  # noqa: PLC0415

        app = QApplication.instance()
        if app is not None:
            app.clipboard().clear()
