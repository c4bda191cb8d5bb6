"""Shared test set-up: Qt runs offscreen (set before anything imports Qt)."""
from __future__ import annotations

import os
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
