"""Per-user state: the app's home folder, settings, recent files and crash recovery.

``BACKPROP_STUDIO_HOME`` overrides the home folder (tests point it at a temporary
directory); otherwise Qt's ``AppDataLocation`` is used. Recovery files are named
``<pid>-<n>.recovery.json`` so a starting app can tell a crashed session's file (its
process is gone) from one that a running window is still writing.
"""
from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 10
_counter = itertools.count(1)


def app_home() -> Path:
    """The folder for settings and recovery files (created on demand)."""
    env = os.environ.get("BACKPROP_STUDIO_HOME")
    if env:
        home = Path(env)
    else:
        location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        home = Path(location) if location else Path.home() / ".backprop-studio"
    home.mkdir(parents=True, exist_ok=True)
    return home


def settings() -> QSettings:
    """An INI file in :func:`app_home` (one place, easy to inspect and to isolate in tests)."""
    return QSettings(str(app_home() / "settings.ini"), QSettings.Format.IniFormat)


class RecentFiles:
    """Most-recently-used graph files, newest first, kept in the settings."""

    KEY = "recent_files"

    def paths(self) -> list[str]:
        value = settings().value(self.KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(p) for p in (value or [])]

    def add(self, path: str) -> None:
        path = str(Path(path).resolve())
        items = [path] + [p for p in self.paths() if p != path]
        self._store(items[:MAX_RECENT])

    def remove(self, path: str) -> None:
        self._store([p for p in self.paths() if p != str(path)])

    def clear(self) -> None:
        self._store([])

    def _store(self, items: list[str]) -> None:
        s = settings()
        s.setValue(self.KEY, items)
        s.sync()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class Recovery:
    """The recovery file of one window: written while there are unsaved changes."""

    def __init__(self, home: Path | None = None) -> None:
        self.folder = (home or app_home()) / "recovery"
        self.path = self.folder / f"{os.getpid()}-{next(_counter)}.recovery.json"

    def write(self, graph, info: dict) -> Path:
        """Save ``graph`` atomically (graph.model.atomic_write, through ``save_graph``) with
        ``info`` (file path, name, time) in its meta."""
        from graph.model.fileformat import save_graph  # noqa: PLC0415

        self.folder.mkdir(parents=True, exist_ok=True)
        save_graph(graph, self.path, meta={"recovery": {**info, "saved_at": time.time(), "pid": os.getpid()}})
        return self.path

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def read(path: Path):
        """``(graph, meta, info)`` of a recovery file; ``info`` holds string ``file_path`` and
        ``name`` whatever the file says. Raises ``GraphFileError`` / ``OSError`` when damaged."""
        from graph.model.fileformat import read_document  # noqa: PLC0415

        g, meta = read_document(path)
        raw = meta.get("recovery")
        raw = raw if isinstance(raw, dict) else {}
        info = {key: raw[key] for key in ("file_path", "name") if isinstance(raw.get(key), str)}
        return g, {k: v for k, v in meta.items() if k != "recovery"}, info

    @staticmethod
    def quarantine(path: Path) -> Path | None:
        """Move a damaged recovery file to ``recovery/damaged/`` so it never blocks a start;
        return where it went (``None`` when it could not be moved, then it is deleted)."""
        target = path.parent / "damaged" / f"{int(time.time())}-{path.name}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            return target
        except OSError:
            path.unlink(missing_ok=True)
            return None

    @staticmethod
    def orphans(home: Path | None = None) -> list[Path]:
        """Recovery files left by processes that no longer run, newest first."""
        folder = (home or app_home()) / "recovery"
        found = []
        for path in folder.glob("*.recovery.json"):
            try:
                pid = int(path.name.split("-", 1)[0])
            except ValueError:
                pid = -1
            if pid < 0 or not _pid_alive(pid):
                found.append(path)
        return sorted(found, key=_mtime, reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:   # removed meanwhile by another window
        return 0.0
