"""The step inspector dock: every tensor of the active (or selected) node at this moment.

Inputs, output, the upstream gradient ∂L/∂out, the gradient sent to each input and the
parameter gradients, each in a :class:`app.tensor_view.TensorView`; the local rule with
numbers; an :class:`app.stepping.inputs.InputEditor` for Input nodes; and the gradient
check (:func:`graph.run.gradcheck.gradcheck`) for this node or for all, run off the GUI
thread, with a pass/fail badge and the relative error.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6 import QtCore, QtWidgets
from shiboken6 import isValid

from graph import GraphError
from graph.run.kinks import KINK_EXPLANATION
from layers import ParamError, ShapeError

from ..style import DONE_COLOR, ERROR_COLOR
from ..tensor_view import TensorView
from .controller import StepController
from .inputs import InputEditor

PLAY_REFRESH_MS = 250
KINK_NOTE = ("A failure on a ReLU/max-pool network is real: entries whose nudge crosses a kink "
             "are already left out.")
CHECK_ERRORS = (GraphError, ShapeError, ParamError, ValueError, FloatingPointError, TypeError)


class GradCheckWorker(QtCore.QThread):
    """Runs ``gradcheck`` on a copy of the graph; ``done(node or "", results, error)``."""

    done = QtCore.Signal(str, object, str)

    def __init__(self, graph, node: str | None, feeds: dict, parent=None) -> None:
        super().__init__(parent)
        self.graph, self.node, self.feeds = graph, node, feeds

    def run(self) -> None:
        from graph.run.gradcheck import gradcheck  # noqa: PLC0415 - loaded when first used

        try:
            results = gradcheck(self.graph, node=self.node, feeds=self.feeds)
        except CHECK_ERRORS as exc:
            self.done.emit(self.node or "", [], str(exc))
            return
        self.done.emit(self.node or "", results, "")


def _pyqtgraph_torn_down() -> bool:
    """True once pyqtgraph's atexit clean-up has run (its items are gone)."""
    import pyqtgraph  # noqa: PLC0415 - already imported by the tensor views

    return bool(getattr(pyqtgraph, "_cleanupCalled", False))


def summarize(results: list) -> dict[str, tuple[bool, float, str]]:
    """``{node: (passed, worst relative error, tooltip text)}`` from gradcheck results."""
    out: dict[str, tuple[bool, float, str]] = {}
    lines: dict[str, list[str]] = {}
    for r in results:
        ok, worst, _ = out.get(r.node, (True, 0.0, ""))
        err = float(r.max_rel_error)
        out[r.node] = (ok and bool(r.passed), max(worst, err) if np.isfinite(err) else np.inf, "")
        kinks = f", {r.skipped} entries skipped at kinks" if r.skipped else ""
        lines.setdefault(r.node, []).append(
            f"{'✓' if r.passed else '✗'} {r.check} {r.tensor}: rel. error {err:.2e}{kinks}")
    return {n: (ok, worst, "\n".join(lines[n])) for n, (ok, worst, _) in out.items()}


def skipped_at_kinks(results: list, node: str | None = None) -> int:
    """How many perturbed entries (of ``node``, or all) were left out because they sit at a kink."""
    return sum(r.skipped for r in results if node is None or r.node == node)


