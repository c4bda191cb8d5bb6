"""The 2-D playground (TensorFlow Playground / ConvNetJS style), Qt-free.

A :class:`Playground` holds a toy point set split into train and test points, optional
derived feature inputs (x1², x2², x1·x2, sin x1, sin x2), a copy of a graph whose data
``Input`` takes one sample of 2 features, and a :class:`~graph.training.trainer.Trainer`
that trains it: the same engine, optimizers and loop as the Training dock, no second
maths. The GUI calls :meth:`Playground.train_for` in short slices and :meth:`snapshot`
a few times per second; a snapshot holds the decision boundary over a grid of the plane
(class-1 probability, ``heat[i, j]`` at x1 = ``xs[j]``, x2 = ``xs[i]``), what every hidden
unit computes over the same grid, and the train/test losses.

Adding a point (class 0 or 1) puts it in the training set; removing takes the nearest
point within a radius. Either rebuilds the trainer around the current weights, so training
continues from where it was on the new set.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from graph.training.datasets import DataSplits, labels_for_input, make_toy
from graph.training.datasets.toy import TOY_NAMES
from graph.training.events import DoneEvent, IterationEvent, StoppedEvent, TrainError

FEATURES = {
    "x1": lambda p: p[:, 0], "x2": lambda p: p[:, 1],
    "x1²": lambda p: p[:, 0] ** 2, "x2²": lambda p: p[:, 1] ** 2, "x1·x2": lambda p: p[:, 0] * p[:, 1],
    "sin x1": lambda p: np.sin(p[:, 0]), "sin x2": lambda p: np.sin(p[:, 1]),
}
BASE_FEATURES = ("x1", "x2")
EXTENT = 6.0          # the toy sets live in about -6 .. 6 on both axes
GRID = 48
REMOVE_RADIUS = 0.5


class PlaygroundError(ValueError):
    """The graph or the settings do not fit the playground (the message says why)."""


def expand(points, features) -> np.ndarray:
    """points (N, 2) -> (N, F): one column per feature name in ``features`` (see ``FEATURES``)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise PlaygroundError(f"unknown feature {unknown[0]!r} (choose from {', '.join(FEATURES)})")
    return np.stack([FEATURES[f](p) for f in features], axis=1)


def data_input(graph) -> str:
    """The id of the graph's data Input if one sample of it has 2 features, else raise."""
    ids = [i for i in graph.nodes() if graph.node(i).type == "Input" and graph.node(i).params.get("role") == "data"]
    if len(ids) != 1:
        raise PlaygroundError("the playground needs a graph with one data Input (like the toy_mlp template)")
    shape = tuple(graph.node(ids[0]).params["shape"])
    if len(shape) != 2 or shape[1] != 2:
        raise PlaygroundError(f"the playground needs a data Input of 2 features per sample, shape (N, 2); "
                              f"{ids[0]!r} has shape {shape}")
    return ids[0]


