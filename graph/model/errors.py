"""Typed errors raised by the graph model and engine (all are ``GraphError``)."""
from __future__ import annotations


class GraphError(ValueError):
    """Base class: something about the graph the user can fix; the message says what."""


class UnknownNodeError(GraphError):
    """A node id that is not in the graph."""


class UnknownPortError(GraphError):
    """A port name the op does not have."""


class PortAlreadyFedError(GraphError):
    """An input port already has an incoming edge."""


class CycleError(GraphError):
    """A connection would make the graph cyclic."""


class GraphShapeError(GraphError):
    """Shapes do not fit; the message names both nodes and the shapes."""


class DuplicateNodeError(GraphError):
    """A node id that is already taken."""


class MissingInputError(GraphError):
    """A node has an input port with nothing connected."""


class FeedError(GraphError):
    """A value fed to an Input node is missing or does not fit its shape."""


class UnknownOpTypeError(GraphError):
    """An op type name that no layer registers (e.g. a typo in a graph file)."""
