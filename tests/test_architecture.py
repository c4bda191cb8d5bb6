"""The rooms of ARCHITECTURE.md, enforced: import-linter contracts and no import cycles."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "graph", "layers")


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run([*cmd, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def test_import_linter_contracts_are_kept():
    out = _lint_imports()
    assert "0 broken" in out and "KEPT" in out


def import_cycles() -> list[list[str]]:
    """Every strongly connected set of modules that import each other (directly or not)."""
    imports = grimp.build_graph(*PACKAGES, cache_dir=None)
    dg = nx.DiGraph()
    for module in imports.modules:
        if module.split(".")[0] not in PACKAGES:
            continue
        dg.add_node(module)
        for imported in imports.find_modules_directly_imported_by(module):
            if imported.split(".")[0] in PACKAGES:
                dg.add_edge(module, imported)
    return [sorted(c) for c in nx.strongly_connected_components(dg) if len(c) > 1]


def test_no_import_cycles_anywhere():
    assert import_cycles() == []
