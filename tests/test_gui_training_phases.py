"""The end of a GUI run (pytest-qt, offscreen): editing unlocks as soon as the weights are
final, while the final evaluation still runs; the progress bar names each phase; the
float16 check's result is in Results."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore  # noqa: E402

from tests.test_gui_training import studio, wait_ended  # noqa: E402,F401 - the fixture


def test_editing_unlocks_when_the_weights_are_final_and_phases_show(qtbot, studio):  # noqa: F811
    window, panel = studio
    assert panel.start(fresh=True, max_iterations=5)
    worker = panel.run.worker
    at_final, formats = [], []

    class Probe(QtCore.QObject):
        """Lives in the GUI thread and connects after the panel: sees the state its slots left."""

        @QtCore.Slot(object, object)
        def weights_ready(self, *_args):
            at_final.append((panel.running, panel.dock.banner.isVisible(), window.action_set["undo"].isEnabled(),
                             panel.dock.stop_button.isEnabled(), window.document.undo_stack.count()))

        @QtCore.Slot(object)
        def phase(self, ph):
            formats.append((ph["phase"], panel.dock.progress.format()))

    probe = Probe()
    worker.weights_ready.connect(probe.weights_ready)
    worker.phase.connect(probe.phase)
    assert wait_ended(qtbot, panel) == "stopped"
    (running, banner, undo, stop, steps), = at_final
    assert running and not banner and undo and not stop, "editing stayed locked until the evaluation ended"
    assert steps == window.document.undo_stack.count()  # the weights went in then, once
    shown = dict(formats)
    assert shown["evaluation"].startswith("evaluating the final weights")
    assert "/10,000" in [f for p, f in formats if p == "evaluation"][-1]
    assert shown["float16"].startswith("float16 check")
    result = panel.last_result
    assert result["float16_test_accuracy"] is not None
    summary = panel.views.results.summary.text()
    assert f"rounded to float16 {result['float16_test_accuracy']:.2%}" in summary
