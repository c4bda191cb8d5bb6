"""What a removed node needs to come back: type, id, params, position, label, weights."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class NodeSpec:
    """Everything needed to (re)create a node: what a removal saves for its undo."""

    type: str
    id: str
    params: dict
    position: tuple = (0.0, 0.0)
    label: str = ""
    weights: dict = field(default_factory=dict)

    @classmethod
    def of(cls, node) -> NodeSpec:
        return cls(node.type, node.id, dict(node.params), tuple(node.position), node.label,
                   {k: np.array(v, copy=True) for k, v in node.weights.items()})
