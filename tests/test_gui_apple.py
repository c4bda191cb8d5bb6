"""The book's apple graph built entirely through GUI events, then checked with the engine."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui_helpers import connect_ports, drop_type, make_window, studio_home  # noqa: F401


def type_into(line_edit, text: str) -> None:
    """Focus a field, replace its text by typing, press Enter."""
    line_edit.setFocus()
    line_edit.selectAll()
    QTest.keyClick(line_edit, Qt.Key.Key_Backspace)
    QTest.keyClicks(line_edit, text)
    QTest.keyClick(line_edit, Qt.Key.Key_Return)


def add(window, type_name: str, pos, node_id: str, value: str | None = None) -> None:
    """Drop from the palette, then name it (and set its value) in the inspector."""
    assert drop_type(window.view, type_name, pos)
    inspector = window.inspector
    type_into(inspector.id_edit, node_id)
    assert inspector.node_id == node_id
    if value is not None:
        type_into(inspector.param_widgets["value"], value)
        assert inspector.message_label.text() == ""


def test_apple_graph_built_through_the_gui(qtbot, studio_home):
    from graph import Engine  # noqa: PLC0415

    window = make_window(qtbot, size=(1400, 900))
    view = window.view
    assert view.viewport().width() >= 680
    add(window, "Constant", (100, 80), "apple", "100")
    add(window, "Constant", (100, 260), "apple_num", "2")
    add(window, "Mul", (340, 160), "mul_apple")
    add(window, "Constant", (340, 400), "tax", "1.1")
    add(window, "Mul", (580, 270), "mul_tax")
    connect_ports(view, "apple", "mul_apple", "a")
    connect_ports(view, "apple_num", "mul_apple", "b")
    connect_ports(view, "mul_apple", "mul_tax", "a")
    connect_ports(view, "tax", "mul_tax", "b")

    g = window.document.graph
    assert sorted(tuple(e) for e in g.edges()) == sorted([
        ("apple", "out", "mul_apple", "a"), ("apple_num", "out", "mul_apple", "b"),
        ("mul_apple", "out", "mul_tax", "a"), ("tax", "out", "mul_tax", "b")])
    assert all(item.error is None for item in window.scene.nodes.values())
    assert window.statusBar() and window.status_nodes.text() == "5 nodes"

    eng = Engine(g)
    eng.forward()
    assert float(eng.value("mul_tax")) == pytest.approx(220.0)
    eng.backward()
    assert float(eng.grad("apple")) == pytest.approx(2.2)
    assert float(eng.grad("apple_num")) == pytest.approx(110.0)
    assert float(eng.grad("tax")) == pytest.approx(200.0)
