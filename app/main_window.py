"""The editor window: palette | canvas | inspector, message log, menus, files, recovery.

``MainWindow.__init__`` assembles everything in order (see ARCHITECTURE.md, "app/"): the
document, scene and view; the palette, inspector and log docks; the actions, menus and main
toolbar (:func:`app.actions.build_actions`: ``action_set``, ``menus``, ``main_toolbar``);
then the parts built on the editor, each from one typed :class:`app.editor_parts.EditorParts`
(``parts``): ``training`` (:func:`app.training.assemble.build_training`), ``stepping``
(:func:`app.stepping.assemble.build_stepping`), then concepts, exchange and labs. User prompts are methods (``prompt_unsaved``,
``prompt_restore``, ``prompt_open_path``, ``prompt_save_path``, ``show_error``) so tests can
replace them.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox

from graph import GraphError

from . import recovery as crash_recovery
from . import session
from .actions import build_actions
from .canvas import GraphScene, GraphView
from .clipboard import graph_from_mime, graph_mime, paste_offset
from .document import GraphDocument
from .editor_parts import EditorParts
from .exchange_menu import build_exchange
from .inspector import InspectorWidget
from .layout import spread_columns
from .message_log import MessageLog
from .palette import PaletteWidget
from .style import app_icon

APP_NAME = "Backprop Studio"
FILE_FILTER = "Backprop Studio graphs (*.json);;All files (*)"
AUTOSAVE_MS = 30_000
_OPEN_WINDOWS: set = set()


class MainWindow(QMainWindow):
    """One editor window around one :class:`GraphDocument`."""

    def __init__(self, parent=None, restore_layout: bool = True) -> None:
        super().__init__(parent)
        self.setWindowIcon(app_icon())
        self.quiet = False
        self.document = GraphDocument(parent=self)
        self.scene = GraphScene(self.document, self)
        self.view = GraphView(self.scene)
        self.setCentralWidget(self.view)
        self.node_palette = PaletteWidget()
        self.inspector = InspectorWidget(self.document)
        self.log = MessageLog()
        self.palette_dock = self._dock("Nodes", self.node_palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.log_dock = self._dock("Messages", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        palette_width = min(max(210, self.node_palette.preferred_width()), 280)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [palette_width, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [120], Qt.Orientation.Vertical)
        self.recent = session.RecentFiles()
        self.recovery = session.Recovery()
        self._paste_count = 0
        self._autosaved: tuple | None = None  # (graph, undo index, version) last written to the recovery file
        self._build_status_bar()
        self.action_set, self.menus, self.main_toolbar = build_actions(
            self, self, self.document, self.view, [self.palette_dock, self.inspector_dock, self.log_dock])
        self.view.node_menu_actions = [self.action_set[k] for k in ("duplicate", "copy", "cut", "delete")]
        self.refresh_recent()
        self._wire()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        self._update_title()
        self._update_status()
        self.parts = EditorParts(
            window=self, document=self.document, scene=self.scene, view=self.view, log=self.log,
            palette_dock=self.palette_dock, inspector_dock=self.inspector_dock, log_dock=self.log_dock,
            action_set=self.action_set, menus=self.menus, toolbar=self.main_toolbar)
        from .stepping.assemble import build_stepping  # noqa: PLC0415 - the docks import pyqtgraph
        from .training.assemble import build_training  # noqa: PLC0415 - the docks import pyqtgraph
        from .labs.dock import build_labs  # noqa: PLC0415 - the docks import pyqtgraph

        self.training = build_training(self.parts)
        self.stepping = build_stepping(self.parts)
        from .concepts.assemble import build_concepts  # noqa: PLC0415 - the panels import pyqtgraph

        self.concepts = build_concepts(self.parts, self.stepping.controller)
        self.exchange = build_exchange(self.parts, self.training)
        self.labs = build_labs(self.parts, self.training)
        from .classroom import attach_classroom  # noqa: PLC0415 - presentation mode scales pyqtgraph plots

        attach_classroom(self.parts)   # presentation mode, Help, size for the screen, wheel guard
        # docks tabified beside the inspector come to the front; selecting a node should
        # show its parameters until a run or training asks for its own tab
        self.inspector_dock.raise_()
        if restore_layout:  # last, so docks added by other parts of the app are restored too
            self._restore_layout()

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_nodes = QLabel()
        self.status_params = QLabel()
        self.status_zoom = QLabel()
        self.status_backend = QLabel()
        for w in (self.status_nodes, self.status_params, self.status_zoom, self.status_backend):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)
        try:
            from graph.run.backend import resolve_backend  # noqa: PLC0415

            name, _xp, note = resolve_backend("auto")
        except Exception as exc:  # noqa: BLE001 - the status bar must not stop the editor
            name, note = "numpy", f"NumPy (backend probe failed: {exc})"
        short = "GPU (CuPy)" if name == "cupy" else "CPU (NumPy)"
        self.status_backend.setText(f"Backend: {short}")
        self.status_backend.setToolTip(note)
        self.backend_note = note

    def _wire(self) -> None:
        d = self.document
        d.message.connect(self.log.message)
        d.modified_changed.connect(lambda _m: self._update_title())
        d.file_path_changed.connect(lambda _p: self._update_title())
        d.graph_reset.connect(self._update_title)
        d.shapes_changed.connect(self._update_status)
        self.view.zoom_changed.connect(lambda z: self.status_zoom.setText(f"{z * 100:.0f} %"))
        self.scene.selectionChanged.connect(self._selection_changed)
        self.node_palette.add_requested.connect(self.add_at_center)
        self.status_zoom.setText("100 %")

    # -- status and title ----------------------------------------------------------------
    def _update_title(self) -> None:
        mark = "*" if self.document.is_modified else ""
        self.setWindowTitle(f"{self.document.name}{mark} — {APP_NAME}")

    def _update_status(self) -> None:
        g = self.document.graph
        n = len(g)
        self.status_nodes.setText(f"{n} node{'s' * (n != 1)}")
        self.status_params.setText(f"{g.total_params():,} parameters")

    def _selection_changed(self) -> None:
        if self.scene.signalsBlocked():
            return
        self.inspector.show_nodes(self.scene.selected_node_ids())

    def message(self, text: str, level: str = "info") -> None:
        self.log.message(text, level)

    # -- prompts (replaceable in tests) -----------------------------------------------------
    @staticmethod
    def headless() -> bool:
        """True on a platform with no screen (offscreen tests, screenshots): nobody can
        answer a modal dialog there, so prompts take their non-blocking default."""
        return QGuiApplication.platformName() in ("offscreen", "minimal")

    def prompt_unsaved(self) -> str:
        """Ask about unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        if self.headless():
            self.log.message(f"unsaved changes to {self.document.name} discarded (no screen to ask on)",
                             "warning")
            return "discard"
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                          f"“{self.document.name}” has unsaved changes.", parent=self)
        box.setInformativeText("Save them before continuing?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def prompt_restore(self, path: Path, info: dict) -> bool | None:
        """True: restore; False: discard the recovery file; None: keep it for later."""
        if self.headless():
            return None
        when = info.get("saved_at")
        name = info.get("name") or Path(info.get("file_path") or "untitled").name
        import time  # noqa: PLC0415

        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(when)) if when else "an earlier session"
        answer = QMessageBox.question(
            self, APP_NAME, f"Backprop Studio did not close normally.\n\nRestore the unsaved "
                            f"changes to “{name}” from {stamp}?")
        return answer == QMessageBox.StandardButton.Yes

    def prompt_open_path(self) -> str:
        if self.headless():
            return ""
        path, _ = QFileDialog.getOpenFileName(self, "Open graph", self._dialog_dir(), FILE_FILTER)
        return path

    def prompt_save_path(self) -> str:
        if self.headless():
            return ""
        suggested = self.document.file_path or str(Path(self._dialog_dir()) / f"{self.document.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save graph", suggested, FILE_FILTER)
        if path and not Path(path).suffix:
            path += ".json"
        return path

    def show_error(self, title: str, text: str) -> None:
        self.log.message(text, "error")
        if not (self.quiet or self.headless()):
            QMessageBox.warning(self, title, text)

    def _dialog_dir(self) -> str:
        recent = self.recent.paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # -- documents -------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current graph (saved, discarded or unchanged)."""
        if not self.document.is_modified:
            return True
        answer = self.prompt_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_document(self) -> bool:
        if not self.maybe_save():
            return False
        from graph import Graph  # noqa: PLC0415

        self.document.reset(Graph())
        self.recovery.discard()
        self.view.reset_zoom()
        self.view.centerOn(0, 0)
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        path = self.prompt_open_path()
        return self.load_path(path) if path else False

    def open_path(self, path: str) -> bool:
        """Open ``path`` after asking about unsaved changes."""
        return self.maybe_save() and self.load_path(path)

    def load_path(self, path: str) -> bool:
        """Replace the graph with the file at ``path``; errors go to the log and a message box."""
        from graph.model.fileformat import GraphFileError, read_document  # noqa: PLC0415

        try:
            g, meta = read_document(path)
        except FileNotFoundError:
            self.recent.remove(path)
            self.refresh_recent()
            self.show_error("Open failed", f"Could not open {path}: no such file")
            return False
        except (OSError, GraphFileError, GraphError, ValueError, RecursionError, MemoryError) as exc:
            # loaders raise typed errors; the others are a last line so the editor keeps working
            self.show_error("Open failed", f"Could not open {path}: {exc or type(exc).__name__}")
            return False
        self.document.reset(g, path=str(Path(path).resolve()),
                            meta={k: v for k, v in meta.items() if k != "recovery"})
        self.recovery.discard()
        self.recent.add(path)
        self.refresh_recent()
        self.log.message(f"Opened {path} ({len(g)} nodes)", "success")
        self._apply_view_meta(self.document.meta.get("view"))
        return True

    def _apply_view_meta(self, view_meta) -> None:
        """Zoom and centre as saved with the file; fit the graph when there is none."""
        try:
            zoom = float(view_meta["zoom"])
            cx, cy = (float(v) for v in view_meta["center"])
        except (TypeError, KeyError, ValueError):
            self.view.fit()
            return
        self.view.zoom_by(zoom / self.view.zoom())
        self.view.centerOn(cx, cy)

    def open_template(self, name: str, ask: bool = True) -> bool:
        """Open the built-in example ``name`` as an unsaved, untitled document."""
        if ask and not self.maybe_save():
            return False
        from graph import templates  # noqa: PLC0415

        try:
            g = templates.build(name)
        except GraphError as exc:
            self.show_error("Example", str(exc))
            return False
        spread_columns(g)
        self.document.reset(g, name=name)
        self.recovery.discard()
        self.log.message(f"Opened example “{name}”: {templates.describe(name)}", "success")
        self.view.fit_readable()
        return True

    def save(self) -> bool:
        if not self.document.file_path:
            return self.save_as()
        return self.save_to(self.document.file_path)

    def save_as(self) -> bool:
        path = self.prompt_save_path()
        return self.save_to(path) if path else False

    def save_to(self, path: str) -> bool:
        from graph.model.fileformat import save_graph  # noqa: PLC0415

        meta = dict(self.document.meta)
        center = self.view.center_scene_pos()
        meta["view"] = {"zoom": round(self.view.zoom(), 4), "center": [round(center.x(), 1), round(center.y(), 1)]}
        try:
            save_graph(self.document.graph, path, meta=meta)
        except (OSError, ValueError, TypeError) as exc:
            self.show_error("Save failed", f"Could not save {path}: {exc}")
            return False
        self.document.meta = meta
        self.document.mark_saved(str(Path(path).resolve()))
        self.recovery.discard()
        self.recent.add(path)
        self.refresh_recent()
        self.log.message(f"Saved {path}", "success")
        return True

    def refresh_recent(self) -> None:
        menu = self.menus.recent
        menu.clear()
        paths = self.recent.paths()
        for path in paths:
            menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)
        if paths:
            menu.addSeparator()
            menu.addAction("Clear Recent", lambda: (self.recent.clear(), self.refresh_recent()))
        else:
            menu.addAction("(no recent files)").setEnabled(False)

    # -- recovery (app/recovery.py) -----------------------------------------------------------
    def autosave_now(self) -> None:
        """Write the recovery file while there are unsaved changes; remove it otherwise."""
        crash_recovery.autosave(self)

    def offer_recovery(self) -> bool:
        """Offer the newest recovery file a crashed session left; True when restored."""
        return crash_recovery.offer_recovery(self)

    # -- editing -----------------------------------------------------------------------------
    def new_window(self) -> MainWindow:
        """Open another, empty editor window (copy and paste work between windows)."""
        window = MainWindow()
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _OPEN_WINDOWS.add(window)
        window.destroyed.connect(lambda _obj=None, w=window: _OPEN_WINDOWS.discard(w))
        window.move(self.pos().x() + 40, self.pos().y() + 40)
        window.show()
        return window

    def add_at_center(self, type_name: str) -> str | None:
        return self.view.add_node_at(type_name, self.view.free_scene_pos(self.view.center_scene_pos()))

    def copy_selection(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        QGuiApplication.clipboard().setMimeData(graph_mime(self.document.graph, ids))
        self._paste_count = 0
        self.log.message(f"Copied {len(ids)} node{'s' * (len(ids) != 1)}")
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            self.document.remove_nodes(self.scene.selected_node_ids(), text="Cut")

    def paste(self) -> list[str]:
        fragment = graph_from_mime(QGuiApplication.clipboard().mimeData())
        if fragment is None:
            self.log.message("Nothing to paste: the clipboard holds no Backprop Studio nodes", "warning")
            return []
        self._paste_count += 1
        step = 40.0 * self._paste_count
        seen = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        ids = self.document.paste(fragment, paste_offset(fragment, seen, step))
        self.scene.select_nodes(ids)
        return ids

    def duplicate_selection(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        new = self.document.paste(self.document.fragment(ids), (40.0, 40.0), text="Duplicate")
        self.scene.select_nodes(new)
        return new

    def delete_selection(self) -> None:
        self.document.remove_nodes(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        for item in self.scene.node_items():
            item.setSelected(True)

    def versions(self) -> str:
        """``Backprop Studio 0.1.0 · Qt 6.x · PySide6 6.x · Python 3.x`` (for About and bug reports)."""
        import platform  # noqa: PLC0415
        from importlib import metadata  # noqa: PLC0415

        import PySide6  # noqa: PLC0415
        from PySide6.QtCore import qVersion  # noqa: PLC0415

        try:
            version = metadata.version("backprop-studio")
        except metadata.PackageNotFoundError:  # running from a checkout
            import tomllib  # noqa: PLC0415

            try:
                with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
                    version = f"{tomllib.load(f)['project']['version']} (source checkout)"
            except (OSError, KeyError, tomllib.TOMLDecodeError):
                version = "(source checkout)"
        return (f"{APP_NAME} {version} · Qt {qVersion()} · PySide6 {PySide6.__version__} · "
                f"Python {platform.python_version()}")

    def about(self) -> None:
        if self.headless():
            self.log.message(f"{self.versions()} · {self.backend_note}")
            return
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<h3>{APP_NAME}</h3><p>Build computation graphs, step backpropagation node by "
                          "node and train small CNNs — after the book <i>Deep Learning from Scratch</i>.</p>"
                          f"<p>{self.versions()}</p><p>{self.backend_note}</p>")

    # -- window state -------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = session.settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.autosave_timer.stop()
        self.recovery.discard()
        s = session.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.sync()
        event.accept()

    def shortcut_for(self, name: str) -> QKeySequence:
        return self.action_set[name].shortcut()
