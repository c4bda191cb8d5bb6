"""The inspector: the selected node's id, label, shapes, parameter count, rule and a
parameter form generated from its op's ``param_spec``.

Edits go through the document, which validates them with the op itself. A refused value
leaves the model unchanged; the form shows the reason in red and puts the old value back.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QLabel,
                               QLineEdit, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from graph.model.limits import fmt_bytes
from graph.model.literal import LiteralError, parse_literal
from graph.run import memory
from graph.views.conv_arithmetic import shape_note
from layers.base import fmt_num, fmt_shape

from .style import ERROR_COLOR, op_icon

INT_LIMIT = 2_000_000_000
FLOAT_LIMIT = 1e12


class ParseError(ValueError):
    """Text typed into a field that is not a value of the field's kind."""


class UndoPassthrough(QObject):
    """Lets Undo/Redo keys reach the document from a field with nothing of its own to undo.

    A line edit (or spin box) claims Ctrl+Z whether or not it has text history, so after
    a value is committed with Enter the key would silently do nothing until the user
    clicked the canvas. With this filter the field keeps the key only while it can undo
    (or redo) its own typing; otherwise the window's Undo/Redo actions get it.
    """

    REDO_KEYS = (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        edit = obj if isinstance(obj, QLineEdit) else obj.findChild(QLineEdit)
        if edit is None:
            return False
        seq = QKeySequence(event.keyCombination())
        if event.matches(QKeySequence.StandardKey.Undo):
            own = edit.isUndoAvailable()
        elif event.matches(QKeySequence.StandardKey.Redo) or seq in self.REDO_KEYS:
            own = edit.isRedoAvailable()
        else:
            return False
        if own:
            return False
        event.ignore()
        return True


def parse_shape(text: str) -> list:
    """``"N, 1, 28, 28"`` or ``"[None, 1, 28, 28]"`` -> ``[None, 1, 28, 28]``."""
    body = text.strip().strip("[]()").strip()
    if not body:
        return []
    dims = []
    for part in body.replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part in ("N", "n", "None", "none", "?"):
            dims.append(None)
            continue
        try:
            dims.append(int(part))
        except ValueError:
            raise ParseError(f"shape: {part!r} is not a whole number or N (write e.g. N, 1, 28, 28)") from None
    return dims


def format_shape(dims) -> str:
    return ", ".join("N" if d is None else str(d) for d in dims or [])


def graph_summary(g) -> str:
    """Node and parameter counts and the memory estimate of one training step at batch 1."""
    est = memory.estimate(g, 1, "float32", train=True)
    return (f"Graph: {len(g)} nodes, {g.total_params():,} parameters\n"
            f"Memory per training step: {fmt_bytes(est.total)} at batch 1 "
            f"(activations {fmt_bytes(est.activations)} per sample)")


def parse_value(text: str, optional: bool = False):
    """A number or a nested list of numbers (``None`` for empty text when optional)."""
    text = text.strip()
    if not text:
        if optional:
            return None
        raise ParseError("value: enter a number or a list such as [1, 2]")
    try:
        value = parse_literal(text)
    except LiteralError as exc:
        raise ParseError(f"value: {exc}") from None
    return list(value) if isinstance(value, tuple) else value


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return fmt_num(value)
    return repr(value)


class _FloatSpin(QDoubleSpinBox):
    """A spin box that shows floats compactly (0.01, 1e-05) instead of fixed decimals."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator  # noqa: PLC0415

        try:
            float(text)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Intermediate, text, pos


class InspectorWidget(QScrollArea):
    """Shows and edits the node selected on the canvas (``show_nodes``)."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.node_id: str | None = None
        self.param_widgets: dict[str, QWidget] = {}
        self.id_edit: QLineEdit | None = None
        self.label_edit: QLineEdit | None = None
        self.message_label = QLabel()
        self.info: dict[str, QLabel] = {}
        self.undo_passthrough = UndoPassthrough(self)
        document.node_changed.connect(self._on_node_changed)
        document.node_renamed.connect(self._on_node_renamed)
        document.node_removed.connect(self._on_node_removed)
        document.shapes_changed.connect(self._refresh_info)
        document.graph_reset.connect(lambda: self.show_nodes([]))
        self.show_nodes([])

    # -- building ------------------------------------------------------------------------
    def show_nodes(self, ids) -> None:
        """Inspect one node; for none or several, show a short summary."""
        ids = list(ids)
        self.node_id = ids[0] if len(ids) == 1 else None
        self.param_widgets, self.info = {}, {}
        self.id_edit = self.label_edit = None
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        page = QWidget()
        page.setObjectName("InspectorPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        if self.node_id is None:
            g = self.document.graph
            text = (f"{len(ids)} nodes selected." if ids else
                    "Nothing selected.\n\nDrag a node type from the palette, press Tab on the canvas, "
                    "or double-click a palette entry to add one. Drag from an output port (right) "
                    "to an input port (left) to connect.")
            label = QLabel(text)
            label.setWordWrap(True)
            label.setObjectName("InspectorHint")
            layout.addWidget(label)
            self.info["summary"] = QLabel(graph_summary(g))
            # wrapped: its long memory line made the page wider than the dock, which cut
            # off the hint above on the right
            self.info["summary"].setWordWrap(True)
            layout.addWidget(self.info["summary"])
        else:
            self._build_node_page(layout)
        layout.addStretch(1)
        self.setWidget(page)

    def _build_node_page(self, layout: QVBoxLayout) -> None:
        node = self.document.graph.node(self.node_id)
        op = node.op
        head = QLabel()
        head.setPixmap(op_icon(node.type, op.category).pixmap(28, 28))
        title = QLabel(f"<b style='font-size:14px'>{node.type}</b><br><span style='color:#6b7680'>{op.category}</span>")
        top = QFormLayout()
        top.addRow(head, title)
        layout.addLayout(top)
        if op.doc:
            doc = QLabel(op.doc)
            doc.setWordWrap(True)
            doc.setObjectName("InspectorDoc")
            layout.addWidget(doc)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.id_edit = QLineEdit(node.id)
        self.id_edit.setToolTip("The node id used by the engine, files and the command line")
        self.id_edit.editingFinished.connect(self._commit_id)
        self.label_edit = QLineEdit(node.label)
        self.label_edit.setPlaceholderText("(shown instead of the id)")
        self.label_edit.editingFinished.connect(self._commit_label)
        form.addRow("Id", self.id_edit)
        form.addRow("Label", self.label_edit)
        self.id_edit.installEventFilter(self.undo_passthrough)
        self.label_edit.installEventFilter(self.undo_passthrough)
        layout.addLayout(form)

        layout.addWidget(self._section("Parameters"))
        params = QFormLayout()
        params.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in op.param_spec:
            widget = self._make_param_widget(spec, node.params.get(spec.name))
            widget.setToolTip(spec.doc)
            self.param_widgets[spec.name] = widget
            label = QLabel(spec.name)
            label.setToolTip(spec.doc)
            params.addRow(label, widget)
        if not op.param_spec:
            params.addRow(QLabel("(none)"))
        layout.addLayout(params)
        layout.addWidget(self.message_label)

        layout.addWidget(self._section("Shapes"))
        shapes = QFormLayout()
        for key, name in (("inputs", "Inputs"), ("output", "Output"), ("arithmetic", "Size"), ("params", "Learnable")):
            self.info[key] = QLabel()
            self.info[key].setWordWrap(True)
            self.info[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shapes.addRow(name, self.info[key])
        layout.addLayout(shapes)
        self.info["error"] = QLabel()
        self.info["error"].setWordWrap(True)
        self.info["error"].setStyleSheet(f"color: {ERROR_COLOR};")
        self.info["error"].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info["error"])

        layout.addWidget(self._section("Local derivative"))
        self.info["rule"] = QLabel(op.rule or "—")
        self.info["rule"].setWordWrap(True)
        self.info["rule"].setObjectName("InspectorRule")
        self.info["rule"].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info["rule"])
        self._refresh_info()

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setObjectName("InspectorSection")
        return label

    def _make_param_widget(self, spec, value) -> QWidget:
        kind = spec.kind
        if kind == "int":
            w = QSpinBox()
            w.setRange(int(spec.low) if spec.low is not None else -INT_LIMIT,
                       int(spec.high) if spec.high is not None else INT_LIMIT)
            w.setKeyboardTracking(False)
            w.setValue(int(value))
            w.valueChanged.connect(lambda _v, n=spec.name: self.commit_param(n))
        elif kind == "float":
            w = _FloatSpin()
            w.setRange(spec.low if spec.low is not None else -FLOAT_LIMIT,
                       spec.high if spec.high is not None else FLOAT_LIMIT)
            step = abs(float(value)) / 10 if value else 0.1
            w.setSingleStep(step if step > 0 else 0.1)
            w.setKeyboardTracking(False)
            w.setValue(float(value))
            w.valueChanged.connect(lambda _v, n=spec.name: self.commit_param(n))
        elif kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda _v, n=spec.name: self.commit_param(n))
        elif kind == "choice":
            w = QComboBox()
            w.addItems([str(c) for c in spec.choices])
            w.setCurrentText(str(value))
            w.activated.connect(lambda _i, n=spec.name: self.commit_param(n))
        else:
            w = QLineEdit(format_shape(value) if kind == "shape" else format_value(value) if kind == "value"
                          else str(value if value is not None else ""))
            if kind == "shape":
                w.setPlaceholderText("e.g. N, 1, 28, 28")
            elif kind == "value":
                w.setPlaceholderText("(none)" if spec.optional else "a number or [list]")
            w.editingFinished.connect(lambda n=spec.name: self.commit_param(n))
        w.setProperty("param_kind", kind)
        w.installEventFilter(self.undo_passthrough)
        return w

    # -- committing --------------------------------------------------------------------
    def widget_value(self, name: str):
        """The value typed into parameter ``name``'s widget (``ParseError`` when unreadable)."""
        node = self.document.graph.node(self.node_id)
        spec = next(s for s in node.op.param_spec if s.name == name)
        w = self.param_widgets[name]
        if spec.kind in ("int", "float"):
            return w.value()
        if spec.kind == "bool":
            return w.isChecked()
        if spec.kind == "choice":
            return spec.choices[w.currentIndex()] if w.currentIndex() >= 0 else w.currentText()
        if spec.kind == "shape":
            return parse_shape(w.text())
        if spec.kind == "value":
            return parse_value(w.text(), spec.optional)
        return w.text()

    def commit_param(self, name: str) -> bool:
        """Send parameter ``name``'s widget value to the document; False when refused."""
        if self.node_id is None:
            return False
        try:
            value = self.widget_value(name)
        except ParseError as exc:
            reason = f"{self.node_id}: {exc}"
            self.document.log(f"parameter refused: {reason}", "error")
        else:
            if value == self.document.graph.node(self.node_id).params.get(name):
                self.message_label.clear()
                return True
            reason = self.document.set_params(self.node_id, **{name: value})
        if reason:
            self.message_label.setText(f"Refused: {reason}")
            self._load_values()
            return False
        self.message_label.clear()
        return True

    def _commit_id(self) -> None:
        if self.node_id is None or self.id_edit is None:
            return
        text = self.id_edit.text().strip()
        if text == self.node_id:
            return
        reason = self.document.rename(self.node_id, text)
        if reason:
            self.message_label.setText(f"Refused: {reason}")
            self.id_edit.setText(self.node_id)
        else:
            self.message_label.clear()

    def _commit_label(self) -> None:
        if self.node_id is not None and self.label_edit is not None:
            self.document.set_label(self.node_id, self.label_edit.text().strip())

    # -- following the model -------------------------------------------------------------
    def _load_values(self) -> None:
        """Put the model's current parameter values into the widgets."""
        node = self.document.graph.node(self.node_id)
        for spec in node.op.param_spec:
            w = self.param_widgets.get(spec.name)
            value = node.params.get(spec.name)
            if w is None:
                continue
            w.blockSignals(True)
            if spec.kind in ("int", "float"):
                w.setValue(value)
            elif spec.kind == "bool":
                w.setChecked(bool(value))
            elif spec.kind == "choice":
                w.setCurrentText(str(value))
            elif spec.kind == "shape":
                w.setText(format_shape(value))
            elif spec.kind == "value":
                w.setText(format_value(value))
            else:
                w.setText("" if value is None else str(value))
            w.blockSignals(False)
        if self.id_edit is not None:
            self.id_edit.setText(node.id)
            self.label_edit.setText(node.label)

    def _refresh_info(self) -> None:
        g = self.document.graph
        if self.node_id is None or not g.has_node(self.node_id):
            if "summary" in self.info:
                self.info["summary"].setText(graph_summary(g))
            return
        node = g.node(self.node_id)
        shapes, errors = g.infer_shapes()
        srcs = g.inputs_of(self.node_id)
        lines = [f"{port} ← {src} {fmt_shape(shapes.get(src))}" if src else f"{port}: not connected"
                 for port, src in zip(node.op.inputs, srcs)]
        self.info["inputs"].setText("\n".join(lines) or "none (a source)")
        self.info["output"].setText(fmt_shape(shapes[self.node_id]) if self.node_id in shapes else "unknown")
        # O = (I − F + 2P)/S + 1 with this node's numbers (Conv2D and pooling), rounding explained
        self.info["arithmetic"].setText(shape_note(g, self.node_id))
        count = g.param_count(self.node_id)
        names = ", ".join(node.op.learnable)
        self.info["params"].setText(f"{count:,}" + (f"  ({names})" if names else ""))
        err = errors.get(self.node_id)
        self.info["error"].setText(f"⚠ {err}" if err is not None else "")

    def _on_node_changed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self._load_values()

    def _on_node_renamed(self, old: str, new: str) -> None:
        if old == self.node_id:
            self.node_id = new
            self._load_values()

    def _on_node_removed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self.show_nodes([])
