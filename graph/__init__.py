"""Graph model, engine, training and file format for Backprop Studio (no Qt)."""
from graph.model.errors import (
    CycleError, DuplicateNodeError, FeedError, GraphError, GraphShapeError, MissingInputError,
    PortAlreadyFedError, UnknownNodeError, UnknownOpTypeError, UnknownPortError,
)
from graph.run.engine import Engine, StepEvent
from graph.model.graph import Edge, Graph, Node
from graph.model.fileformat import GraphFileError, graph_from_dict, graph_to_dict, load_graph, save_graph
from graph.model import templates

__all__ = [
    "CycleError", "DuplicateNodeError", "Edge", "Engine", "StepEvent", "FeedError", "Graph", "GraphError",
    "GraphFileError", "GraphShapeError", "MissingInputError", "Node", "PortAlreadyFedError",
    "UnknownNodeError", "UnknownOpTypeError", "UnknownPortError", "graph_from_dict", "graph_to_dict",
    "load_graph", "save_graph", "templates",
]
