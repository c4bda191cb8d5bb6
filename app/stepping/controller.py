"""The step controller: one recorded run of the graph and a cursor moving through it.

The engine runs once (:meth:`Engine.steps`) and every event is kept; stepping, stepping
back, jumping and playing only move :attr:`StepController.index` and ask
:class:`graph.views.replay.Replay` for the display of that moment, so stepping back is exact
(no recomputation) and cheap. A change to the graph or to an input's value makes the
recorded run stale; the next step records a new one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from graph import Engine, Graph, GraphError
from graph.run import memory
from graph.views.replay import DisplayState, Replay
from layers import ParamError, ShapeError

from .inputs import default_feeds

RUN_ERRORS = (GraphError, ShapeError, ParamError, ValueError, FloatingPointError)
MIN_SPEED, MAX_SPEED, DEFAULT_SPEED = 0.5, 30.0, 3.0


def blamed_node(g: Graph) -> str | None:
    """The first node, in execution order, whose inputs or shapes stop the graph running."""
    try:
        _, errors = g.infer_shapes()
        order = g.topo_order()
    except RUN_ERRORS:
        return None
    return next((id for id in order if id in errors), None)


class StepController(QObject):
    """Holds the recorded events of one run and the current moment.

    Parameters
    ----------
    graph_source : callable
        Returns the graph to run (the document's graph, which Open replaces).

    Signals
    -------
    state_changed(int)
        The current moment changed (``-1``: nothing run).
    run_changed()
        A new run was recorded or the old one was dropped.
    playing_changed(bool)
    error(str)
        The graph could not be run; the message says why and :attr:`error_node` names the
        node to blame when one is (an unconnected input, a shape that does not fit).
    """

    state_changed = Signal(int)
    run_changed = Signal()
    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, graph_source: Callable[[], Graph], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._graph_source = graph_source
        self.feeds: dict[str, np.ndarray] = {}
        self.engine: Engine | None = None
        self.replay: Replay | None = None
        self.index = -1
        self.speed = DEFAULT_SPEED
        self._graph: Graph | None = None
        self._version = -1
        self.error_node: str | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(self._interval_ms())

    # -- the recorded run ---------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The graph the next run records (the document's current one)."""
        return self._graph_source()

    @property
    def events(self) -> list:
        """The recorded events (empty without a run)."""
        return self.replay.events if self.replay is not None else []

    @property
    def count(self) -> int:
        """Number of recorded events."""
        return len(self.events)

    @property
    def is_stale(self) -> bool:
        """True when there is no run or the graph changed since it was recorded."""
        g = self.graph
        return self.replay is None or g is not self._graph or g.version != self._version

    def record(self) -> bool:
        """Run the graph now and keep every step; ``False`` (and :attr:`error`) on failure."""
        self.pause()
        g = self.graph
        try:
            feeds = default_feeds(g, self.feeds)
            batch = next((int(np.shape(v)[0]) for v in feeds.values() if np.ndim(v) > 0), 1)
            memory.check_fits(memory.estimate(g, batch, "float64", train=True, slots=0))
            engine = Engine(g)
            events = list(engine.steps(feeds))
        except RUN_ERRORS as exc:
            self.drop(emit=True)
            self.error_node = blamed_node(g)
            self.error.emit(str(exc))
            return False
        self.error_node = None
        self.engine, self.replay = engine, Replay(g, events)
        self._graph, self._version = g, g.version
        self.index = -1
        self.run_changed.emit()
        return True

    def ensure_run(self) -> bool:
        """Record a run when there is none or it is stale."""
        return (not self.is_stale) or self.record()

    def drop(self, emit: bool = True) -> None:
        """Forget the recorded run (the graph or an input changed)."""
        self.pause()
        had = self.replay is not None or self.index != -1
        self.engine = self.replay = None
        self._graph, self._version = None, -1
        self.index = -1
        if emit and had:
            self.run_changed.emit()
            self.state_changed.emit(-1)

    def set_feed(self, node: str, value) -> None:
        """Use ``value`` for Input ``node`` from now on (the recorded run is dropped)."""
        self.feeds[node] = np.asarray(value)
        self.drop()

    def state(self) -> DisplayState | None:
        """The display of the current moment (``None`` without a run)."""
        return self.replay.state(self.index) if self.replay is not None else None

    def current_event(self):
        """The event at the current moment, or ``None``."""
        return self.events[self.index] if 0 <= self.index < self.count else None

    # -- moving -------------------------------------------------------------------------
    def jump(self, k: int) -> bool:
        """Show the moment after event ``k`` (clamped); records a run first if needed."""
        if not self.ensure_run():
            return False
        k = self.replay.clamp(k)
        if k != self.index:
            self.index = k
            self.state_changed.emit(k)
        return True

    def step(self) -> bool:
        """Next event; ``False`` at the end."""
        if not self.ensure_run() or self.index >= self.count - 1:
            return False
        return self.jump(self.index + 1)

    def step_back(self) -> bool:
        """Previous event (exact: the recorded state is shown again)."""
        if self.is_stale or self.index < 0:
            return False
        return self.jump(self.index - 1)

    def run_forward(self) -> bool:
        """Jump to the end of the forward pass."""
        return self.ensure_run() and self.jump(self.replay.last_forward)

    def run_backward(self) -> bool:
        """Jump to the end of the backward pass."""
        return self.ensure_run() and self.jump(self.count - 1)

    def reset(self) -> None:
        """Back to "nothing run" (the recording is kept for the next step)."""
        self.pause()
        if self.index != -1:
            self.index = -1
            self.state_changed.emit(-1)

    # -- playing ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """True while Play advances the steps."""
        return self._timer.isActive()

    def _interval_ms(self) -> int:
        return max(1, int(round(1000.0 / self.speed)))

    def set_speed(self, events_per_second: float) -> None:
        """Playback speed in events per second."""
        self.speed = float(min(MAX_SPEED, max(MIN_SPEED, events_per_second)))
        self._timer.setInterval(self._interval_ms())

    def play(self) -> bool:
        """Advance one event per tick until the end (from the start when already there)."""
        if not self.ensure_run():
            return False
        if self.index >= self.count - 1:
            self.jump(-1)
        if not self.playing:
            self._timer.start()
            self.playing_changed.emit(True)
        return True

    def pause(self) -> None:
        """Stop playing (the current moment stays)."""
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        """Play or pause (the Play/Pause action)."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def _tick(self) -> None:
        if not self.step() or self.index >= self.count - 1:
            self.pause()