class StepInspector(QtWidgets.QDockWidget):
    """Dock showing one node's tensors at the controller's current moment.

    Parameters
    ----------
    controller : StepController
    selected_source : callable
        Returns the ids of the selected nodes; with exactly one selected the dock shows
        it, otherwise the active node.
    overlay : CanvasOverlay, optional
        Receives the badges of "Check all".
    """

    def __init__(self, controller: StepController, selected_source: Callable[[], list],
                 overlay=None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Step inspector", parent)
        self.setObjectName("step_inspector_dock")
        self.controller = controller
        self.overlay = overlay
        self._selected_source = selected_source
        self.node: str | None = None
        self.views: list[TensorView] = []
        self._worker: GradCheckWorker | None = None
        self.checked: dict[str, tuple[bool, float, str]] = {}
        self._dirty = False
        body = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        self.header = QtWidgets.QLabel("Nothing to inspect: Step (F10) to run the graph.")
        self.header.setWordWrap(True)
        self.rule = QtWidgets.QLabel()
        self.rule.setObjectName("step_rule")
        self.rule.setWordWrap(True)
        self.rule.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule.setStyleSheet("font-family: 'DejaVu Sans Mono', monospace; background: #fff8e1;"
                                "border: 1px solid #ff9800; border-radius: 4px; padding: 4px;")
        self.rule.hide()  # an empty rule would draw as an empty bordered box until a node is shown
        self.input_editor = InputEditor(controller)
        self.input_editor.hide()
        lay.addWidget(self.header)
        lay.addWidget(self.rule)
        lay.addLayout(self._check_row())
        lay.addWidget(self.input_editor)
        self.tensors = QtWidgets.QVBoxLayout()
        lay.addLayout(self.tensors)
        lay.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.setMinimumWidth(300)
        self._later = QtCore.QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(PLAY_REFRESH_MS)
        self._later.timeout.connect(self.refresh)
        self._since_refresh = QtCore.QElapsedTimer()
        controller.state_changed.connect(self._moment_changed)
        controller.run_changed.connect(self.refresh)
        controller.playing_changed.connect(self._moment_changed)
        self.visibilityChanged.connect(self._visibility_changed)

    def _moment_changed(self, *_args) -> None:
        """Refresh now when stepping, and while playing at up to 1000 / PLAY_REFRESH_MS events
        a second (so the dock shows the event the canvas glows on, never the one before);
        faster playing refreshes at most every PLAY_REFRESH_MS so the canvas animation keeps
        its frame rate."""
        c = self.controller
        if c.playing and 1000.0 / c.speed < PLAY_REFRESH_MS:
            waited = self._since_refresh.elapsed() if self._since_refresh.isValid() else PLAY_REFRESH_MS
            if waited >= PLAY_REFRESH_MS:
                self._later.stop()
                self.refresh()
            elif not self._later.isActive():
                self._later.start(PLAY_REFRESH_MS - waited)
        else:
            self._later.stop()
            self.refresh()

    def _visibility_changed(self, visible: bool) -> None:
        if visible and self._dirty:
            self.refresh()

    def _check_row(self) -> QtWidgets.QVBoxLayout:
        self.check_button = QtWidgets.QPushButton("Gradient check")
        self.check_button.setToolTip("Compare this node's backprop gradients with central differences")
        self.check_button.clicked.connect(self.check_node)
        self.check_all_button = QtWidgets.QPushButton("Check all")
        self.check_all_button.setToolTip("Gradient-check every node and mark each on the canvas")
        self.check_all_button.clicked.connect(self.check_all)
        self.badge = QtWidgets.QLabel()
        self.badge.setObjectName("gradcheck_badge")
        self.badge.setWordWrap(True)
        self.kinks = QtWidgets.QLabel()
        self.kinks.setObjectName("gradcheck_kinks")
        self.kinks.setWordWrap(True)
        self.kinks.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.check_all_button)
        row.addWidget(self.badge, 1)
        box = QtWidgets.QVBoxLayout()
        box.addLayout(row)
        box.addWidget(self.kinks)
        return box

    # -- which node ------------------------------------------------------------------------
    def target(self) -> str | None:
        """The selected node when exactly one is selected, else the active node."""
        selected = list(self._selected_source() or [])
        if len(selected) == 1:
            return selected[0]
        ev = self.controller.current_event()
        return ev.node if ev is not None else None

    def selection_changed(self) -> None:
        """Follow the canvas selection.

        The scene also reports its items going away while the window is torn down, after
        pyqtgraph's exit clean-up has already deleted the plot items: nothing to show then.
        """
        if QtCore.QCoreApplication.closingDown() or not isValid(self.header):
            return
        try:
            self.refresh()
        except RuntimeError:
            if not _pyqtgraph_torn_down():
                raise

    # -- showing -----------------------------------------------------------------------------
    def _view(self, i: int) -> TensorView:
        while len(self.views) <= i:
            view = TensorView()
            self.views.append(view)
            self.tensors.addWidget(view)
        return self.views[i]

    def refresh(self, *_args) -> None:
        """Show the target node's tensors at the current moment (later, if the dock is hidden)."""
        if self.isHidden() and self.parent() is not None:
            self._dirty = True
            return
        self._dirty = False
        self._since_refresh.start()
        c = self.controller
        node = self.target()
        if node != self.node:
            self.badge.clear()
            self.kinks.hide()
        self.node = node
        g = c.graph
        if node is None or not g.has_node(node):
            self.header.setText("Nothing to inspect: Step (F10) to run the graph, or select a node.")
            self.rule.hide()
            self.input_editor.set_node(None)
            self._show([])
            return
        gnode = g.node(node)
        self.input_editor.set_node(node)
        tensors, status = self._tensors(node)
        self.header.setText(f"<b>{node}</b> · {gnode.type} — {status}")
        state = c.state()
        text = state.nodes[node].rule if state is not None and node in state.nodes else ""
        if not text and c.replay is not None:
            ev = self._event(node, "backward") or self._event(node, "forward")
            text = c.replay.named_rule(node, ev.rule) if ev is not None and ev.rule else ""
        self.rule.setText(text or gnode.op.rule)
        self.rule.setVisible(bool(text or gnode.op.rule))
        self._show(tensors)

    def _event(self, node: str, phase: str):
        """The node's event in ``phase`` if it already happened at the current moment."""
        c = self.controller
        k = c.replay.event_index(node, phase) if c.replay is not None else -1
        return c.events[k] if 0 <= k <= c.index else None

    def _tensors(self, node: str) -> tuple[list, str]:
        c = self.controller
        if c.replay is None or c.index < 0:
            return [], "not run yet"
        fwd, bwd = self._event(node, "forward"), self._event(node, "backward")
        if fwd is None:
            return [], "not computed yet"
        g = c.graph
        ports = g.node(node).op.inputs
        srcs = g.inputs_of(node)
        out = [(f"input {p} ← {s}", v) for p, s, v in zip(ports, srcs, fwd.inputs)]
        out.append(("output", fwd.output))
        if bwd is None:
            return out, "forward done, backward not reached"
        out.append(("upstream ∂L/∂out", bwd.upstream))
        out += [(f"∂L/∂{p} (to {s})", gi) for p, s, gi in zip(ports, srcs, bwd.input_grads)]
        out += [(f"∂L/∂{name} (parameter)", gp) for name, gp in bwd.param_grads.items()]
        return out, "forward and backward done"

    def _show(self, tensors: list) -> None:
        for i, (name, arr) in enumerate(tensors):
            view = self._view(i)
            view.set_tensor(name, arr)
            if view.isHidden():
                view.show()
        for view in self.views[len(tensors):]:
            if not view.isHidden():
                view.hide()

    def view_named(self, prefix: str) -> TensorView | None:
        """The visible tensor view whose heading starts with ``prefix`` (for tests)."""
        for view in self.views:
            if not view.isHidden() and view.title.text().startswith(f"<b>{prefix}"):
                return view
        return None

    # -- gradient check -------------------------------------------------------------------
    def _start_check(self, node: str | None) -> bool:
        if self._worker is not None and self._worker.isRunning():
            self.badge.setText("a gradient check is already running…")
            return False
        # only the values the user set: random inputs elsewhere keep the check away from
        # ReLU and max-pool kinks (the blank pixels of a digit sit exactly on them)
        feeds = {k: np.array(v) for k, v in self.controller.feeds.items()}
        self._worker = GradCheckWorker(self.controller.graph.copy(), node, feeds, self)
        self._worker.done.connect(self._check_done)
        self.check_button.setEnabled(False)
        self.check_all_button.setEnabled(False)
        self.badge.setText("checking…")
        self._worker.start()
        return True

    def check_node(self) -> bool:
        """Gradient-check the inspected node (in a worker thread)."""
        if self.node is None:
            self.badge.setText("select a node first")
            return False
        return self._start_check(self.node)

    def check_all(self) -> bool:
        """Gradient-check every node; each gets a ✓/✗ badge on the canvas."""
        return self._start_check(None)

    def _check_done(self, node: str, results: list, error: str) -> None:
        if self._worker is not None:
            self._worker.wait()  # run() ends right after emitting; never drop a running QThread
        self.check_button.setEnabled(True)
        self.check_all_button.setEnabled(True)
        self.kinks.hide()
        if error:
            self._show_badge(False, f"gradient check failed to run: {error}")
            return
        summary = summarize(results)
        skipped = skipped_at_kinks(results)
        if skipped:
            # neutral, in plain sight: these entries neither pass nor fail
            self.kinks.setText(f"{skipped} entries {KINK_EXPLANATION}.")
            self.kinks.show()
        if self.overlay is not None:
            if not node:
                self.overlay.clear_badges()
            for n, (ok, worst, text) in summary.items():
                self.overlay.set_badge(n, ok, f"gradient check: {'passed' if ok else 'FAILED'}\n{text}"
                                       + ("" if ok else f"\n{KINK_NOTE}"))
        if not node:
            # "Check all": the summary, whichever node happens to be selected
            bad = [n for n, (ok, _, _) in summary.items() if not ok]
            self._show_badge(not bad, f"{len(summary)} nodes checked, {len(bad)} failed"
                             + (f" ({', '.join(bad)})" if bad else "")
                             + (f" · {skipped} entries skipped at kinks" if skipped else ""),
                             "\n".join(f"{n}: {'passed' if ok else 'FAILED'} (max rel. error {worst:.1e})"
                                       for n, (ok, worst, _) in summary.items()))
        elif node in summary:
            ok, worst, text = summary[node]
            kinks = skipped_at_kinks(results, node)
            self._show_badge(ok, f"{'✓ passed' if ok else '✗ failed'} · max rel. error {worst:.1e}"
                             + (f" · {kinks} entries skipped at kinks" if kinks else ""),
                             text if ok else f"{text}\n{KINK_NOTE}")
        else:
            self._show_badge(True, "nothing to check here (no gradient flows through this node)")
        self.checked = summary

    def _show_badge(self, ok: bool, text: str, tooltip: str = "") -> None:
        color = DONE_COLOR if ok else ERROR_COLOR
        self.badge.setText(f"<span style='color:{color}; font-weight:600'>{text}</span>")
        self.badge.setToolTip(tooltip)

    def wait_for_check(self, ms: int = 60000) -> bool:
        """Block until a running check ends (tests and scripts)."""
        return self._worker is None or self._worker.wait(ms)
