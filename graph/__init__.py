"""Graph model, engine, training and file format for Backprop Studio (no Qt)."""
from .errors import (
    CycleError, DuplicateNodeError, FeedError, GraphError, GraphShapeError, MissingInputError,
    PortAlreadyFedError, UnknownNodeError, UnknownOpTypeError, UnknownPortError,
)
from .engine import Engine, StepEvent
from .model import Edge, Graph, Node
from .fileformat import GraphFileError, graph_from_dict, graph_to_dict, load_graph, save_graph
from . import templates

__all__ = [
    "CycleError", "DuplicateNodeError", "Edge", "Engine", "StepEvent", "FeedError", "Graph", "GraphError",
    "GraphFileError", "GraphShapeError", "MissingInputError", "Node", "PortAlreadyFedError",
    "UnknownNodeError", "UnknownOpTypeError", "UnknownPortError", "graph_from_dict", "graph_to_dict",
    "load_graph", "save_graph", "templates",
]
