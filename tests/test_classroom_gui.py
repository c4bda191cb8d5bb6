"""Issue 15 (classroom-ready): the window's mechanisms, driven through pytest-qt (offscreen)."""
from __future__ import annotations


import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtWidgets  # noqa: E402

from graph import templates  # noqa: E402
from gui_helpers import studio, studio_home  # noqa: E402,F401


# -- item 2: Play keeps the step inspector on the current event -----------------------------
def test_play_inspector_shows_the_current_event(studio, qtbot):
    window = studio("apple")
    ui = window.stepping
    c = ui.controller
    window.scene.clearSelection()
    seen = []

    def check(_k):
        ev = c.current_event()
        if ev is not None:
            seen.append((ev.node, ui.inspector.node))

    c.state_changed.connect(check)   # after the inspector's own slot
    c.set_speed(3.0)
    assert c.play()
    qtbot.waitUntil(lambda: not c.playing, timeout=20000)
    assert len(seen) == c.count
    assert all(shown == current for current, shown in seen), seen


# -- item 3: the rule card writes tensors as values, shapes as shapes -----------------------
def test_rule_card_summarises_tensors(studio):
    from graph.views.replay import fmt_summary  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    assert fmt_summary(np.array([[1.0, -2.0, 0.5, 3.0]])) == "[1, -2, 0.5, 3]"
    assert fmt_summary(np.ones((1, 30, 24, 24))) == "⟨(1, 30, 24, 24) tensor, norm 131⟩"
    window = studio("simple_convnet")
    ui = window.stepping
    c = ui.controller
    assert c.run_forward()
    conv = c.replay.event_index("conv1", "forward")
    assert c.jump(conv)
    text = ui.inspector.rule.text()
    assert text.startswith("conv1 = Conv2D(x = ⟨(1, 1, 28, 28) tensor, norm ")
    assert "= (1, 30, 24, 24)" not in text and "tensor views below" in text
    assert c.run_backward()
    c.jump(c.replay.event_index("x", "backward"))
    assert "∂L/∂x = ⟨(1, 1, 28, 28) tensor, norm" in ui.inspector.rule.text()
    window.stepping.controller.jump(c.count - 1)


# -- item 8: labels never overlap each other or nodes ----------------------------------------
def label_rects(window) -> list:
    """``(node, kind, scene rect)`` of every node's value/gradient label and box."""
    out = []
    for n, item in window.scene.nodes.items():
        above, below = item.overlay_rects()
        out.append((n, "box", item.mapRectToScene(item.box())))
        for kind, rect in (("above", above), ("below", below)):
            if not rect.isEmpty():
                out.append((n, kind, item.mapRectToScene(rect)))
    return out


@pytest.mark.parametrize("name", ["apple", "apple_orange", "two_layer_net", "simple_convnet"])
def test_node_labels_never_overlap(studio, name):
    window = studio(name)
    assert window.stepping.controller.run_backward()
    rects = label_rects(window)
    clashes = [(a[:2], b[:2]) for i, a in enumerate(rects) for b in rects[i + 1:]
               if a[0] != b[0] and a[2].intersects(b[2])]
    assert not clashes
    if name == "apple_orange":
        # mul_apple's gradient 1.1 would sit on mul_orange's value 450: it moves beside its value
        assert window.scene.nodes["mul_apple"].grad_beside
        assert not window.scene.nodes["mul_orange"].grad_beside


def test_array_edges_show_a_preview_not_three_shapes(studio):
    window = studio("simple_convnet")
    assert window.stepping.controller.run_backward()
    edge = window.scene.edges[("relu1", "x")]
    assert edge.shape_text and edge.value_text is None and edge.grad_text is None
    assert edge.value_pixmap is not None
    # the preview sits under the shape tag, not over it
    assert edge._pixmap_rect().top() > edge._text_rect(edge.shape_text, below=False).bottom()
    strip = window.stepping.overlay._pixmap(("x", "affine1", "x"), __import__("numpy").ones((1, 50)))
    assert strip.height() >= 7


