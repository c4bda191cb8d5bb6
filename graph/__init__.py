"""Graph model, engine, training and file format for Backprop Studio (no Qt)."""
from .errors import (
    CycleError, DuplicateNodeError, FeedError, GraphError, GraphShapeError, MissingInputError,
    PortAlreadyFedError, UnknownNodeError, UnknownPortError,
)
from .engine import Engine, StepEvent
from .model import Edge, Graph, Node

__all__ = [
    "CycleError", "DuplicateNodeError", "Edge", "Engine", "StepEvent", "FeedError", "Graph", "GraphError",
    "GraphShapeError", "MissingInputError", "Node", "PortAlreadyFedError",
    "UnknownNodeError", "UnknownPortError",
]
