"""``export``, ``import`` and ``import-weights``: hand graphs to PyTorch / NumPy / ONNX and back.

::

    backprop-studio export GRAPH --format pytorch -o DIR     # model.py, weights, train.py (+ data)
    backprop-studio export GRAPH --format numpy -o DIR       # book-style NumPy layers, net.py, weights.npz
    backprop-studio export GRAPH --format onnx -o net.onnx   # opset 17, checked by onnx.checker
    backprop-studio import MODEL.onnx -o GRAPH.json          # a graph with weights and a layout
    backprop-studio import-weights GRAPH WEIGHTS -o OUT.json # trained weights back into the graph

Problems are ``ExchangeError`` (a ``GraphError``): one line, exit status 2.
"""
from __future__ import annotations

import os
from pathlib import Path

from graph.cli.common import UsageError, load_source, source_arg
from graph.exchange.common import apply_weights, read_weights
from graph.exchange.numpy_export import export_numpy
from graph.exchange.onnx_export import export_onnx
from graph.exchange.onnx_import import import_onnx
from graph.exchange.pytorch_train import export_pytorch
from graph.model import templates
from graph.model.fileformat import read_document, save_graph

FORMATS = ("pytorch", "numpy", "onnx")


def add_parsers(subparsers) -> None:
    """Register ``export``, ``import`` and ``import-weights``."""
    p = subparsers.add_parser("export", help="write the graph as PyTorch, NumPy or ONNX",
                              description="Export a graph (template or file) with its current weights.")
    source_arg(p)
    p.add_argument("--format", choices=FORMATS, required=True,
                   help="pytorch: model.py + train.py (DDP-ready); numpy: standalone book-style code; "
                        "onnx: one .onnx file")
    p.add_argument("-o", "--out", help="folder (pytorch, numpy) or .onnx file (default: named after the graph)")
    p.add_argument("--weights", choices=("npz", "safetensors"), default="npz",
                   help="pytorch: the weights file format (default npz)")
    p.add_argument("--dataset", help="pytorch: train.py's dataset instead of the graph's saved one")
    p.add_argument("--data-dir", help="pytorch: folder with mnist / fashion-mnist IDX files")
    p.add_argument("--epochs", type=int, help="pytorch: train.py's epochs instead of the saved ones")
    p.add_argument("--batch-size", type=int, help="pytorch: train.py's (global) batch size")
    p.add_argument("--lr", type=float, help="pytorch: train.py's learning rate")

    p = subparsers.add_parser("import", help="turn an ONNX model into a graph file",
                              description="Import an ONNX model (Conv, Gemm, pools, BatchNormalization, "
                                          "activations...) as a graph with weights and an automatic layout.")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("-o", "--out", help="graph file to write (default: MODEL.json)")
    p.add_argument("--no-loss", action="store_true",
                   help="do not add a label Input and Softmax-with-Loss to a lone (N, K) output")

    p = subparsers.add_parser("import-weights", help="load exported or trained weights back into a graph",
                              description="Set a graph's weights from a .npz or .safetensors file with "
                                          "'node/tensor' keys (written by export or by the exported train.py).")
    source_arg(p)
    p.add_argument("weights", metavar="WEIGHTS", help="trained_weights.npz, weights.npz or weights.safetensors")
    p.add_argument("-o", "--out", required=True, help="graph file to write")


def load_with_meta(spec: str):
    """``(graph, meta, name)`` of a template or graph file."""
    if spec in templates.names() or not os.path.exists(spec):
        return load_source(spec), {}, spec
    g, meta = read_document(spec)
    return g, meta, Path(spec).stem


def cmd_export(args) -> int:
    g, meta, name = load_with_meta(args.graph)
    if args.format == "onnx":
        out = Path(args.out or f"{name}.onnx")
        model = export_onnx(g, out, meta)
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"{out}: ONNX opset {model.opset_import[0].version}, {len(model.graph.node)} nodes "
              f"({', '.join(ops)}), inputs {', '.join(i.name for i in model.graph.input) or 'none'}, "
              f"outputs {', '.join(o.name for o in model.graph.output)}")
        return 0
    out = Path(args.out or f"{name}-{args.format}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: a {args.format} export is a folder, and this is a file")
    if args.format == "numpy":
        lines = export_numpy(g, out, name)
    else:
        overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "dataset": args.dataset}
        lines = export_pytorch(g, out, meta, name, args.weights, args.data_dir, overrides)
    print("\n".join(lines))
    return 0


def cmd_import(args) -> int:
    g, meta = import_onnx(args.model, add_loss=not args.no_loss)
    out = Path(args.out or Path(args.model).with_suffix(".json").name)
    save_graph(g, out, meta=meta or None)
    print(f"{out}: {len(g)} nodes ({', '.join(sorted({g.node(n).type for n in g.nodes()}))}), "
          f"{g.total_params():,} learnable parameters")
    return 0


def cmd_import_weights(args) -> int:
    g, meta, _ = load_with_meta(args.graph)
    count = apply_weights(g, read_weights(args.weights), Path(args.weights).name)
    save_graph(g, args.out, meta=meta or None)
    print(f"{args.out}: {count} tensors from {args.weights}")
    return 0
