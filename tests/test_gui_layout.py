"""The dock layout a user leaves behind comes back in the next window (offscreen)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui_helpers import studio_home  # noqa: F401


def _window(qtbot, restore: bool):
    from app.main_window import MainWindow  # noqa: PLC0415

    window = MainWindow(restore_layout=restore)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    qtbot.addWidget(window)
    window.show()
    QApplication.processEvents()
    return window


def _layout(window) -> dict:
    views = window.training.views
    return {"palette": window.palette_dock.isVisible(), "log": window.log_dock.isVisible(),
            "views": views.isVisible(), "log_area": window.dockWidgetArea(window.log_dock)}


def test_closing_saves_the_dock_layout_and_the_next_window_restores_it(qtbot, studio_home):  # noqa: F811
    first = _window(qtbot, restore=True)
    default = _layout(first)
    assert default == {"palette": True, "log": True, "views": False, "log_area": Qt.DockWidgetArea.BottomDockWidgetArea}
    # the user rearranges: no palette, the training views open, the messages on the right
    first.palette_dock.hide()
    first.training.views.show()
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.log_dock)
    QApplication.processEvents()
    changed = _layout(first)
    assert changed == {"palette": False, "log": True, "views": True, "log_area": Qt.DockWidgetArea.RightDockWidgetArea}
    assert first.close()
    assert (studio_home / "settings.ini").is_file()

    assert _layout(_window(qtbot, restore=True)) == changed
    # a window asked not to restore (screenshots) starts from the default layout
    assert _layout(_window(qtbot, restore=False)) == default


@pytest.mark.parametrize("state", [b"", b"not a saved Qt state"])
def test_a_damaged_saved_layout_leaves_the_default(qtbot, studio_home, state):  # noqa: F811
    from PySide6.QtCore import QByteArray  # noqa: PLC0415

    from app import session  # noqa: PLC0415

    default = _layout(_window(qtbot, restore=False))
    s = session.settings()
    s.setValue("window/state", QByteArray(state))
    s.sync()
    assert _layout(_window(qtbot, restore=True)) == default


def test_the_training_form_fits_its_dock_at_its_narrowest(qtbot, studio_home):  # noqa: F811
    """The form was 456 px wide in a 330 px dock (the scaling choices' longest text): its
    right side was cut off and Tab scrolled it sideways, hiding every label."""
    window = _window(qtbot, restore=False)
    dock = window.training.dock
    dock.show()
    QApplication.processEvents()
    form = window.training.settings
    assert form.minimumSizeHint().width() <= dock.minimumWidth() - 20


def test_the_inspector_page_fits_its_dock(qtbot, studio_home):  # noqa: F811
    """The graph summary's long memory line made the page 550 px wide in a 330 px dock:
    a horizontal scroll bar, and the hint above cut off on the right."""
    window = _window(qtbot, restore=False)
    window.resize(1280, 720)
    window.open_template("toy_mlp", ask=False)
    QApplication.processEvents()
    inspector = window.inspector_dock.widget()
    assert inspector.horizontalScrollBar().maximum() == 0
