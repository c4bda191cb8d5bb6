"""``graph/`` and ``layers/`` must import without Qt (PySide6, shiboken6) or pyqtgraph.

A subprocess installs a meta-path finder that refuses those packages, then imports every
module found under ``graph/`` and ``layers/`` (and the Qt-free entry point ``app.entry``).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent('''
    import importlib
    import sys

    BLOCKED = {"PySide6", "shiboken6", "pyqtgraph"}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: graph/ and layers/ must not import Qt")
            return None

    sys.meta_path.insert(0, Block())
    for name in sys.argv[1:]:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("imported", len(sys.argv) - 1)
''')


def module_names(root, package: str) -> list[str]:
    names = []
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_graph_and_layers_import_without_qt(repo_root):
    names = module_names(repo_root, "layers") + module_names(repo_root, "graph") + ["app", "app.entry"]
    assert "graph.run.engine" in names and "layers.base" in names and "graph.cli.main" in names
    proc = subprocess.run([sys.executable, "-c", BLOCKER, *names], cwd=repo_root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"imported {len(names)}"


def test_the_blocker_works(repo_root):
    proc = subprocess.run([sys.executable, "-c", BLOCKER, "pyqtgraph"], cwd=repo_root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "pyqtgraph is blocked" in proc.stderr