@dataclass
class Snapshot:
    """What the GUI draws at one moment of training (all NumPy, host memory)."""

    xs: np.ndarray                    # (G,) grid coordinates on both axes
    heat: np.ndarray                  # (G, G) probability of class 1; heat[i, j] at (xs[j], xs[i])
    units: dict = field(default_factory=dict)   # name -> (U, G, G) what each unit outputs over the plane
    iteration: int = 0
    epoch: int = 0
    train_loss: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    seconds: float = 0.0              # time the snapshot itself took

    def classify(self, points) -> np.ndarray:
        """The class the heat map shows at ``points`` (M, 2): nearest grid cell, 1 where p > 0.5."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        j = np.abs(p[:, 0:1] - self.xs[None, :]).argmin(axis=1)
        i = np.abs(p[:, 1:2] - self.xs[None, :]).argmin(axis=1)
        return (self.heat[i, j] > 0.5).astype(np.int64)


class Playground:
    """A toy set, its train/test split, feature inputs and a trainer (see the module docs).

    Parameters
    ----------
    graph : graph.Graph
        Copied; needs a data Input of shape (N, 2), a label Input and a loss.
    toy : str
        One of ``circle``, ``xor``, ``gauss``, ``spiral``, ``moons``.
    train_ratio : float
        Share of the generated points used for training (the rest are test points).
    """

    def __init__(self, graph, toy: str = "xor", n: int = 200, noise: float = 0.0, train_ratio: float = 0.5,
                 features=BASE_FEATURES, seed: int = 0, lr: float = 0.03, batch_size: int = 10,
                 optimizer: str = "adam", grid: int = GRID) -> None:
        self.source = graph
        data_input(graph)
        self.toy, self.n, self.noise, self.train_ratio, self.seed = toy, int(n), float(noise), float(train_ratio), seed
        self.lr, self.batch_size, self.optimizer = float(lr), int(batch_size), optimizer
        self.xs = np.linspace(-EXTENT, EXTENT, int(grid))
        gx, gy = np.meshgrid(self.xs, self.xs)
        self.grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        self.user_x = np.zeros((0, 2))
        self.user_y = np.zeros(0, np.int64)
        self.removed: set[int] = set()
        self.features = tuple(features)
        self.loss_history: list[tuple[int, float]] = []
        self.test_history: list[tuple[int, float]] = []
        self.trainer = None
        self.graph = None
        self._grid_features = None
        self.data_version = 0     # bumped whenever the points or their split change
        self._generate()
        self.set_features(self.features)

    # -- data ------------------------------------------------------------------------------
    def _generate(self) -> None:
        if self.toy not in TOY_NAMES:
            raise PlaygroundError(f"unknown toy set {self.toy!r} (choose from {', '.join(TOY_NAMES)})")
        if not 0.05 <= self.train_ratio <= 0.95:
            raise PlaygroundError(f"the train/test ratio must be between 5% and 95%, got {self.train_ratio:.0%}")
        self.gen_x, self.gen_y = make_toy(self.toy, self.n, self.noise, self.seed)
        # the first part of the (already shuffled) points trains, the rest tests
        self.gen_train = np.arange(self.n) < int(round(self.n * self.train_ratio))
        self.removed = set()

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every point now in play: ``(x (M, 2), y (M,), is_test (M,) bool)``; user points train."""
        keep = np.array([i not in self.removed for i in range(self.n)], dtype=bool)
        x = np.concatenate([self.gen_x[keep], self.user_x])
        y = np.concatenate([self.gen_y[keep], self.user_y])
        test = np.concatenate([~self.gen_train[keep], np.zeros(len(self.user_y), bool)])
        return x, y, test

    def splits(self) -> DataSplits:
        """The training data as the Trainer takes it: features of the train points, test points
        as both the validation and the test split."""
        x, y, test = self.points()
        if (~test).sum() < 1:
            raise PlaygroundError("no training points left: add a point or raise the training ratio")
        f = expand(x, self.features)
        return DataSplits(f"playground:{self.toy}", f[~test], y[~test], f[test], y[test], f[test], y[test],
                          ["0", "1"], np.flatnonzero(test), "standardize", "2-D playground")

    def add_point(self, x1: float, x2: float, label: int) -> None:
        """Add a training point of class ``label`` (0 or 1) at (x1, x2)."""
        if int(label) not in (0, 1):
            raise PlaygroundError(f"the class of a point is 0 or 1, got {label}")
        self.user_x = np.concatenate([self.user_x, [[float(x1), float(x2)]]])
        self.user_y = np.concatenate([self.user_y, [int(label)]])
        self._rebuild()

    def remove_point(self, x1: float, x2: float, radius: float = REMOVE_RADIUS) -> bool:
        """Remove the point nearest (x1, x2) if it lies within ``radius``; ``True`` if one went."""
        best, where = radius, None
        if len(self.user_x):
            d = np.hypot(self.user_x[:, 0] - x1, self.user_x[:, 1] - x2)
            if d.min() <= best:
                best, where = float(d.min()), ("user", int(d.argmin()))
        d = np.hypot(self.gen_x[:, 0] - x1, self.gen_x[:, 1] - x2)
        d[list(self.removed)] = np.inf
        if d.size and d.min() <= best:
            where = ("gen", int(d.argmin()))
        if where is None:
            return False
        if where[0] == "user":
            self.user_x = np.delete(self.user_x, where[1], axis=0)
            self.user_y = np.delete(self.user_y, where[1])
        else:
            self.removed.add(where[1])
        self._rebuild()
        return True

    def set_data(self, toy: str | None = None, noise: float | None = None, train_ratio: float | None = None,
                 n: int | None = None) -> None:
        """Regenerate the points (the points the user added stay) and continue training."""
        self.toy = self.toy if toy is None else toy
        self.noise = self.noise if noise is None else float(noise)
        self.train_ratio = self.train_ratio if train_ratio is None else float(train_ratio)
        self.n = self.n if n is None else int(n)
        self._generate()
        self._rebuild()

    # -- graph and trainer ---------------------------------------------------------------------
    def set_features(self, features) -> None:
        """Use these feature inputs; the first layer is re-initialised when their count changes."""
        features = tuple(f for f in FEATURES if f in set(features))
        if not features:
            raise PlaygroundError("choose at least one feature input")
        expand(np.zeros((1, 2)), features)
        self.features = features
        g = self.source.copy() if self.graph is None else self._current_graph()
        data_id = [i for i in g.nodes() if g.node(i).type == "Input" and g.node(i).params.get("role") == "data"][0]
        g.set_params(data_id, shape=[None, len(features)])
        for succ in g.successors(data_id):
            node = g.node(succ)
            ins = g.input_shapes(succ)
            want = node.op.param_shapes(*ins) if ins is not None and node.op.learnable else {}
            if any(tuple(node.weights[k].shape) != tuple(s) for k, s in want.items() if k in node.weights):
                node.weights = {}
        self.graph = g
        self._rebuild(sync=False)

    def _current_graph(self):
        if self.trainer is not None:
            self.trainer.engine.sync_to_graph()
        return self.graph

    def _rebuild(self, sync: bool = True) -> None:
        from graph.training.trainer import Trainer  # noqa: PLC0415 - the trainer pulls in the engine

        if sync:
            self._current_graph()
        if self.graph is None:
            return
        self.data_version += 1
        try:
            self.trainer = Trainer(self.graph, self.splits(), epochs=10 ** 9, batch_size=self.batch_size,
                                   optimizer=self.optimizer, lr=self.lr, restore_best=False,
                                   compare_float16=False, seed=self.seed, dtype="float64")
        except TrainError as exc:
            raise PlaygroundError(str(exc)) from None
        self._events = iter(self.trainer)
        self._viewer = None
        self.iteration0 = self.loss_history[-1][0] if self.loss_history else 0

    def reset_weights(self) -> None:
        """Start training again from fresh random weights (the loss curve starts over)."""
        for id in self.graph.nodes():
            self.graph.node(id).weights = {}
        self.loss_history.clear()
        self.test_history.clear()
        self.seed += 1
        self._rebuild(sync=False)

    def set_training(self, lr: float | None = None, batch_size: int | None = None) -> None:
        """Change the learning rate or batch size (continues from the current weights)."""
        self.lr = self.lr if lr is None else float(lr)
        self.batch_size = self.batch_size if batch_size is None else int(batch_size)
        self._rebuild()

    @property
    def iteration(self) -> int:
        return self.iteration0 + self.trainer.iteration

    def train_for(self, seconds: float, max_iterations: int | None = None) -> int:
        """Run training iterations for about ``seconds`` (or ``max_iterations``); return how many ran."""
        done = 0
        end = time.perf_counter() + seconds
        while (max_iterations is None or done < max_iterations) and time.perf_counter() < end:
            event = next(self._events)
            if isinstance(event, IterationEvent):
                done += 1
                self.loss_history.append((self.iteration, float(event.loss)))
            elif isinstance(event, (StoppedEvent, DoneEvent)):  # stopped (NaN) or done: nothing more to run
                break
        return done

    # -- what the GUI draws ----------------------------------------------------------------------
    def snapshot(self, with_test: bool = True) -> Snapshot:
        """The decision boundary and every hidden unit over the grid, and the current losses."""
        t0 = time.perf_counter()
        tr = self.trainer
        eng = self._view_engine()
        g = len(self.xs)
        if self._grid_features is None or self._grid_features[0] != self.features:
            self._grid_features = (self.features, expand(self.grid_points, self.features))
        x = tr.scaler(self._grid_features[1], eng.dtype, eng.xp)
        t = labels_for_input(np.zeros(len(x), np.int64), tr.label_shape, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            eng.forward({tr.data_id: x, tr.label_id: t}, train=False)
        scores = np.asarray(eng.value(tr.logits_id), dtype=np.float64).reshape(len(x), -1)
        if scores.shape[1] >= 2:
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            prob = e[:, 1] / e.sum(axis=1)
        else:
            prob = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        units = {"features": np.asarray(x, dtype=np.float64).T.reshape(-1, g, g)}
        for id in self.graph.topo_order():
            node = self.graph.node(id)
            if node.op.category == "activations" and id != tr.logits_id:
                v = np.asarray(eng.value(id), dtype=np.float64)
                if v.ndim == 2 and v.shape[0] == len(x):
                    units[id] = v.T.reshape(-1, g, g)
        snap = Snapshot(self.xs, prob.reshape(g, g), units, self.iteration, tr.epoch,
                        self.loss_history[-1][1] if self.loss_history else None)
        if with_test and len(tr.data.y_test):
            snap.test_loss, snap.test_acc = self._test_metrics(eng)
            if snap.test_loss is not None:
                self.test_history.append((self.iteration, float(snap.test_loss)))
        snap.seconds = time.perf_counter() - t0
        return snap



    def _view_engine(self):
        """A second engine on a copy of the graph, given the trainer's current weights: the
        grid's big batch then never reshapes the training engine's buffers (which slowed the
        next training steps more than the snapshot itself took)."""
        from graph.run.engine import Engine  # noqa: PLC0415

        tr = self.trainer
        if self._viewer is None:
            tr.engine.sync_to_graph()
            self._viewer = Engine(self.graph.copy(), dtype=tr.config.dtype, seed=self.seed)
        for (id, name), arr in tr.engine.state_ref().items():
            self._viewer.set_param(id, name, arr)
        return self._viewer


    def _test_metrics(self, eng) -> tuple[float, float]:
        """Mean loss and accuracy of the test points on the snapshot engine (one batch)."""
        tr = self.trainer
        x = tr.scaler(tr.data.x_test, eng.dtype, eng.xp)
        t = labels_for_input(tr.data.y_test, tr.label_shape, 2)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            eng.forward({tr.data_id: x, tr.label_id: t}, train=False)
        scores = np.asarray(eng.value(tr.logits_id)).reshape(len(t), -1)
        return float(eng.loss()), float((scores.argmax(axis=1) == tr.data.y_test).mean())


class RefreshClock:
    """When to take the next snapshot while training: as often as ``budget`` of the time
    allows (``budget`` 0.08: snapshots, drawing and painting together take at most 8 % of
    the time), between ``min_hz`` and ``max_hz`` times per second."""

    def __init__(self, min_hz: float = 2.0, max_hz: float = 8.0, budget: float = 0.08) -> None:
        self.min_interval, self.max_interval = 1.0 / max_hz, 1.0 / min_hz
        self.budget = budget
        self.interval = self.max_interval
        self.last = -float("inf")

    def due(self, now: float) -> bool:
        return now - self.last >= self.interval

    def took(self, now: float, seconds: float) -> None:
        """Record a snapshot that ended at ``now`` and took ``seconds``."""
        self.last = now
        self.cost(seconds)

    def cost(self, seconds: float) -> None:
        """Set the interval from what the last snapshot cost in all (e.g. with the painting
        that followed it, known only later)."""
        self.interval = min(max(seconds / self.budget, self.min_interval), self.max_interval)
