"""Which nodes of a graph the engine may run fused (see ``layers.fused`` for the maths).

A group is Conv2D → [ReLU] → MaxPool2D where each link is the only consumer of the node
before it, the pool's windows tile the convolution's output exactly (stride = kernel ≥ 2,
no padding, output height and width multiples of the kernel) and both are known when the
engine is built. The engine runs such a group as one step only when it is not recording
steps; the conv's and ReLU's outputs and gradients are then worked out on request.
"""
from __future__ import annotations

from dataclasses import dataclass

from graph.model.graph import Graph


@dataclass(frozen=True)
class ConvPoolGroup:
    """Node ids of one fusable chain and the pool's kernel size ``k``."""

    conv: str
    relu: str | None
    pool: str
    k: int

    @property
    def inner(self) -> tuple:
        """The nodes whose own step the fused one replaces (all but the pool)."""
        return (self.conv,) if self.relu is None else (self.conv, self.relu)


def _sole_consumer(graph: Graph, id: str, consumer: str) -> bool:
    return [e.dst for e in graph.edges() if e.src == id] == [consumer]


def find_conv_pool_groups(graph: Graph, shapes: dict) -> dict[str, ConvPoolGroup]:
    """Fusable groups keyed by their pool's id. ``shapes``: the graph's inferred output shapes."""
    groups = {}
    for id in graph.topo_order():
        node = graph.node(id)
        if node.type != "MaxPool2D":
            continue
        k = node.params["kernel_size"]
        if node.params["stride"] != k or node.params["padding"] != 0 or k < 2:
            continue
        (src,) = graph.inputs_of(id)
        relu = None
        if src is not None and graph.node(src).type == "ReLU":
            if not _sole_consumer(graph, src, id):
                continue
            relu, src = src, graph.inputs_of(src)[0]
        if src is None or graph.node(src).type != "Conv2D" or not _sole_consumer(graph, src, relu or id):
            continue
        shape = shapes.get(src)
        if shape is None or len(shape) != 4 or any(s is None or s % k for s in shape[2:]):
            continue
        groups[id] = ConvPoolGroup(src, relu, id, k)
    return groups


def uses_kernels(graph: Graph) -> bool:
    """Whether training ``graph`` runs a fused chain, whose pooling the compiled kernels
    (``layers.kernels``) do; worth loading them early. Never raises."""
    try:
        return bool(find_conv_pool_groups(graph, graph.infer_shapes()[0]))
    except Exception:  # noqa: BLE001 - a hint for start-up, never an error
        return False