# -- item 10: node titles show the id (and the label), Constants their value ------------------
def test_node_title_shows_id_label_and_constant_value(studio):
    from app.canvas.node_item import header_text  # noqa: PLC0415

    assert header_text("apple", "apple (price)") == "apple (price)"
    assert header_text("mul_apple", "× (mul_apple_layer)") == "mul_apple · × (mul_apple_layer)"
    assert header_text("tax", "") == "tax"
    window = studio("apple")
    items = window.scene.nodes
    assert items["mul_apple"].title.startswith("mul_apple")
    assert items["apple"].const_text == "= 100" and items["tax"].const_text == "= 1.1"
    assert items["mul_apple"].const_text == ""
    assert window.document.set_params("apple", value=150.0) is None
    assert items["apple"].const_text == "= 150"


# -- item 12: why Run/Step/Play refuse, where the user looks ----------------------------------
def test_blocked_run_is_shown_in_status_bar_and_on_the_node(studio):
    window = studio("apple")
    ui = window.stepping
    window.log_dock.hide()
    window.document.disconnect("mul_tax", "b")
    for act in ("step", "play", "run_forward"):
        assert not getattr(ui.controller, act)()
        assert "Cannot run the graph" in window.statusBar().currentMessage()
        assert ui.controller.error_node == "mul_tax"
        badge = ui.overlay._blocker
        assert badge is not None and badge.parentItem() is window.scene.nodes["mul_tax"]
        assert "b" in badge.toolTip() and "input b is not connected" in badge.text()
    window.document.undo_stack.undo()
    assert ui.overlay._blocker is None
    assert ui.controller.step()


# -- item 9: the first window fits the screen; docks usable at 1280×720 and 1024×768 -----------
def test_first_window_fits_the_screen(studio):
    from PySide6.QtCore import QSize  # noqa: PLC0415

    from app.screen_fit import dock_widths, initial_size  # noqa: PLC0415

    assert initial_size(QSize(1280, 720)).height() <= 720 - 40
    assert initial_size(QSize(1024, 768)).width() <= 1024
    assert initial_size(QSize(1920, 1080)) == QSize(1632, 918)
    assert initial_size(None) == QSize(1360, 840)
    palette, right = dock_widths(1024, 200)
    assert palette + right <= 0.46 * 1024
    window = studio("simple_convnet", size=None)
    assert window.size() == QSize(1360, 840)   # offscreen: no real screen to fit


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
def test_dock_layout_usable_on_small_screens(studio, size):
    window = studio("simple_convnet", size=size)
    from app.screen_fit import fit_window  # noqa: PLC0415

    window.resize(*size)
    palette, right = __import__("app.screen_fit", fromlist=["dock_widths"]).dock_widths(size[0], 200)
    window.resizeDocks([window.palette_dock, window.inspector_dock], [palette, right],
                       QtCore.Qt.Orientation.Horizontal)
    QtWidgets.QApplication.processEvents()
    assert fit_window  # the same sizing the first window gets
    assert window.view.viewport().width() >= 0.4 * size[0]
    bar = window.statusBar()
    assert bar.isVisible() and bar.geometry().bottom() <= window.height()
    inspector = window.stepping.inspector
    assert inspector.geometry().right() <= window.width()


