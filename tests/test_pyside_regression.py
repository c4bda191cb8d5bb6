"""PySide6 6.12.0 on Python < 3.12 drops a reference to ``None`` on every call of a Qt
method returning nothing; after a few thousand calls the interpreter aborts with
"deallocating None". The project excludes that release; this keeps it excluded.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PySide6 = pytest.importorskip("PySide6")

HAMMER = textwrap.dedent('''
    import sys
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for i in range(20000):
        obj.setObjectName("n")          # returns None
        obj.blockSignals(False)         # returns a bool: a different code path
    after = sys.getrefcount(None)
    # a leaking binding loses one reference per call: 20000 here
    assert after - before > -1000, (before, after)
    print("ok", before, after)
''')


def _pyside_requirements(repo_root) -> list:
    import tomllib  # noqa: PLC0415 - Python 3.11+

    from packaging.requirements import Requirement  # noqa: PLC0415

    deps = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    return [r for r in map(Requirement, deps) if r.name.lower().startswith("pyside6")]


def test_the_declared_dependencies_exclude_the_broken_release(repo_root):
    """On every interpreter: for Python 3.11 the project's own requirements refuse 6.12.0 and
    accept its neighbours; for 3.12 (where it works) they accept it."""
    reqs = _pyside_requirements(repo_root)

    def allowed(version: str, python: str) -> bool:
        env = {"python_version": python, "python_full_version": python + ".0"}
        return any(r.marker is None or r.marker.evaluate(env) for r in reqs) and all(
            r.specifier.contains(version) for r in reqs if r.marker is None or r.marker.evaluate(env))

    assert reqs
    assert not allowed("6.12.0", "3.11")
    assert allowed("6.11.1", "3.11") and allowed("6.12.1", "3.11")
    assert allowed("6.12.0", "3.12")


def test_the_installed_release_is_one_the_project_allows(repo_root):
    """What is installed here satisfies the declared requirement for this interpreter."""
    from packaging.markers import default_environment  # noqa: PLC0415

    env = default_environment()
    active = [r for r in _pyside_requirements(repo_root) if r.marker is None or r.marker.evaluate(env)]
    assert active and all(r.specifier.contains(PySide6.__version__) for r in active), PySide6.__version__


def test_many_calls_returning_none_do_not_crash(repo_root):
    proc = subprocess.run([sys.executable, "-c", HAMMER], cwd=repo_root, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")
