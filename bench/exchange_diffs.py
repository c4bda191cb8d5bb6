"""Print the largest difference between each export and the engine, per template and format.

    python -m bench.exchange_diffs

Every template is trained a few SGD steps first (so its weights are not the initial
ones) and evaluated on a batch of 5 image-like inputs in [0, 1). Columns: ONNX run by
onnxruntime vs the engine in float32; ``build_model()(x)`` of the PyTorch export vs the
engine in float64; the NumPy export's ``predict`` vs the engine in float64; whether
export -> import -> export gives the same ONNX graph bytes. Missing packages print "-".
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from exchange_helpers import engine_outputs, model_feeds, random_feeds, trained_template  # noqa: E402
from graph import templates  # noqa: E402
from graph.exchange.common import inference_part  # noqa: E402
from graph.exchange.numpy_export import export_numpy  # noqa: E402
from graph.exchange.pytorch_train import export_pytorch  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402


def _max_diff(got, outputs, expected) -> float:
    got = got if isinstance(got, (tuple, list)) else (got,)
    return max(float(np.abs(np.asarray(v) - expected[o]).max()) for v, o in zip(got, outputs))


def onnx_column(g, feeds, folder):
    try:
        import onnxruntime as ort

        from graph.exchange.onnx_export import export_onnx
        from graph.exchange.onnx_import import import_onnx
    except ImportError:
        return "-", "-"
    f32 = {k: v.astype(np.float32) for k, v in feeds.items()}
    outputs, expected = engine_outputs(g, f32, "float32")
    model = export_onnx(g, folder / "m.onnx")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    diff = _max_diff(sess.run(outputs, {k: f32[k] for k in inference_part(g).inputs if k in f32}), outputs, expected)
    again = export_onnx(import_onnx(folder / "m.onnx")[0])
    return f"{diff:.2e}", "yes" if again.graph.SerializeToString() == model.graph.SerializeToString() else "NO"


def torch_column(g, feeds, folder, name):
    try:
        import torch
    except ImportError:
        return "-"
    export_pytorch(g, folder / "pt", name=name)
    spec = importlib.util.spec_from_file_location(f"bench_model_{name}", folder / "pt" / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.build_model(dtype=torch.float64)
    outputs, expected = engine_outputs(g, feeds)
    with torch.no_grad():
        got = model(*[torch.as_tensor(v) for v in model_feeds(g, feeds)])
    got = [t.numpy() for t in (got if isinstance(got, tuple) else (got,))]
    return f"{_max_diff(got, outputs, expected):.2e}"


def numpy_column(g, feeds, folder, name):
    export_numpy(g, folder / "np", name)
    for mod in ("net", "book_layers"):
        sys.modules.pop(mod, None)
    sys.path.insert(0, str(folder / "np"))
    try:
        net = importlib.import_module("net")
    finally:
        sys.path.remove(str(folder / "np"))
    outputs, expected = engine_outputs(g, feeds)
    return f"{_max_diff(net.predict(*model_feeds(g, feeds)), outputs, expected):.2e}"


def main() -> None:
    tune_process()  # the app's process-wide speed settings (ARCHITECTURE.md, process tuning)
    print(f"{'template':<16} {'onnx f32':>10} {'torch f64':>10} {'numpy f64':>10}  round trip")
    for name in templates.names():
        g = trained_template(name)
        feeds = random_feeds(g, np.random.default_rng(0))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            onnx_diff, round_trip = onnx_column(g, feeds, folder)
            row = (onnx_diff, torch_column(g, feeds, folder, name), numpy_column(g, feeds, folder, name))
        print(f"{name:<16} {row[0]:>10} {row[1]:>10} {row[2]:>10}  {round_trip}")


if __name__ == "__main__":
    main()