# -- item 13: the wheel scrolls the form unless a field has focus ------------------------------
def test_wheel_scrolls_the_form_not_the_spin_box(studio, qtbot):
    from gui_helpers import form_with_spin_box, wheel_down  # noqa: PLC0415

    window = studio("simple_convnet", size=(1280, 720))
    area, spin = form_with_spin_box()
    qtbot.addWidget(area)
    wheel = wheel_down
    # Qt would give a field focus from a real wheel before any filter sees it: fields made
    # after the guard (Polish) and before it (the docks') take focus by click and Tab only
    assert spin.focusPolicy() == QtCore.Qt.FocusPolicy.StrongFocus
    settings = window.training.settings
    assert {w.focusPolicy() for w in (settings.batch_size, settings.dataset, settings.optimizer)} == \
        {QtCore.Qt.FocusPolicy.StrongFocus}
    bar = area.verticalScrollBar()
    before = bar.value()
    spin.clearFocus()
    wheel(spin)
    assert spin.value() == 20 and bar.value() > before
    spin.setFocus()   # once the field has focus the wheel is the field's
    assert spin.hasFocus()
    wheel(spin)
    assert spin.value() == 19
    # over a plot in the step inspector the form scrolls as well
    from app.tensor_view import TensorView  # noqa: PLC0415

    assert window.stepping.controller.run_backward()
    window.scene.select_nodes(["conv1"])
    inspector = window.stepping.inspector
    inspector.show()
    inspector.raise_()
    QtWidgets.QApplication.processEvents()
    plots = [w for w in inspector.findChildren(QtWidgets.QGraphicsView) if w.isVisible()]
    assert plots and any(isinstance(v, TensorView) for v in inspector.views)
    scroll = inspector.widget()
    scroll.verticalScrollBar().setValue(0)
    wheel(plots[0].viewport())
    assert scroll.verticalScrollBar().value() > 0


# -- item 11: a 300-node chain: Fit to View shows every node; labels placed without index queries
def chain_graph(n: int = 300):
    from graph import Graph  # noqa: PLC0415

    g = Graph()
    prev = g.add_node("Constant", id="c0", value=1.0, position=(0.0, 0.0))
    for i in range(1, n):
        node = g.add_node("Add", id=f"n{i}", position=(i * 260.0, 0.0))
        g.connect(prev, node, "a")
        g.connect(prev, node, "b")
        prev = node
    return g


def test_long_chain_fits_and_steps_without_scene_queries(studio, monkeypatch):
    window = studio(None, size=(1280, 720))
    window.document.reset(chain_graph(), name="chain")
    window.view.fit()
    vp = window.view.viewport().rect()
    off = [n for n, item in window.scene.nodes.items()
           if not vp.contains(window.view.mapFromScene(item.sceneBoundingRect().center()))]
    assert not off, f"{len(off)} nodes off-screen after Fit to View"

    def no_queries(*_a, **_k):
        raise AssertionError("label placement must not query the scene index")

    from app.canvas import labels  # noqa: PLC0415

    monkeypatch.setattr(type(window.scene), "items", no_queries)
    labels.place_node_labels(window.scene)
    monkeypatch.undo()
    assert window.stepping.controller.run_backward()


