"""Crash recovery for an editor window: the autosaved recovery file and the offer to restore it.

:meth:`app.main_window.MainWindow.autosave_now` (every ``AUTOSAVE_MS``) and
:meth:`~app.main_window.MainWindow.offer_recovery` (at start-up) call these with the window;
the file itself is :class:`app.session.Recovery`. The user's answer comes from the window's
replaceable ``prompt_restore``.
"""
from __future__ import annotations

from graph import GraphError

from . import session


def autosave(window) -> None:
    """Write the recovery file while there are unsaved changes; remove it otherwise."""
    if not window.document.is_modified:
        window.recovery.discard()
        window._autosaved = None
        return
    state = (id(window.document.graph), window.document.undo_stack.index(), window.document.graph.version)
    if state == window._autosaved and window.recovery.path.exists():
        return
    window._autosaved = state
    try:
        window.recovery.write(window.document.graph, {"file_path": window.document.file_path,
                                                      "name": window.document.name})
    except (OSError, ValueError, TypeError) as exc:
        window.log.message(f"Autosave failed: {exc}", "warning")


def offer_recovery(window) -> bool:
    """Offer the newest recovery file a crashed session left; True when restored."""
    orphans = session.Recovery.orphans(window.recovery.folder.parent)
    if not orphans:
        return False
    for path in orphans:
        try:
            g, meta, info = session.Recovery.read(path)
            break
        except (OSError, GraphError, ValueError, RecursionError, MemoryError) as exc:
            moved = session.Recovery.quarantine(path)
            where = f"moved to {moved}" if moved else "deleted"
            window.log.message(f"Ignored a damaged recovery file ({where}): {exc or type(exc).__name__}",
                               "warning")
    else:
        return False
    answer = window.prompt_restore(path, info)
    if answer is None:
        return False
    if not answer:
        path.unlink(missing_ok=True)
        window.log.message("Discarded the recovery file of an earlier session")
        return False
    original = info.get("file_path") or ""
    window.document.reset(g, path=original, name=info.get("name", "") if not original else "", modified=True,
                          meta=meta)
    path.unlink(missing_ok=True)
    autosave(window)
    window.log.message(f"Restored unsaved changes to {window.document.name} from the recovery file", "success")
    window.view.fit()
    return True
