"""Regressions for editor bugs found by using the app in a real (Xvfb) window.

Each test names what a user saw before the fix.
"""
from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QAction, QFont, QFontMetricsF, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox

from gui_helpers import LEFT, NO_MOD, drop_node, studio_home, window  # noqa: F401

CTRL = Qt.KeyboardModifier.ControlModifier


def _override(widget, key=Qt.Key.Key_Z, mods=CTRL) -> bool:
    """Send the ShortcutOverride Qt sends before a shortcut; True when the widget keeps the key."""
    event = QKeyEvent(QEvent.Type.ShortcutOverride, key, mods)
    event.ignore()
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_no_action_shares_a_shortcut(window):
    """Ctrl+Q (Quit) and Ctrl+Shift+S (Save As) did nothing on Linux: each action listed
    the platform's standard key and the same key again, and Qt printed "Ambiguous
    shortcut overload" instead of triggering it."""
    seen = Counter()
    for action in window.findChildren(QAction):
        keys = [s.toString() for s in action.shortcuts()]
        assert len(keys) == len(set(keys)), (action.text(), keys)
        seen.update(keys)
    assert [k for k, n in seen.items() if n > 1] == []
    assert QKeySequence("Ctrl+Q") in window.action_set["quit"].shortcuts()
    assert QKeySequence("Ctrl+Shift+S") in window.action_set["save_as"].shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in window.action_set["redo"].shortcuts()


def test_ctrl_z_in_a_committed_inspector_field_undoes_the_edit(window):
    """After typing a value and Enter, Ctrl+Z in the field did nothing: the line edit
    claimed the key although it had no typing of its own left to undo."""
    node = drop_node(window, "MaxPool2D", (300, 200))
    edit = window.inspector.id_edit
    spin = window.inspector.param_widgets["kernel_size"]
    assert isinstance(spin, QSpinBox)
    spin.setValue(3)  # committed (keyboard tracking is off, so this is the Enter path)
    assert window.document.graph.node(node).params["kernel_size"] == 3
    # nothing typed since: the keys go on to the window's Undo / Redo actions
    assert not _override(spin)
    assert not _override(edit)
    assert not _override(edit, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert not _override(edit, Qt.Key.Key_Y, CTRL)
    # other keys, and undo of the user's own typing, stay with the field
    assert _override(edit, Qt.Key.Key_A, NO_MOD)
    QTest.keyClicks(edit, "x")
    assert edit.isUndoAvailable() and _override(edit)
    window.document.undo_stack.undo()
    assert window.document.graph.node(node).params["kernel_size"] == 2
    assert window.inspector.param_widgets["kernel_size"].value() == 2


def test_ctrl_z_shortcut_from_inspector_field_reaches_the_document(window):
    """The same through Qt's shortcut machinery, as a user's key press goes."""
    node = drop_node(window, "Constant", (300, 200))
    value = window.inspector.param_widgets["value"]
    assert isinstance(value, QLineEdit)
    # shortcuts need an active window: make sure it is, rather than skip the check quietly
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window, 5000) and QApplication.activeWindow() is window
    value.setFocus()
    value.selectAll()
    QTest.keyClicks(value, "7")
    QTest.keyClick(value, Qt.Key.Key_Return)
    assert window.document.graph.node(node).params["value"] == 7
    QTest.keyClick(window.inspector.param_widgets["value"], Qt.Key.Key_Z, CTRL)
    assert window.document.graph.node(node).params["value"] == 1


def test_about_names_the_real_qt_version(window):
    """The About box read "Qt · NumPy on the CPU": it printed the app's (unset)
    applicationVersion where the Qt version belonged."""
    from PySide6.QtCore import qVersion  # noqa: PLC0415

    text = window.versions()
    assert f"Qt {qVersion()}" in text and "PySide6 " in text and "Python " in text
    window.about()  # offscreen: logged instead of a modal box
    assert f"Qt {qVersion()}" in window.log.last()


def _darkest(widget) -> int:
    image = widget.grab().toImage()
    return min(image.pixelColor(x, y).lightness() for x in range(image.width()) for y in range(image.height()))


def test_disabled_actions_are_greyed_out(window):
    """Undo, Redo and Stop looked clickable when disabled: the stylesheet's one text
    colour for every widget replaced the greyed-out palette colour."""
    from app.style import stylesheet  # noqa: PLC0415

    app = QApplication.instance()
    before = app.styleSheet()
    app.setStyleSheet(stylesheet())
    try:
        bar = window.main_toolbar
        undo = next(a for a in bar.actions() if a.text() == "Undo")
        new = next(a for a in bar.actions() if a.text().replace("&", "") == "New")
        assert not undo.isEnabled() and new.isEnabled()
        QApplication.processEvents()
        disabled, enabled = _darkest(bar.widgetForAction(undo)), _darkest(bar.widgetForAction(new))
        assert disabled > enabled + 30  # was equal before the fix
    finally:
        app.setStyleSheet(before)


def test_double_click_in_palette_twice_does_not_stack_nodes(window):
    """Double-clicking a palette entry twice put the second node exactly on top of the
    first (and on the apple example, over "tax"), hiding the node underneath."""
    window.open_template("apple", ask=False)
    palette = window.node_palette
    for _ in range(4):
        palette.tree.itemDoubleClicked.emit(palette.item_for("Constant"), 0)
    g = window.document.graph
    assert len(g) == 9
    view_rect = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    boxes = {n: window.scene.nodes[n].mapRectToScene(window.scene.nodes[n].box()) for n in g.nodes()}
    for n, box in boxes.items():
        assert view_rect.contains(box), n
        assert not [m for m, other in boxes.items() if m != n and other.intersects(box)], n


