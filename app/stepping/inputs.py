"""Values for ``Input`` nodes while stepping: typed, randomised or a dataset sample.

:func:`default_feeds` fills every Input the user has not set, so any graph can be
stepped at once: a digit from the embedded MNIST set when the Input takes 784 values per
sample (and its class for the label Input), small random numbers otherwise.
:class:`InputEditor` is the panel the step inspector shows for a selected Input node;
:class:`DigitPicker` is its grid of digit images.
"""
from __future__ import annotations

import functools

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from graph import Graph
from graph.model.literal import LiteralError, parse_literal
from layers.base import fmt_shape

PICKER_COUNT = 100
SAMPLE_SIZE = 784


@functools.lru_cache(maxsize=1)
def digit_samples() -> tuple[np.ndarray, np.ndarray] | None:
    """The first :data:`PICKER_COUNT` embedded MNIST digits ``(uint8 images, labels)``, or
    ``None`` when the embedded files are missing or unreadable."""
    from graph.training.datasets import load_mnist_10k  # noqa: PLC0415 - loaded on first use

    try:
        x, y = load_mnist_10k()
    except (OSError, ValueError):
        return None
    return np.ascontiguousarray(x[:PICKER_COUNT]), np.asarray(y[:PICKER_COUNT])


def concrete_shape(shape, batch: int = 1) -> tuple:
    """An Input's shape with the batch axis (``None``) set to ``batch``."""
    return tuple(batch if d is None else int(d) for d in shape)


def fits(value: np.ndarray, shape) -> bool:
    """Does ``value`` fit an Input of ``shape`` (``None`` matches any size)?"""
    return value.ndim == len(shape) and all(w is None or w == s for w, s in zip(shape, value.shape))


def sample_feed(index: int, shape) -> tuple[np.ndarray, int] | None:
    """Digit ``index`` scaled to 0..1 and shaped for an Input of ``shape``, with its label."""
    data = digit_samples()
    want = concrete_shape(shape)
    if data is None or int(np.prod(want)) != SAMPLE_SIZE:
        return None
    x, y = data
    i = int(index) % len(x)
    return (x[i].astype(np.float64) / 255.0).reshape(want), int(y[i])


def label_feed(label: int, shape) -> np.ndarray:
    """Class ``label`` for a label Input: an index ``(1,)`` or one-hot ``(1, K)``."""
    want = concrete_shape(shape)
    if len(want) == 2:
        out = np.zeros(want)
        out[:, int(label) % want[1]] = 1.0
        return out
    return np.full(want, int(label), dtype=np.int64)


def random_feed(shape, role: str = "data", rng: np.random.Generator | None = None) -> np.ndarray:
    """Random values for an Input: normal(0, 1) data, or a random class for labels."""
    rng = rng if rng is not None else np.random.default_rng()
    want = concrete_shape(shape)
    if role == "label":
        k = want[1] if len(want) == 2 else 10
        return label_feed(int(rng.integers(k)), shape)
    return rng.normal(size=want)


def parse_value(text: str, shape) -> np.ndarray:
    """A typed scalar or nested list as an array fitting ``shape``.

    A single number fills the whole (batch 1) shape. Raises ``ValueError`` saying why the
    text does not fit.
    """
    try:
        arr = np.asarray(parse_literal(text.strip()), dtype=np.float64)
    except (LiteralError, ValueError, TypeError) as exc:
        raise ValueError(f"type a number or a nested list like [[1, 2]]: {exc}") from None
    if arr.ndim == 0:
        return np.full(concrete_shape(shape), float(arr))
    if arr.ndim == len(shape) - 1 and shape and shape[0] is None:
        arr = arr[None]
    if not fits(arr, shape):
        raise ValueError(f"a value of shape {fmt_shape(arr.shape)} does not fit the Input's shape {fmt_shape(shape)}")
    return arr


def default_feeds(graph: Graph, feeds: dict) -> dict:
    """``feeds`` completed for every Input that has no value of its own.

    Feeds that no longer fit their Input (its shape was edited) are replaced.
    """
    out: dict = {}
    label = 0
    inputs = [n for n in graph.nodes() if graph.node(n).type == "Input"]
    roles = {n: graph.node(n).params.get("role", "data") for n in inputs}
    for n in sorted(inputs, key=lambda n: roles[n] == "label"):
        params = graph.node(n).params
        have = feeds.get(n)
        if have is not None and fits(np.asarray(have), params["shape"]):
            out[n] = np.asarray(have)
            continue
        if params.get("value") is not None:
            continue
        if roles[n] == "label":
            out[n] = label_feed(label, params["shape"])
            continue
        sample = sample_feed(0, params["shape"])
        if sample is not None:
            out[n], label = sample
        else:
            out[n] = random_feed(params["shape"], "data", np.random.default_rng(0))
    return out


