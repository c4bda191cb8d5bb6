"""What the training dock keeps per graph: its settings (in the file's ``meta["training"]``)
and, when another graph is opened, nothing of the last run (:func:`forget_run`).

:func:`settings_state` reads every field of a :class:`TrainingSettings` by attribute name
(spin boxes, combo boxes, check boxes, and the optimizer and schedule option fields), so
a field added to the form is saved without touching this module; :func:`restore_settings`
puts such a dict back, skipping names the form no longer has. :class:`SettingsKeeper`
writes the state to the document (one undoable, merging step) a moment after the form
changes, and restores it when another graph is opened.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .outcome import input_image_shape, weights_fingerprint

META_KEY = "training"
SAVE_DELAY_MS = 400
FIELDS = (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QCheckBox)
SKIP = {"dataset"}   # the dataset is chosen per session (files may not exist elsewhere)


def _read(w):
    if isinstance(w, QtWidgets.QCheckBox):
        return w.isChecked()
    if isinstance(w, QtWidgets.QComboBox):
        return w.currentData() if w.currentData() is not None else w.currentText()
    return w.value()


def _write(w, value) -> None:
    if isinstance(w, QtWidgets.QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QtWidgets.QComboBox):
        i = w.findData(value)
        i = i if i >= 0 else w.findText(str(value))
        if i >= 0:
            w.setCurrentIndex(i)
    elif isinstance(w, QtWidgets.QSpinBox):
        w.setValue(int(value))
    else:
        w.setValue(float(value))


def _fields(settings) -> dict[str, QtWidgets.QWidget]:
    out = {name: w for name, w in vars(settings).items() if isinstance(w, FIELDS) and name not in SKIP}
    options = getattr(settings, "data_options", None)
    if options is not None:
        out.update({f"data.{n}": w for n, w in vars(options).items() if isinstance(w, FIELDS)})
    return out


def settings_state(settings) -> dict:
    """Every field's value by name; optimizer and schedule options under their own keys."""
    state = {name: _read(w) for name, w in _fields(settings).items()}
    state["optimizer_options"] = {k: f.value() for k, f in settings.hyper_fields.items()}
    state["schedule_options"] = {k: f.value() for k, f in settings.schedule_fields.items()}
    return state


def restore_settings(settings, state: dict) -> None:
    """Put ``state`` back: the optimizer and schedule first (they rebuild their option
    fields), then every other field, then the options."""
    fields = _fields(settings)
    for name in ("optimizer", "schedule"):
        if name in state and name in fields:
            _write(fields[name], state[name])
    for name, value in state.items():
        if name in fields and name not in ("optimizer", "schedule"):
            try:
                _write(fields[name], value)
            except (TypeError, ValueError):
                continue   # a value from an older file that no longer fits: keep the default
    for group, store in (("optimizer_options", settings.hyper_fields), ("schedule_options", settings.schedule_fields)):
        for k, v in (state.get(group) or {}).items():
            if k in store:
                store[k].setValue(float(v))


class SettingsKeeper(QtCore.QObject):
    """Keeps ``document.meta["training"]`` in step with the form, and the form with it."""

    def __init__(self, settings, document, parent=None) -> None:
        super().__init__(parent)
        self.settings, self.document = settings, document
        self._restoring = False
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        self._watched: set[int] = set()
        self._watch_fields()
        self._shown = settings_state(settings)   # what the form showed when this graph came
        self._defaults = self._shown              # the form as built: a graph with no saved settings gets it
        document.graph_reset.connect(self.restore)

    def _watch_fields(self) -> None:
        """Listen to every field, including option fields the form rebuilt since."""
        for w in self.settings.findChildren(QtWidgets.QWidget):
            if id(w) in self._watched:
                continue
            if isinstance(w, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
                w.valueChanged.connect(self._changed)
            elif isinstance(w, QtWidgets.QComboBox):
                w.currentIndexChanged.connect(self._changed)
            elif isinstance(w, QtWidgets.QCheckBox):
                w.toggled.connect(self._changed)
            else:
                continue
            self._watched.add(id(w))
            w.destroyed.connect(lambda *_a, key=id(w): self._watched.discard(key))

    def _changed(self, *_args) -> None:
        if not self._restoring:
            self._timer.start()
            QtCore.QTimer.singleShot(0, self, self._watch_fields)

    def save(self) -> None:
        """Write the form's state to the document now: an undoable step, when it differs from
        what the document holds (or, holding nothing, from what the form showed when the
        graph came). Loading a dataset refills fields with the same values, and showing
        the dock used to leave an undo step and a modified file behind."""
        self._timer.stop()
        state = settings_state(self.settings)
        stored = self.document.meta.get(META_KEY)
        if state == (stored if isinstance(stored, dict) else self._shown):
            return
        self.document.set_meta(META_KEY, state)

    def restore(self) -> None:
        """Fill the form from the opened graph's saved settings, or with the defaults for a
        graph that has none (simple_convnet opened after a toy run kept its 3000 epochs)."""
        self._timer.stop()
        state = self.document.meta.get(META_KEY)
        self._restoring = True
        try:
            restore_settings(self.settings, state if isinstance(state, dict) else self._defaults)
        finally:
            self._restoring = False
        self._shown = settings_state(self.settings)


def forget_run(panel, idle_status: str) -> None:
    """Another graph was opened in ``panel``'s window: nothing of the last run describes it
    any more (status, progress, curves, results), unless it holds exactly the weights that
    run trained (saved, then opened again): then its curves come back, so continuing the
    run carries them on."""
    panel.settings.image_shape = input_image_shape(panel.graph)
    if panel.running:
        return
    kept = panel._kept_run
    if kept is not None and kept[0] == weights_fingerprint(panel.graph):
        panel.views.curves.restore(kept[1])
        panel.dock.status.setText("These are the weights of the last run; its curves are shown. "
                                  "Continue to train on, Start for fresh weights.")
        return
    panel.last_result = None
    panel.outcome = ""
    panel.dock.status.setText(idle_status)
    panel.dock.progress.setRange(0, 100)
    panel.dock.progress.setValue(0)
    panel.dock.progress.setFormat("no run yet for this graph")
    if panel.views.built:
        panel.views.curves.reset()
        panel.views.results.clear()
