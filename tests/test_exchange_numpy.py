"""NumPy export: predict equals the engine in float64, gradients too, and it needs only NumPy."""
from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from exchange_helpers import engine_outputs, model_feeds, random_feeds, trained_template
from graph import Engine, templates
from graph.cli.main import main
from graph.exchange.numpy_export import SUPPORTED, export_numpy
from layers import get_op_class
from layers.registry import op_types


def load_net(folder):
    """Import the exported net.py (and its book_layers.py) from ``folder``."""
    for name in ("net", "book_layers"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("net")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("book_layers", None)


@pytest.mark.parametrize("name", templates.names())
def test_predict_equals_the_engine_in_float64(name, tmp_path, rng):
    g = trained_template(name)
    export_numpy(g, tmp_path, name)
    net = load_net(tmp_path)
    feeds = random_feeds(g, rng)
    outputs, expected = engine_outputs(g, feeds)
    got = net.predict(*model_feeds(g, feeds))
    got = got if isinstance(got, tuple) else (got,)
    for out, value in zip(outputs, got):
        assert float(np.abs(np.asarray(value) - expected[out]).max()) <= 1e-6, (name, out)


@pytest.mark.parametrize("name", ["simple_convnet", "residual_block", "batchnorm_mlp"])
def test_gradient_equals_backprop_in_the_engine(name, tmp_path, rng):
    g = trained_template(name)
    export_numpy(g, tmp_path, name)
    net = load_net(tmp_path).Net(load_net(tmp_path).load_weights())
    feeds = random_feeds(g, rng, 4, labels=True)
    eng = Engine(g)
    eng.forward(feeds, train=True)
    eng.backward()
    grads = net.gradient(feeds["x"], feeds["t"])
    assert set(grads) == {f"{i}/{n}" for i, n in eng.learnables()}
    for key, value in grads.items():
        assert np.allclose(value, eng.param_grad(*key.split("/")), rtol=1e-9, atol=1e-12), key


def test_every_registered_op_is_mapped_or_a_loss():
    assert [t for t in op_types() if t not in SUPPORTED and get_op_class(t).category != "losses"] == []


BLOCKER = textwrap.dedent('''
    import sys
    ALLOWED = set(sys.stdlib_module_names) | {"numpy", "net", "book_layers"}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] not in ALLOWED:
                raise ImportError(f"{name} is blocked: the export must need only NumPy")
            return None

    sys.meta_path.insert(0, Block())
    sys.path.insert(0, ".")
    import numpy as np
    from net import Net, load_weights, predict
    x = np.random.default_rng(0).random((3, 1, 28, 28))
    scores = predict(x)
    grads = Net(load_weights()).gradient(x, np.array([1, 2, 3]))
    print(scores.shape, len(grads))
''')


def test_exported_code_runs_with_only_numpy(tmp_path, capsys):
    assert main(["export", "simple_convnet", "--format", "numpy", "-o", str(tmp_path)]) == 0
    assert "net.py" in capsys.readouterr().out
    proc = subprocess.run([sys.executable, "-S", "-c", BLOCKER], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": _numpy_site()})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(3, 10) 6"


def _numpy_site() -> str:
    """The folder holding NumPy (``-S`` drops site-packages, and with it torch, onnx, this project)."""
    import os

    return os.path.dirname(os.path.dirname(np.__file__))