def digit_icon(img: np.ndarray, scale: int = 2) -> QtGui.QIcon:
    """A greyscale icon of a ``(28, 28)`` uint8 digit."""
    a = np.ascontiguousarray(np.asarray(img, dtype=np.uint8).reshape(img.shape[-2], img.shape[-1]))
    qimg = QtGui.QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QtGui.QImage.Format.Format_Grayscale8)
    return QtGui.QIcon(QtGui.QPixmap.fromImage(qimg.copy()).scaled(a.shape[1] * scale, a.shape[0] * scale))


class DigitPicker(QtWidgets.QDialog):
    """A grid of digit images; double-click (or OK) picks one. :attr:`chosen` is its index."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pick a digit")
        self.chosen: int | None = None
        self.grid = QtWidgets.QListWidget()
        self.grid.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.grid.setIconSize(QtCore.QSize(56, 56))
        self.grid.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.grid.setMovement(QtWidgets.QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        data = digit_samples()
        if data is not None:
            for i, (img, y) in enumerate(zip(*data)):
                item = QtWidgets.QListWidgetItem(digit_icon(img), str(int(y)))
                item.setData(QtCore.Qt.ItemDataRole.UserRole, i)
                item.setToolTip(f"sample {i}: label {int(y)}")
                self.grid.addItem(item)
        self.grid.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        if data is None:
            lay.addWidget(QtWidgets.QLabel("The embedded MNIST digits are not available."))
        lay.addWidget(self.grid)
        lay.addWidget(buttons)
        self.resize(560, 520)

    def accept(self) -> None:
        """Remember the chosen digit's index, then close."""
        item = self.grid.currentItem()
        self.chosen = None if item is None else int(item.data(QtCore.Qt.ItemDataRole.UserRole))
        super().accept()


class InputEditor(QtWidgets.QGroupBox):
    """Set the value an Input node feeds while stepping.

    Parameters
    ----------
    controller : StepController
        Receives the value (:meth:`StepController.set_feed`).
    """

    def __init__(self, controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Input value", parent)
        self.controller = controller
        self.node: str | None = None
        self.rng = np.random.default_rng()
        self.text = QtWidgets.QLineEdit()
        self.text.setPlaceholderText("a number, or a list like [[1, 2, 3]]")
        self.text.returnPressed.connect(self.apply_text)
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        apply = QtWidgets.QPushButton("Set")
        apply.setToolTip("Feed the typed value to this Input (Enter)")
        apply.clicked.connect(self.apply_text)
        self.randomise_button = QtWidgets.QPushButton("Randomise")
        self.randomise_button.setToolTip("Random normal values (a random class for a label Input)")
        self.randomise_button.clicked.connect(self.randomise)
        self.pick_button = QtWidgets.QPushButton("Pick sample…")
        self.pick_button.setToolTip("Choose a digit from the embedded MNIST set")
        self.pick_button.clicked.connect(self.pick_sample)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.text, 1)
        row.addWidget(apply)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.randomise_button)
        buttons.addWidget(self.pick_button)
        buttons.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(row)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

    def set_node(self, node: str | None) -> None:
        """Edit Input ``node`` (``None`` hides the panel)."""
        self.node = node
        g = self.controller.graph
        if node is None or not g.has_node(node) or g.node(node).type != "Input":
            self.node = None
            self.hide()
            return
        params = g.node(node).params
        self.setTitle(f"Input value: {node} {fmt_shape(params['shape'])}")
        self.pick_button.setEnabled(params.get("role") != "label"
                                    and int(np.prod(concrete_shape(params["shape"]))) == SAMPLE_SIZE)
        self.status.setText("")
        self.show()

    def _shape(self):
        return self.controller.graph.node(self.node).params["shape"]

    def apply_text(self) -> None:
        """Feed the typed value (a number or a nested list)."""
        if self.node is None:
            return
        try:
            value = parse_value(self.text.text(), self._shape())
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self._feed(value, f"set to the typed value {fmt_shape(value.shape)}")

    def randomise(self) -> None:
        """Feed random values of the Input's shape."""
        if self.node is None:
            return
        role = self.controller.graph.node(self.node).params.get("role", "data")
        self._feed(random_feed(self._shape(), role, self.rng), "randomised")

    def pick_sample(self) -> None:
        """Choose a digit in :class:`DigitPicker` and feed it."""
        if self.node is None:
            return
        dlg = DigitPicker(self)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted or dlg.chosen is None:
            return
        self.use_sample(dlg.chosen)

    def use_sample(self, index: int) -> None:
        """Feed digit ``index``, and its class to the graph's label Input when there is one."""
        got = sample_feed(index, self._shape())
        if got is None:
            self.status.setText("no digit sample fits this Input")
            return
        value, label = got
        g = self.controller.graph
        for n in g.nodes():
            node = g.node(n)
            if node.type == "Input" and node.params.get("role") == "label":
                self.controller.feeds[n] = label_feed(label, node.params["shape"])
        self._feed(value, f"digit sample {index} (label {label})")

    def _feed(self, value: np.ndarray, what: str) -> None:
        self.controller.set_feed(self.node, value)
        self.status.setText(f"{self.node}: {what}. Step to see it flow.")
