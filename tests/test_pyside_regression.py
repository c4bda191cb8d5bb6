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


def test_broken_release_is_not_installed():
    if sys.version_info < (3, 12):
        assert PySide6.__version__ != "6.12.0", "PySide6 6.12.0 crashes on Python < 3.12 (deallocating None)"


def test_many_calls_returning_none_do_not_crash(repo_root):
    proc = subprocess.run([sys.executable, "-c", HAMMER], cwd=repo_root, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")
