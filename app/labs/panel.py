"""The frame every lab panel shares: settings form, Start/Pause/Stop, progress, export.

A subclass builds its plots in :meth:`build_plots`, clears them in :meth:`reset_plots`,
draws live updates in :meth:`on_update` and the final picture in :meth:`show_result`.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from graph.training.labs import LabError, make_lab

from .form import SettingsForm
from .worker import LabRun


class LabPanel(QtWidgets.QWidget):
    """One lab: form on the left, plots on the right, buttons and a status line below."""

    lab_cls = None
    form_skip: tuple = ()
    result_ready = QtCore.Signal(object)    # LabResult
    runs_finished = QtCore.Signal(object)   # list of RunRecord, for the session's run list
    state_changed = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(f"labPanel_{self.lab_cls.name}")
        self.run: LabRun | None = None
        self.result = None
        self.form = SettingsForm(self.lab_cls.Settings, self.form_skip)
        about = QtWidgets.QLabel(self.lab_cls.about)
        about.setWordWrap(True)
        about.setStyleSheet("color: #555;")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(inner)
        col.addWidget(about)
        col.addWidget(self.form)
        col.addStretch(1)
        scroll.setWidget(inner)
        scroll.setMinimumWidth(260)

        self.start_button = QtWidgets.QPushButton("Start")
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.png_button.clicked.connect(lambda: self.export_png())
        self.csv_button.clicked.connect(lambda: self.export_csv())
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.extra_buttons = buttons
        for b in (self.png_button, self.csv_button):
            buttons.addWidget(b)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plots = QtWidgets.QWidget()
        self.build_plots(self.plots)
        split = QtWidgets.QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 900])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        # the summary can run to a dozen lines: it scrolls instead of squeezing the plots
        status_scroll = QtWidgets.QScrollArea()
        status_scroll.setWidgetResizable(True)
        status_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        status_scroll.setWidget(self.status)
        status_scroll.setMaximumHeight(96)
        layout.addWidget(status_scroll)
        self._sync_buttons()

    # -- for subclasses ---------------------------------------------------------------------
    def build_plots(self, host: QtWidgets.QWidget) -> None:
        raise NotImplementedError

    def reset_plots(self) -> None:
        """Clear the plots for a new run."""

    def on_update(self, update: dict) -> None:
        """Draw one live update (see :class:`graph.training.labs.base.LabProgress`)."""

    def show_result(self, result) -> None:
        """Draw the finished result."""

    def lab_settings(self):
        """The settings to run with (the form's, parsed)."""
        return self.form.settings()

    # -- running ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.run is not None and self.run.running

    def start(self, settings=None) -> bool:
        """Start the lab with the form's settings (or ``settings``); False when it cannot."""
        if self.running:
            return False
        try:
            lab = make_lab(self.lab_cls.name, settings if settings is not None else self.lab_settings())
        except (LabError, ValueError) as exc:
            self.status.setText(f"<span style='color:#b00020'>{exc}</span>")
            return False
        self.result = None
        self.reset_plots()
        self.progress.setRange(0, 0)
        self.status.setText("Running…")
        self.run = LabRun(lab, self)
        self.run.progress.connect(self._on_progress)
        self.run.finished.connect(self._on_finished)
        self.run.failed.connect(self._on_failed)
        self.run.ended.connect(self._sync_buttons)
        self.run.start()
        self._sync_buttons()
        return True

    def toggle_pause(self) -> None:
        if not self.running:
            return
        if self.run.paused:
            self.run.resume()
            self.status.setText("Running…")
        else:
            self.run.pause()
            self.status.setText("Paused between two steps. Resume to go on, Stop to end the lab.")
        self._sync_buttons()

    def stop(self) -> None:
        if self.running:
            self.run.stop()
            self.status.setText("Stopping after the current step…")

    def shutdown(self) -> None:
        if self.running:
            self.run.stop()
            self.run.wait(10000)

    def _on_progress(self, events: list) -> None:
        last = events[-1]
        if last.total:
            self.progress.setRange(0, last.total)
            self.progress.setValue(last.done)
            self.progress.setFormat(f"{last.stage}: {last.done}/{last.total}")
        if last.message and not (self.run and self.run.paused):
            self.status.setText(last.message)
        for ev in events:
            if ev.update:
                self.on_update(ev.update)

    def _on_finished(self, result) -> None:
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("stopped" if result.stopped else "done")
        self.show_result(result)
        head = "Stopped. " if result.stopped else ""
        self.status.setText(head + "<br>".join(_escape(line) for line in result.summary))
        self.result_ready.emit(result)
        if result.runs:
            self.runs_finished.emit(list(result.runs))
        self._sync_buttons()

    def _on_failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"<span style='color:#b00020'>{_escape(message)}</span>")
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if running and self.run.paused else "Pause")
        self.stop_button.setEnabled(running)
        self.png_button.setEnabled(True)
        self.csv_button.setEnabled(self.result is not None)
        self.form.set_enabled(not running)
        self.state_changed.emit()

    # -- export ----------------------------------------------------------------------------
    def export_png(self, path: str | None = None) -> str | None:
        """Save the plots as they are on screen."""
        path = path or self._ask_path("Export plots as PNG", f"{self.lab_cls.name}.png", "PNG images (*.png)")
        if not path:
            return None
        if not self.plots.grab().save(path, "PNG"):
            self.status.setText(f"<span style='color:#b00020'>Could not write {_escape(path)}</span>")
            return None
        self.status.setText(f"Plots saved to {_escape(path)}")
        return path

    def export_csv(self, path: str | None = None) -> list:
        """Save the result's tables as CSV (the first to ``path``, others next to it)."""
        if self.result is None:
            return []
        path = path or self._ask_path("Export numbers as CSV", f"{self.lab_cls.name}.csv", "CSV files (*.csv)")
        if not path:
            return []
        try:
            written = self.result.write_csv(path)
        except OSError as exc:
            self.status.setText(f"<span style='color:#b00020'>Could not write {_escape(path)}: {exc.strerror}</span>")
            return []
        self.status.setText("Saved " + ", ".join(_escape(str(p)) for p in written))
        return written

    def _ask_path(self, title: str, name: str, filters: str) -> str:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, name, filters)
        return path


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
