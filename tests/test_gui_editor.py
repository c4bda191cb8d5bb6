"""The node editor through real GUI events: palette drops, port drags, undo, inspector."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_helpers import (LEFT, NO_MOD, click, connect_ports, drag, drop_node, drop_type, port_pos,  # noqa: F401
                         studio_home, title_pos, window)


def undo(window):
    window.document.undo_stack.undo()


def redo(window):
    window.document.undo_stack.redo()


def test_drop_from_palette_creates_node_at_drop_point(window):
    view = window.view
    assert drop_type(view, "Conv2D", (300, 200))
    g = window.document.graph
    assert g.nodes() == ["conv2d"]
    item = window.scene.nodes["conv2d"]
    # the title bar sits under the drop point
    assert item.sceneBoundingRect().contains(view.mapToScene(QPoint(300, 200)))
    assert tuple(g.node("conv2d").position) == (item.pos().x(), item.pos().y())
    assert window.scene.selected_node_ids() == ["conv2d"]
    assert window.inspector.node_id == "conv2d"
    undo(window)
    assert g.nodes() == [] and window.scene.nodes == {}
    redo(window)
    assert window.document.graph.nodes() == ["conv2d"] and "conv2d" in window.scene.nodes


def test_palette_groups_search_tooltips_and_double_click(window):
    palette = window.node_palette
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert groups[:5] == ["Sources", "Arithmetic", "Layers", "Activations", "Losses"]
    tip = palette.item_for("Mul").toolTip(0)
    assert "inputs: a, b" in tip and "backward:" in tip and "∂L/∂a" in tip
    assert not palette.item_for("Mul").icon(0).isNull()
    palette.search.setText("relu")
    assert set(palette.visible_types()) >= {"ReLU", "LeakyReLU"} and "Conv2D" not in palette.visible_types()
    palette.search.setText("")
    mime = palette.tree.mimeData([palette.item_for("Add")])
    assert bytes(mime.data("application/x-backprop-studio-op")) == b"Add"
    palette.tree.itemDoubleClicked.emit(palette.item_for("Add"), 0)
    (node_id,) = window.document.graph.nodes()
    center = window.view.center_scene_pos()
    assert window.scene.nodes[node_id].sceneBoundingRect().contains(center)


def test_tab_opens_quick_add_at_cursor(window):
    view = window.view
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    popup = view.quick_add
    assert popup is not None and popup.isVisible()
    QTest.keyClicks(popup.search, "mul")
    assert "Mul" in popup.visible_types() and "Add" not in popup.visible_types()
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert [window.document.graph.node(n).type for n in window.document.graph.nodes()] == ["Mul"]


def test_right_click_on_empty_canvas_opens_quick_add(window):
    view = window.view
    from PySide6.QtGui import QContextMenuEvent  # noqa: PLC0415

    pos = QPoint(200, 150)
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                              view.viewport().mapToGlobal(pos)))
    popup = view.quick_add
    assert popup.isVisible()
    popup.search.setText("sigmoid")
    popup.accept_current()
    (node_id,) = window.document.graph.nodes()
    assert window.scene.nodes[node_id].sceneBoundingRect().contains(view.mapToScene(pos))


def test_connect_two_nodes_by_dragging_between_ports(window):
    view = window.view
    a = drop_node(window, "Constant", (200, 200))
    m = drop_node(window, "Mul", (600, 300))
    start, end = port_pos(view, a, "out", True), port_pos(view, m, "b", False)
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, NO_MOD, start)
    QTest.mouseMove(vp, (start + end) / 2)
    scene = window.scene
    assert scene.dragging_connection
    assert scene._drag.line.path().elementCount() == 4           # the live bezier
    assert scene.nodes[m].in_ports["b"].highlight == "ok"        # compatible target highlighted
    assert scene.nodes[a].in_ports == {}
    QTest.mouseMove(vp, end)
    assert scene.nodes[m].in_ports["b"].highlight == "hover"
    QTest.mouseRelease(vp, LEFT, NO_MOD, end)
    assert not scene.dragging_connection
    assert [tuple(e) for e in window.document.graph.edges()] == [(a, "out", m, "b")]
    edge = scene.edges[(m, "b")]
    assert edge.shape_text == "scalar" and scene.nodes[m].in_ports["b"].connected
    assert all(p.highlight is None for p in scene.nodes[m].in_ports.values())
    undo(window)
    assert window.document.graph.edges() == [] and scene.edges == {}
    redo(window)
    assert (m, "b") in scene.edges


def test_refused_connections_leave_graph_unchanged(window):
    view, doc = window.view, window.document
    a1 = drop_node(window, "Add", (150, 150))
    a2 = drop_node(window, "Add", (500, 150))
    connect_ports(view, a1, a2, "a")
    before, steps = list(doc.graph.edges()), doc.undo_stack.count()
    connect_ports(view, a2, a1, "a")                          # would close a cycle
    assert doc.graph.edges() == before and doc.undo_stack.count() == steps
    assert "cycle" in window.log.last("error")
    v = drop_node(window, "Constant", (150, 400))
    doc.set_params(v, value=[1.0, 2.0, 3.0])
    w = drop_node(window, "Constant", (150, 550))
    doc.set_params(w, value=[[1.0, 2.0], [3.0, 4.0]])
    m = drop_node(window, "Mul", (500, 450))
    connect_ports(view, v, m, "a")
    before, steps = list(doc.graph.edges()), doc.undo_stack.count()
    connect_ports(view, w, m, "b")                            # (3,) × (2, 2) does not broadcast
    assert doc.graph.edges() == before and doc.undo_stack.count() == steps
    assert "broadcast" in window.log.last("error")


def test_drop_on_fed_input_replaces_edge_in_one_undo_step(window):
    view, doc = window.view, window.document
    c1 = drop_node(window, "Constant", (150, 150))
    c2 = drop_node(window, "Constant", (150, 400))
    n = drop_node(window, "ReLU", (550, 250))
    connect_ports(view, c1, n, "x")
    steps = doc.undo_stack.count()
    connect_ports(view, c2, n, "x")
    assert [(e.src, e.dst) for e in doc.graph.edges()] == [(c2, n)]
    assert doc.undo_stack.count() == steps + 1
    undo(window)
    assert [(e.src, e.dst) for e in doc.graph.edges()] == [(c1, n)]
    assert window.scene.edges[(n, "x")].edge.src == c1


def test_drag_from_fed_input_detaches_the_edge(window):
    view, doc = window.view, window.document
    c = drop_node(window, "Constant", (150, 150))
    n = drop_node(window, "ReLU", (550, 250))
    connect_ports(view, c, n, "x")
    drag(view, port_pos(view, n, "x", False), QPoint(700, 600))
    assert doc.graph.edges() == []
    undo(window)
    assert len(doc.graph.edges()) == 1


def test_move_by_mouse_is_one_undoable_step(window):
    view, doc = window.view, window.document
    n = drop_node(window, "Tanh", (300, 300))
    old = doc.graph.node(n).position
    steps = doc.undo_stack.count()
    start = title_pos(view, n)
    drag(view, start, start + QPoint(120, 60), steps=6)
    new = doc.graph.node(n).position
    assert (new[0] - old[0], new[1] - old[1]) == (120.0, 60.0)
    assert doc.undo_stack.count() == steps + 1               # merged while dragging
    item = window.scene.nodes[n]
    assert (item.pos().x(), item.pos().y()) == new
    undo(window)
    assert doc.graph.node(n).position == old and (item.pos().x(), item.pos().y()) == old
    redo(window)
    assert doc.graph.node(n).position == new


def test_undo_redo_delete_and_parameter_edit(window):
    view, doc = window.view, window.document
    c = drop_node(window, "Constant", (150, 200))
    r = drop_node(window, "ReLU", (550, 200))
    connect_ports(view, c, r, "x")
    click(view, title_pos(view, c))
    editor = window.inspector.param_widgets["value"]
    editor.setText("-3")
    editor.editingFinished.emit()
    assert doc.graph.node(c).params["value"] == -3.0
    undo(window)
    assert doc.graph.node(c).params["value"] == 1.0 and editor.text() == "1"
    redo(window)
    assert doc.graph.node(c).params["value"] == -3.0
    click(view, title_pos(view, c))
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert doc.graph.nodes() == [r] and doc.graph.edges() == []
    undo(window)
    assert set(doc.graph.nodes()) == {c, r} and len(doc.graph.edges()) == 1
    assert (r, "x") in window.scene.edges
    redo(window)
    assert doc.graph.nodes() == [r]


def test_rubber_band_ctrl_click_and_select_all(window):
    view, scene = window.view, window.scene
    a = drop_node(window, "Constant", (150, 150))
    b = drop_node(window, "Constant", (450, 150))
    c = drop_node(window, "Constant", (300, 500))
    scene.clearSelection()
    drag(view, QPoint(40, 60), QPoint(620, 260))              # rubber band over a and b
    assert scene.selected_node_ids() == [a, b]
    click(view, title_pos(view, c), Qt.KeyboardModifier.ControlModifier)
    assert scene.selected_node_ids() == [a, b, c]
    click(view, title_pos(view, a), Qt.KeyboardModifier.ControlModifier)
    assert scene.selected_node_ids() == [b, c]
    click(view, title_pos(view, a))
    assert scene.selected_node_ids() == [a]
    window.action_set["select_all"].trigger()
    assert scene.selected_node_ids() == [a, b, c]


def test_inspector_refuses_bad_values_and_keeps_the_old_one(window):
    doc, inspector = window.document, window.inspector
    n = drop_node(window, "Constant", (300, 300))
    editor = inspector.param_widgets["value"]
    editor.setText("abc")
    editor.editingFinished.emit()
    assert doc.graph.node(n).params["value"] == 1.0
    assert editor.text() == "1"
    assert "abc" in inspector.message_label.text() and "abc" in window.log.last("error")
    x = drop_node(window, "Input", (300, 500))
    shape = inspector.param_widgets["shape"]
    shape.setText("N, 1, zero")
    shape.editingFinished.emit()
    assert doc.graph.node(x).params["shape"] == [None, 1] and shape.text() == "N, 1"
    assert "zero" in inspector.message_label.text()
    shape.setText("N, 1, 28, 28")
    shape.editingFinished.emit()
    assert doc.graph.node(x).params["shape"] == [None, 1, 28, 28] and inspector.message_label.text() == ""
    p = drop_node(window, "Parameter", (600, 300))
    ps = inspector.param_widgets["shape"]
    ps.setText("N, 3")                                         # a parameter cannot have a batch axis
    ps.editingFinished.emit()
    assert doc.graph.node(p).params["shape"] == [1] and "batch" in inspector.message_label.text()
    init = inspector.param_widgets["init"]
    init.setCurrentText("zeros")
    init.activated.emit(init.currentIndex())
    assert doc.graph.node(p).params["init"] == "zeros"


def test_node_in_error_is_outlined_with_the_formula_as_tooltip(window):
    view, doc = window.view, window.document
    x = drop_node(window, "Input", (150, 250))
    doc.set_params(x, shape=[None, 1, 28, 28])
    c = drop_node(window, "Conv2D", (550, 250))
    connect_ports(view, x, c, "x")
    item = window.scene.nodes[c]
    assert item.error is None and item.shape_text == "(N, 30, 24, 24)"
    assert window.scene.edges[(c, "x")].shape_text == "N×1×28×28"
    click(view, title_pos(view, x))
    shape = window.inspector.param_widgets["shape"]
    shape.setText("N, 1, 4, 4")
    shape.editingFinished.emit()
    assert "OH = (H + 2P - FH) / S + 1 = (4 + 0 - 5)/1 + 1" in item.error
    assert "OH = (H + 2P - FH) / S + 1" in item.toolTip()
    m = drop_node(window, "Mul", (550, 500))
    assert "not connected" in window.scene.nodes[m].error


def test_inspector_shows_shapes_count_and_rule_and_renames(window):
    view, doc, inspector = window.view, window.document, window.inspector
    x = drop_node(window, "Input", (150, 250))
    doc.set_params(x, shape=[None, 784])
    a = drop_node(window, "Affine", (550, 250))
    connect_ports(view, x, a, "x")
    click(view, title_pos(view, a))
    assert inspector.info["output"].text() == "(N, 10)"
    assert inspector.info["params"].text().startswith("7,850")
    assert "∂L/∂" in inspector.info["rule"].text()
    assert "(N, 784)" in inspector.info["inputs"].text()
    inspector.id_edit.setText("fc1")
    inspector.id_edit.editingFinished.emit()
    assert "fc1" in doc.graph.nodes() and window.scene.nodes["fc1"].title == "fc1"
    assert window.scene.edges[("fc1", "x")].edge.dst == "fc1"
    inspector.id_edit.setText("2bad id")
    inspector.id_edit.editingFinished.emit()
    assert "fc1" in doc.graph.nodes() and "invalid node id" in inspector.message_label.text()
    undo(window)
    assert a in doc.graph.nodes() and a in window.scene.nodes


def test_f2_edits_title_in_place(window):
    view, doc = window.view, window.document
    n = drop_node(window, "Sigmoid", (300, 300))
    click(view, title_pos(view, n))
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F2)
    editor = view.title_editor
    assert editor is not None and editor.text() == n
    editor.setText("gate")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert doc.graph.nodes() == ["gate"] and view.title_editor is None
    QTest.mouseDClick(view.viewport(), LEFT, NO_MOD, title_pos(view, "gate"))
    assert view.title_editor is not None and view.title_editor.text() == "gate"


def test_wheel_zoom_keeps_point_under_cursor_pan_and_fit(window):
    view = window.view
    drop_node(window, "Constant", (200, 200))
    drop_node(window, "Constant", (900, 600))
    pos = QPoint(250, 180)
    before = view.mapToScene(pos)
    wheel = QWheelEvent(QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, NO_MOD, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() > 1.3
    after = view.mapToScene(pos)
    assert abs(after.x() - before.x()) < 1.5 and abs(after.y() - before.y()) < 1.5
    center = view.center_scene_pos()
    drag(view, QPoint(400, 300), QPoint(300, 250), button=Qt.MouseButton.MiddleButton)
    moved = view.center_scene_pos() - center
    assert moved.x() > 50 and moved.y() > 20
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.nodes_rect())
    selected = window.scene.selected_node_ids()
    QTest.keyPress(view, Qt.Key.Key_Space)                    # Space + drag pans, no rubber band
    center = view.center_scene_pos()
    drag(view, QPoint(400, 300), QPoint(300, 300))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.center_scene_pos().x() > center.x() + 50
    assert window.scene.selected_node_ids() == selected


def test_auto_layout_is_undoable(window):
    doc = window.document
    for pos in ((200, 200), (220, 220), (240, 240)):
        drop_node(window, "Constant", pos)
    m = drop_node(window, "Add", (260, 260))
    a, b = doc.graph.nodes()[:2]
    doc.connect(a, m, "a")
    doc.connect(b, m, "b")
    old = {n: doc.graph.node(n).position for n in doc.graph.nodes()}
    window.action_set["auto_layout"].trigger()
    new = {n: doc.graph.node(n).position for n in doc.graph.nodes()}
    assert new[m][0] > new[a][0] and new[a][0] == new[b][0]
    rects = [window.scene.nodes[n].sceneBoundingRect() for n in doc.graph.nodes()]
    assert not any(r1.intersects(r2) for i, r1 in enumerate(rects) for r2 in rects[i + 1:])
    undo(window)
    assert {n: doc.graph.node(n).position for n in doc.graph.nodes()} == old


def test_title_marks_unsaved_changes(window):
    assert window.windowTitle() == "untitled — Backprop Studio"
    drop_node(window, "Constant", (200, 200))
    assert window.windowTitle() == "untitled* — Backprop Studio"
    undo(window)
    assert window.windowTitle() == "untitled — Backprop Studio"


def test_overlay_hooks_for_the_step_view(window):
    view, scene = window.view, window.scene
    c = drop_node(window, "Constant", (150, 200))
    r = drop_node(window, "ReLU", (550, 200))
    connect_ports(view, c, r, "x")
    item, edge = scene.nodes[r], scene.edges[(r, "x")]
    plain = item.boundingRect()
    item.set_overlay("1", "∂ 0.5", "active")
    assert item.boundingRect().height() > plain.height() and item.state == "active"
    item.set_overlay(None, None, "dimmed")
    assert item.opacity() < 1
    edge.set_labels("1", "0.5")
    edge.pulse(0.3, backward=True)
    assert edge.pulse_at == 0.3 and edge.pulse_backward
    view.viewport().grab()                                    # paints without errors
    scene.clear_overlays()
    assert item.state == "normal" and edge.value_text is None and edge.pulse_at is None


def test_click_edge_and_delete_disconnects(window):
    view, doc = window.view, window.document
    c = drop_node(window, "Constant", (150, 200))
    r = drop_node(window, "ReLU", (550, 300))
    connect_ports(view, c, r, "x")
    edge = window.scene.edges[(r, "x")]
    click(view, view.mapFromScene(edge.midpoint()))
    assert window.scene.selected_edges() == [edge.edge] and window.scene.selected_node_ids() == []
    window.action_set["delete"].trigger()
    assert doc.graph.edges() == [] and set(doc.graph.nodes()) == {c, r}
    undo(window)
    assert len(doc.graph.edges()) == 1


def test_drag_from_free_input_to_output_connects(window):
    view, doc = window.view, window.document
    c = drop_node(window, "Constant", (150, 200))
    r = drop_node(window, "Tanh", (550, 300))
    drag(view, port_pos(view, r, "x", False), port_pos(view, c, "out", True))
    assert [tuple(e) for e in doc.graph.edges()] == [(c, "out", r, "x")]


def test_dragging_a_selection_moves_every_selected_node(window):
    view, doc, scene = window.view, window.document, window.scene
    a = drop_node(window, "Constant", (150, 200))
    b = drop_node(window, "Constant", (450, 400))
    scene.select_nodes([a, b])
    old = {n: doc.graph.node(n).position for n in (a, b)}
    steps = doc.undo_stack.count()
    start = title_pos(view, a)
    drag(view, start, start + QPoint(50, -30))
    for n in (a, b):
        assert doc.graph.node(n).position == (old[n][0] + 50, old[n][1] - 30)
    assert doc.undo_stack.count() == steps + 1 and scene.selected_node_ids() == [a, b]
    undo(window)
    assert {n: doc.graph.node(n).position for n in (a, b)} == old


def test_escape_cancels_title_edit(window):
    view = window.view
    n = drop_node(window, "Sigmoid", (300, 300))
    editor = view.edit_title(n)
    editor.setText("other")
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    assert view.title_editor is None and window.document.graph.nodes() == [n]


def test_quick_add_reopens_empty_at_the_new_spot(window):
    view = window.view
    first = view.open_quick_add(QPoint(150, 150))
    first.search.setText("tanh")
    first.accept_current()
    second = view.open_quick_add(QPoint(450, 400))
    assert second.search.text() == "" and len(second.visible_types()) > 10
    second.search.setText("ReLU")
    assert second.list.currentItem().data(Qt.ItemDataRole.UserRole) == "ReLU"   # exact match wins
    QTest.keyClick(second.search, Qt.Key.Key_Down)
    QTest.keyClick(second.search, Qt.Key.Key_Up)
    second.accept_current()
    relu = [n for n in window.document.graph.nodes() if window.document.graph.node(n).type == "ReLU"]
    assert relu and window.scene.nodes[relu[0]].sceneBoundingRect().contains(view.mapToScene(QPoint(450, 400)))


def test_window_keeps_qt_methods_usable(window):
    assert window.action_set["undo"] is not None
    assert isinstance(window.actions(), list)                 # QWidget.actions() still works
    assert window.palette().color(window.palette().ColorRole.Window).isValid()