def test_space_pan_survives_a_key_release_without_the_autorepeat_flag(window):
    """Space+drag stopped panning part way: Xvfb and remote X servers report key
    auto-repeat as real release/press pairs, and the first release ended the pan."""
    view = window.view
    vp = view.viewport()
    view.setFocus()
    before = view.mapToScene(QPoint(0, 0))
    QTest.keyPress(view, Qt.Key.Key_Space)
    start, end = QPoint(400, 300), QPoint(200, 200)
    QTest.mousePress(vp, LEFT, NO_MOD, start)
    QTest.mouseMove(vp, QPoint(300, 250))
    QTest.keyRelease(view, Qt.Key.Key_Space)  # an unflagged "auto-repeat" release
    QTest.keyPress(view, Qt.Key.Key_Space)
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, LEFT, NO_MOD, end)
    QTest.keyRelease(view, Qt.Key.Key_Space)
    moved = view.mapToScene(QPoint(0, 0)) - before
    zoom = view.zoom()
    assert abs(moved.x() - 200 / zoom) < 2 and abs(moved.y() - 100 / zoom) < 2
    assert window.document.graph.nodes() == []


def test_grid_lines_stay_apart_when_zoomed_out(window):
    """At 8 % the grid drew a dark line every 8 px (all "major"): the canvas turned grey."""
    from app.canvas.view import MIN_GRID_PX, grid_step  # noqa: PLC0415

    assert grid_step(1.0) == 20.0 and grid_step(0.6) == 20.0
    for zoom in (0.08, 0.1, 0.2, 0.3, 0.49, 1.0, 4.0):
        step = grid_step(zoom)
        assert step * zoom >= MIN_GRID_PX
        assert step == 20.0 or step * zoom <= 5 * MIN_GRID_PX  # no coarser than needed
    window.view.zoom_by(0.08 / window.view.zoom())
    window.view.viewport().grab()  # draws the background at the smallest zoom


def test_every_palette_icon_shows_a_symbol_its_font_has(window):
    """ReLU and LeakyReLU showed an empty box: "⟋" is in none of the usual fonts."""
    from app.palette import catalog  # noqa: PLC0415
    from app.style import icon_text, op_icon  # noqa: PLC0415

    font = QFont()
    font.setBold(True)
    metrics = QFontMetricsF(font)
    for type_name, category in catalog():
        text = icon_text(type_name, font)
        assert text is None or all(metrics.inFontUcs4(ord(c)) for c in text), type_name
        assert not op_icon(type_name, category).isNull()
    assert icon_text("ReLU", font) is None  # drawn as its graph


def test_quick_add_enter_takes_the_best_name_match(window):
    """Typing "flat" + Enter added Affine (its description mentions flattening)."""
    popup = window.view.open_quick_add(QPoint(200, 200))
    for text, expected in (("flat", "Flatten"), ("mul", "Mul"), ("Mul", "Mul"), ("conv", "Conv2D"),
                           ("relu", "ReLU"), ("loss", None)):
        popup.search.setText(text)
        current = popup.list.currentItem()
        assert current is not None and not current.isHidden()
        if expected:
            assert current.data(Qt.ItemDataRole.UserRole) == expected, text
    popup.search.setText("flat")
    popup.accept_current()
    assert [window.document.graph.node(n).type for n in window.document.graph.nodes()] == ["Flatten"]


def test_quick_add_stays_on_screen_and_needs_no_side_scrolling(window):
    """Opened near the bottom of the screen the popup ran off it; its list scrolled sideways."""
    popup = window.view.open_quick_add(QPoint(100, 100))
    area = popup.screen().availableGeometry()
    popup.popup_at(QPoint(area.right() - 5, area.bottom() - 5))
    assert area.contains(popup.frameGeometry())
    assert popup.list.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert popup.list.viewport().width() >= popup.list.sizeHintForColumn(0)
    popup.close()


def test_inspector_is_the_front_tab_and_palette_names_fit(window):
    """The step inspector's tab covered the node inspector, so selecting a node showed
    no parameters; "SoftmaxCrossEntropy" was elided in the palette."""
    assert window.inspector.isVisible()
    drop_node(window, "Conv2D", (300, 200))
    assert window.inspector.param_widgets and window.inspector.param_widgets["out_channels"].isVisible()
    palette = window.node_palette
    assert palette.tree.viewport().width() >= palette.tree.sizeHintForColumn(0)


def test_quick_add_popup_opens_at_the_cursor_when_room(window):
    popup = window.view.open_quick_add(QPoint(50, 50))
    at = window.view.viewport().mapToGlobal(QPoint(50, 50))
    assert (popup.geometry().topLeft() - at).manhattanLength() <= 6  # the frame's width
    popup.close()


def test_paste_lands_in_view_when_the_originals_are_out_of_sight(window):
    """Nodes copied in another window (or far across the canvas) were pasted at their old
    coordinates plus 40 px: off screen, so Paste seemed to do nothing."""
    doc = window.document
    far = doc.add_node("Constant", (6000.0, 4000.0))
    window.scene.select_nodes([far])
    assert window.copy_selection()
    window.view.centerOn(0, 0)
    (pasted,) = window.paste()
    seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert seen.contains(window.scene.nodes[pasted].sceneBoundingRect())
    # originals in view: the copy goes 40 px beside them, as before
    window.view.centerOn(window.scene.nodes[far].sceneBoundingRect().center())
    (again,) = window.paste()
    x, y = doc.graph.node(far).position
    assert tuple(doc.graph.node(again).position) == (x + 80.0, y + 80.0)
