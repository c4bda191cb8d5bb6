"""The node-editor canvas: scene items that mirror a GraphDocument, and the view."""
from .edge_item import EdgeItem
from .node_item import NodeItem
from .port_item import PortItem
from .scene import GraphScene
from .view import GraphView

__all__ = ["EdgeItem", "GraphScene", "GraphView", "NodeItem", "PortItem"]
