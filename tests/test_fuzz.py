"""Hypothesis fuzzing of every loader (short profile; ``bench/fuzz.py`` runs >= 100,000 cases).

Each target in :mod:`fuzz_cases` generates hostile files or text; the loader must return
or raise its own typed error (GraphFileError, DatasetError, CheckpointError, LiteralError),
never another exception. The limits are lowered so that a case that would allocate past
them fails fast instead of exhausting memory.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_cases import TARGETS
from graph.model import limits

SHORT = settings(max_examples=15, deadline=None, database=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def fuzz_limits():
    limits.override(max_elements=2 ** 22, max_file_bytes=2 ** 25)
    yield
    limits.override(max_elements=None, max_file_bytes=None)


def make_test(name):
    strategy, check = TARGETS[name]

    @SHORT
    @given(case=strategy)
    def run(tmp_path_factory, case):
        check(case, tmp_path_factory.mktemp(name))

    run.__name__ = f"test_fuzz_{name}"
    return run


for _name in TARGETS:
    globals()[f"test_fuzz_{_name}"] = make_test(_name)
