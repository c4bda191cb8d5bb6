"""Shared by the export/import tests: templates trained a few iterations and engine outputs."""
from __future__ import annotations

import numpy as np

from graph import Engine, templates
from graph.exchange.common import inference_part
from graph.training.optim import make_optimizer


def trained_template(name: str, steps: int = 3):
    """Template ``name`` after a few SGD steps on random data (weights and BatchNorm
    statistics are no longer the initial ones); graphs without learnables come as built."""
    g = templates.build(name)
    eng = Engine(g, dtype="float64", seed=1)
    if not eng.learnables() or eng.loss_id is None or g.node(eng.loss_id).op.category != "losses":
        return g
    rng = np.random.default_rng(5)
    opt = make_optimizer("sgd", 0.05)
    for _ in range(steps):
        eng.forward(random_feeds(g, rng, 8, labels=True), train=True)
        eng.backward()
        opt.step(eng.params_ref(), eng.grads_ref())
    eng.sync_to_graph()
    return g


def random_feeds(g, rng, batch: int = 5, labels: bool = False) -> dict:
    """Random values for every Input without a default (label Inputs only with ``labels``).

    Data is uniform in [0, 1), like the scaled MNIST pixels the networks see: with
    standard-normal images a deep template's scores reach ~150, where float32 itself
    rounds by 1.5e-5.
    """
    feeds = {}
    for id in g.nodes():
        node = g.node(id)
        if node.type != "Input" or node.params.get("value") is not None:
            continue
        shape = [batch if d is None else d for d in node.params["shape"]]
        if node.params["role"] == "label":
            if labels:
                feeds[id] = rng.integers(0, 2, shape)
        else:
            feeds[id] = rng.random(shape)
    return feeds


def engine_outputs(g, feeds: dict, dtype: str = "float64") -> tuple[list, dict]:
    """``(output ids, {id: engine value})`` of the exported part, evaluated in inference mode."""
    part = inference_part(g)
    eng = Engine(g, dtype=dtype)
    full = dict(feeds)
    rng = np.random.default_rng(9)
    for id in eng.input_ids("label"):
        if id not in full and g.node(id).params.get("value") is None:
            shape = [len(next(iter(feeds.values()))) if feeds else 1 if d is None else d
                     for d in g.node(id).params["shape"]]
            full[id] = rng.integers(0, 2, shape)
    eng.forward(full, train=False)
    return part.outputs, {o: eng.value(o) for o in part.outputs}


def model_feeds(g, feeds: dict) -> list:
    """The feeds of the exported model's inputs, in its argument order."""
    return [feeds[i] for i in inference_part(g).inputs if i in feeds]