# -- item 17: no display: one line on how to run headless, not Qt's xcb abort -----------------
def test_no_display_says_how_to_run_headless():
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from app.entry import no_display_message  # noqa: PLC0415

    assert no_display_message({}, "linux") is not None
    assert no_display_message({"DISPLAY": ":0"}, "linux") is None
    assert no_display_message({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert no_display_message({}, "darwin") is None
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "app.entry", "apple"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display found" in lines[0] and "--screenshot" in lines[0]


# -- item 6: flat (N, 784) samples are shown as images ----------------------------------------
def test_flat_samples_become_images():
    import numpy as np  # noqa: PLC0415

    from graph.views.mosaic import as_images  # noqa: PLC0415

    flat = np.zeros((5, 784))
    assert as_images(flat).shape == (5, 28, 28)
    assert as_images(flat, (None, 1, 28, 28)).shape == (5, 28, 28)
    assert as_images(np.zeros((5, 3 * 16 * 8)), (None, 3, 16, 8)).shape == (5, 16, 8)
    assert as_images(np.zeros((5, 2))) is None          # a toy 2-D set stays a scatter plot
    assert as_images(np.zeros((5, 1, 28, 28))).shape == (5, 28, 28)


def test_flat_npz_preview_and_gallery_show_digits(studio, tmp_path, qtbot):
    import numpy as np  # noqa: PLC0415

    from graph.training.datasets import load_mnist_10k  # noqa: PLC0415

    x, y = load_mnist_10k()
    path = tmp_path / "flat.npz"
    np.savez(path, x=x[:300].reshape(300, 784), y=y[:300])
    window = studio("two_layer_net")
    panel = window.training
    assert panel.settings.load(str(path))
    assert panel.settings.preview_image.isVisible() or not panel.settings.preview_image.isHidden()
    assert panel.settings.preview_image.image is not None and panel.settings.preview_image.image.shape[0] >= 28
    wrong = [{"position": i, "true": int(y[i]), "predicted": (int(y[i]) + 1) % 10} for i in range(16)]
    splits = panel.settings.splits
    panel.views.results.show_result({"misclassified": wrong, "confusion_matrix": np.eye(10, dtype=int)},
                                    splits, (None, 784))
    gallery = panel.views.results.gallery
    assert gallery.count == 16 and gallery._samples is not None
    assert gallery._samples[0].shape[1:] == (28, 28)


# -- item 7: presentation mode; readable text or "…"; examples open readable ------------------
def test_presentation_mode_scales_text_canvas_and_plots(studio, qtbot):
    from app.canvas import readability  # noqa: PLC0415
    from app.presentation import SHORTCUT, scaled_stylesheet  # noqa: PLC0415

    assert scaled_stylesheet("QWidget { font-size: 10pt; } QLabel { font-size: 11px; }", 2.0) == \
        "QWidget { font-size: 20pt; } QLabel { font-size: 22px; }"
    window = studio(None, size=(1280, 720))
    window.open_template("simple_convnet", ask=False)
    # examples open where node titles are readable, not at a fit-everything 34 %
    assert window.view.zoom() >= readability.readable_zoom() - 1e-6
    p = window.presentation
    assert p.toggle.shortcut().toString() == SHORTCUT and p.toggle in window.menus.view.actions()
    zoom = window.view.zoom()
    p.sizes[2.0].trigger()
    try:
        assert p.toggle.isChecked() and readability.scale() == 2.0
        assert abs(window.view.zoom() - 2 * zoom) < 1e-6
        assert "font-size: 20pt" in QtWidgets.QApplication.instance().styleSheet()
        assert readability.min_text_px() == 2 * readability.BASE_MIN_PX
    finally:
        p.toggle.setChecked(False)
    assert readability.scale() == 1.0 and abs(window.view.zoom() - zoom) < 1e-6
    assert "font-size: 10pt" in QtWidgets.QApplication.instance().styleSheet()


def test_presentation_mode_at_720p_with_a_run_locked_fits_the_screen(studio, qtbot):
    """At 150 % the Training dock's banner and the views' tallest page made the window
    848 px tall on a 720-px screen, cutting off the plots' axes."""
    window = studio(None, size=(1280, 720))
    window.open_template("simple_convnet", ask=False)
    panel = window.training
    panel.dock.show()
    panel.views.show()
    window.presentation.sizes[1.5].trigger()
    try:
        panel.set_locked(True)
        qtbot.waitUntil(lambda: panel.dock.banner.isVisible())
        # 40 px left for a window manager's title bar
        assert window.minimumSizeHint().height() <= 720 - 40
    finally:
        panel.set_locked(False)
        window.presentation.toggle.setChecked(False)


def test_small_canvas_text_collapses_with_full_text_on_hover(studio):
    from app.canvas.readability import legible  # noqa: PLC0415

    assert legible(12, 1.0) and not legible(10, 0.5)
    window = studio("apple")
    assert window.stepping.controller.run_backward()
    item = window.scene.nodes["mul_tax"]
    assert "value: 220" in item.toolTip() and "gradient: 1" in item.toolTip()
    from PySide6.QtGui import QImage, QPainter  # noqa: PLC0415

    window.view.zoom_by(0.4 / window.view.zoom())   # 10 px labels would be 4 px: drawn as "…"
    img = QImage(window.view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(img)
    window.view.render(painter)
    painter.end()


# -- item 18: Help menu: shortcut sheet, getting-started guide, README sections ----------------
def test_help_menu_sheet_guide_and_readme(studio):
    from app.help import readme_sections, shortcut_rows  # noqa: PLC0415

    window = studio("apple")
    texts = [a.text() for a in window.menus.help.actions()]
    assert "&Getting started" in texts and "&Keyboard shortcuts" in texts and "&README" in texts
    rows = dict(shortcut_rows(window))
    assert rows["Step"] == "F10" and rows["Presentation mode"] == "Ctrl+Shift+P" and rows["Getting started"] == "F1"
    window.help_actions["shortcuts"].trigger()
    assert "| Step | F10 |" in window.help_dialog.browser.toMarkdown().replace("  ", " ") or \
        "F10" in window.help_dialog.browser.toPlainText()
    window.help_actions["guide"].trigger()
    guide = window.help_dialog.browser.toPlainText()
    assert "apple" in guide and guide.index("apple") < guide.index("Train")
    sections = dict(readme_sections())
    assert "Quick start" in sections and "Command line" in sections
    readme_menu = window.help_actions["readme"].menu()
    assert [a.text() for a in readme_menu.actions()] == list(sections)
    readme_menu.actions()[0].trigger()
    assert window.help_dialog.windowTitle().startswith("README: ")


# -- item 16: Auto Layout is layered and routes edges between nodes ----------------------------
def edges_behind_nodes(graph, positions) -> int:
    """How many edges' curves pass through a node box other than their own two ends."""
    from PySide6.QtCore import QPointF, QRectF  # noqa: PLC0415

    from app.canvas.edge_item import bezier  # noqa: PLC0415
    from app.layout import HEADER_H, NODE_WIDTH, ROW_H, node_size_of  # noqa: PLC0415

    boxes = {n: QRectF(*positions[n], *node_size_of(graph, n)).adjusted(4, 4, -4, -4) for n in positions}
    count = 0
    for e in graph.edges():
        sx, sy = positions[e.src]
        dx, dy = positions[e.dst]
        port = graph.node(e.dst).op.inputs.index(e.dst_port)
        path = bezier(QPointF(sx + NODE_WIDTH, sy + HEADER_H + ROW_H / 2),
                      QPointF(dx, dy + HEADER_H + ROW_H * (port + 0.5)))
        points = [path.pointAtPercent(t / 40) for t in range(41)]
        if any(box.contains(p) for n, box in boxes.items() if n not in (e.src, e.dst) for p in points):
            count += 1
    return count


@pytest.mark.parametrize("name", templates.names())
def test_auto_layout_never_worse_and_apple_is_clean(name):
    from app.layout import auto_layout_positions, layer_of  # noqa: PLC0415

    g = templates.build(name)
    before = {n: tuple(g.node(n).position) for n in g.nodes()}
    after = auto_layout_positions(g)
    assert set(after) == set(g.nodes())
    assert edges_behind_nodes(g, after) <= edges_behind_nodes(g, before)
    if name in ("apple", "apple_orange"):
        assert edges_behind_nodes(g, after) == 0
        layer = layer_of(g)
        assert layer["tax"] == layer["mul_tax"] - 1   # a source stands next to its consumer


def test_auto_layout_action_is_one_undo_step(studio):
    window = studio("apple")
    doc = window.document
    before = {n: tuple(doc.graph.node(n).position) for n in doc.graph.nodes()}
    doc.auto_layout()
    assert {n: tuple(doc.graph.node(n).position) for n in doc.graph.nodes()} != before
    doc.undo_stack.undo()
    assert {n: tuple(doc.graph.node(n).position) for n in doc.graph.nodes()} == before
