"""The one way files are saved: write a temporary file beside the target, then rename.

Graph files, run files (metrics, config), checkpoints and the editor's recovery files all
go through :func:`atomic_write`, so each of them is either the old file or the new one,
whole, whatever happens (SIGKILL, a full disk, an exception in the serialiser):

* the temporary file is created next to the target (same file system, so ``os.replace``
  is atomic) with an unpredictable name and ``O_EXCL`` (never follows a planted link);
* a new file gets mode ``0o666`` minus the umask (the kernel applies it at creation); an
  existing target keeps its own mode;
* the file is fsync'ed before the rename and the folder after it, so the rename survives
  a power cut;
* a symlink as target is followed: the file it points to is replaced, the link stays;
* on any failure the temporary file is removed and the ``OSError`` names the target (and
  its folder), never the temporary name;
* temporary names carry the writing process id (``.<name>.bs<pid>-<random>.tmp``); the
  next save into a folder removes those whose process is gone (saves killed mid-write).
"""
from __future__ import annotations

import errno
import io
import os
import re
import secrets
from typing import BinaryIO, Callable, Union

Payload = Union[bytes, bytearray, memoryview, Callable[[BinaryIO], None]]

_TEMP_RE = re.compile(r"^\..+\.bs(\d+)-[0-9a-f]{12}\.tmp$")


def atomic_write(path, data: Payload) -> str:
    """Atomically replace ``path`` with ``data``; return the path actually written.

    Parameters
    ----------
    path : str or path-like
        Target file; a symlink is followed to the file it points to.
    data : bytes, or callable
        The whole content, or ``writer(fh)`` that writes it into a binary file object.

    Raises
    ------
    OSError
        Same class and errno as the failure, ``filename`` = ``path``, message naming the
        folder and the reason (``cannot save (no space left on the device of /x; ...)``).
    """
    target = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(target)
    clean_stale_temp_files(folder)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.bs{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        # 0o666 & ~umask for a new file: the kernel applies the umask at creation
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        raise _target_error(exc, os.fspath(path), folder) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename in (tmp, None) and exc.errno is not None:
            raise _target_error(exc, os.fspath(path), folder) from None
        raise
    fsync_dir(folder)
    return target


def atomic_write_text(path, writer: Callable[[io.TextIOBase], None]) -> str:
    """:func:`atomic_write` for a ``writer(text_file)`` that writes UTF-8 text."""
    def binary(fh: BinaryIO) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
        try:
            writer(text)
            text.flush()
        finally:
            text.detach()
    return atomic_write(path, binary)


def clean_stale_temp_files(folder: str) -> list[str]:
    """Remove temporary files of saves whose process is gone; return their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TEMP_RE.match(name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass  # another process cleaned it first, or the folder is read-only: harmless
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True   # a save of this process may be running in another thread
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _target_error(exc: OSError, path: str, folder: str) -> OSError:
    """``exc`` reworded to name the target ``path`` and its ``folder`` (same class and errno)."""
    if not os.path.isdir(folder):
        why = f"the folder {folder} does not exist"
    elif exc.errno == errno.ENOSPC:
        why = f"no space left on the device of {folder}"
    elif exc.errno == getattr(errno, "EDQUOT", errno.ENOSPC):
        why = f"disk quota exceeded in {folder}"
    elif not os.access(folder, os.W_OK):
        why = f"the folder {folder} is not writable"
    else:
        why = f"cannot write into the folder {folder}"
    return type(exc)(exc.errno, f"cannot save ({why}; {exc.strerror})", path)


def fsync_dir(folder: str) -> None:
    """Make a rename durable; not every platform can open a directory."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
