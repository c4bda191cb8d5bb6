"""The figures of each lab's result as plain data for :mod:`graph.views.plot_png`.

``figures(result)`` returns ``{file stem: figure}``; the CLI writes each as a PNG.
The GUI draws the same numbers live with pyqtgraph.
"""
from __future__ import annotations




def figures(result) -> dict:
    """Figures of a :class:`~graph.training.labs.base.LabResult` (empty for an unknown lab)."""
    maker = _MAKERS.get(result.lab)
    return maker(result.data) if maker else {}


def _race(d: dict) -> dict:
    fn = d["function"]
    return {"race": {"kind": "contour", "title": fn["formula"], "x": d["contour"]["x"], "y": d["contour"]["y"],
                     "f": d["contour"]["f"], "log": fn["log_levels"], "paths": d["paths"], "minimum": fn["minimum"]}}


def _loss_curves(d: dict, title: str) -> dict:
    series = []
    for label, values in d["losses"].items():
        series.append({"label": label, "x": list(range(1, len(values) + 1)), "y": d["smoothed"][label]})
    return {"loss": {"kind": "lines", "title": title, "xlabel": "iteration", "ylabel": "loss (mean of 50 batches)",
                     "series": series, "ylim": [0, 2.5]}}


def _init(d: dict) -> dict:
    hists = d["histograms"]
    ymax = max((max(h["counts"][1:] or [0]) for row in hists for h in row), default=1) or 1
    panels = [[{"kind": "hist", "title": f"layer {j + 1}", "counts": h["counts"], "edges": h["edges"],
                "ymax": ymax} for j, h in enumerate(row)] for row in hists]
    return {"histograms": {"kind": "grid", "title": "activations per layer", "panels": panels,
                           "row_labels": d["rows"]}}


def _batchnorm(d: dict) -> dict:
    curves = d["curves"]
    cols = 4
    rows = []
    for k in range(0, len(curves), cols):
        row = []
        for c in curves[k:k + cols]:
            # a run that diverged stops early: each curve has its own length
            row.append({"kind": "lines", "title": f"w std {c['scale']:.2g}", "ylim": [0, 1],
                        "series": [{"label": "", "x": list(range(len(c[key]))), "y": c[key], "color": color}
                                   for key, color in (("with_bn", (31, 119, 180)),
                                                      ("without_bn", (255, 127, 14)))]})
        rows.append(row)
    if not rows:
        return {}
    return {"batchnorm": {"kind": "grid", "title": "train accuracy per epoch: blue with BatchNorm, orange without",
                          "panels": rows}}


def _overfit(d: dict) -> dict:
    series = []
    for label, r in d["runs"].items():
        x = list(range(1, len(r["train_acc"]) + 1))
        series.append({"label": f"{label} train", "x": x, "y": r["train_acc"]})
        series.append({"label": f"{label} test", "x": x, "y": r["test_acc"]})
    return {"accuracy": {"kind": "lines", "title": "train vs test accuracy", "xlabel": "epoch",
                         "ylabel": "accuracy", "series": series, "ylim": [0, 1.02]}}


def _search(d: dict) -> dict:
    trials = [t for rd in d["rounds"] for t in rd["trials"]]
    if not trials:
        return {}
    return {"trials": {"kind": "scatter", "title": "validation accuracy of each trial", "logx": True, "logy": True,
                       "x": [t["lr"] for t in trials], "y": [t["weight_decay"] for t in trials],
                       "c": [t["val_acc"] for t in trials], "xlabel": "learning rate", "ylabel": "weight decay",
                       "clabel": "val acc"}}


def _final(d: dict) -> dict:
    return {}


_MAKERS = {"race": _race, "optimizers": lambda d: _loss_curves(d, "optimizers on MNIST"), "init": _init,
           "init-train": lambda d: _loss_curves(d, "weight initialisation"), "batchnorm": _batchnorm,
           "overfit": _overfit, "search": _search, "search-final": _final}


