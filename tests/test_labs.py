"""Labs, headless: the book's numbers, reproducibility, the CLI, and the PNG writer."""
from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np
import pytest

from graph.cli.main import main
from graph.run.engine import Engine
from graph.training import trainer as trainer_module
from graph.training.labs import LABS, LabError, make_lab
from graph.training.labs.functions import FUNCTIONS, function_graph, grid
from graph.training.labs.search import SearchSettings, narrowed
from graph.views.plot_png import png_bytes, render


# -- race ---------------------------------------------------------------------------------------
def book_race(name: str, lr: float, steps: int = 30, start=(-7.0, 2.0)) -> np.ndarray:
    """The book's ``common/optimizer.py`` update rules on f = x²/20 + y², written out here
    independently of the app's optimizers (and with the analytic gradient)."""
    x, y = start
    path = [(x, y)]
    v = [0.0, 0.0]
    h = [0.0, 0.0]
    m = [0.0, 0.0]
    vv = [0.0, 0.0]
    for it in range(1, steps + 1):
        g = [x / 10.0, 2.0 * y]
        p = [x, y]
        for k in range(2):
            if name == "sgd":
                p[k] -= lr * g[k]
            elif name == "momentum":
                v[k] = 0.9 * v[k] - lr * g[k]
                p[k] += v[k]
            elif name == "adagrad":
                h[k] += g[k] * g[k]
                p[k] -= lr * g[k] / (math.sqrt(h[k]) + 1e-7)
            elif name == "adam":
                lr_t = lr * math.sqrt(1.0 - 0.999 ** it) / (1.0 - 0.9 ** it)
                m[k] += (1 - 0.9) * (g[k] - m[k])
                vv[k] += (1 - 0.999) * (g[k] ** 2 - vv[k])
                p[k] -= lr_t * m[k] / (math.sqrt(vv[k]) + 1e-7)
        x, y = p
        path.append((x, y))
    return np.array(path)


BOOK = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3}


def test_race_paths_equal_the_books_update_rules():
    result = make_lab("race").run()
    assert result.data["function"]["start"] == [-7.0, 2.0]
    assert set(result.data["paths"]) == set(BOOK)
    for name, lr in BOOK.items():
        assert result.data["lr"][name] == lr
        path = np.array(result.data["paths"][name])
        assert path.shape == (31, 2)  # the start, then one point per step
        np.testing.assert_allclose(path, book_race(name, lr), rtol=0, atol=1e-12)
    sgd_y = np.array(result.data["paths"]["sgd"])[:, 1]
    assert np.all(np.sign(sgd_y[1:6]) != np.sign(sgd_y[:5]))  # SGD zig-zags across the valley


def test_race_cli_json_matches_the_api(capsys):
    rc = main(["lab", "race", "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    api = make_lab("race").run()
    assert doc["function"]["formula"] == "f(x, y) = x²/20 + y²"
    assert doc["paths"] == api.data["paths"]
    assert doc["paths"]["sgd"][0] == [-7.0, 2.0]


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_function_graph_gradient_matches_central_differences(name):
    pt = (0.7, -0.4)
    eng = Engine(function_graph(name, pt), dtype="float64")
    eng.forward()
    eng.backward()
    grad = (eng.param_grad("x", "value")[0], eng.param_grad("y", "value")[0])

    def f(x, y):
        e = Engine(function_graph(name, (x, y)), dtype="float64")
        e.forward()
        return e.loss()

    h = 1e-6
    num = ((f(pt[0] + h, pt[1]) - f(pt[0] - h, pt[1])) / (2 * h), (f(pt[0], pt[1] + h) - f(pt[0], pt[1] - h)) / (2 * h))
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-6)


def test_contour_grid_and_gradient_field_come_from_the_graph():
    xs, ys, f, gx, gy = grid("book", 11)
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_allclose(f, X ** 2 / 20 + Y ** 2, rtol=1e-12)
    np.testing.assert_allclose(gx, X / 10, atol=1e-12)
    np.testing.assert_allclose(gy, 2 * Y, atol=1e-12)


def test_race_options_and_errors():
    r = make_lab("race", function="rosenbrock", optimizers="nag,rmsprop,adadelta", steps=5, lr_rmsprop=0.01).run()
    assert list(r.data["paths"]) == ["nesterov", "rmsprop", "adadelta"]
    assert r.data["lr"]["rmsprop"] == 0.01
    assert len(r.data["paths"]["adadelta"]) == 6
    with pytest.raises(LabError, match="unknown optimizer"):
        make_lab("race", optimizers="sgd,lbfgs")
    with pytest.raises(LabError, match="function must be one of"):
        make_lab("race", function="himmelblau")
    with pytest.raises(LabError, match="unknown setting"):
        make_lab("race", speed=3)


# -- init -----------------------------------------------------------------------------------------
def test_init_histograms_show_the_books_pictures():
    r = make_lab("init", activation="sigmoid,relu", inits="std=1,std=0.01,xavier,he").run()
    stats = dict(zip(r.data["rows"], r.data["stats"]))
    std1 = stats["sigmoid, std=1"]
    assert all(layer["saturated"] > 0.6 for layer in std1)          # piled up at 0 and 1
    small = stats["sigmoid, std=0.01"]
    assert all(layer["near_half"] > 0.95 for layer in small[1:])    # collapsed to 0.5
    assert all(abs(layer["mean"] - 0.5) < 0.01 and layer["std"] < 0.03 for layer in small)
    xavier = stats["sigmoid, Xavier"]
    assert all(layer["saturated"] < 0.05 and layer["std"] > 0.1 for layer in xavier)  # spread, not saturated
    he = [layer["std"] for layer in stats["relu, He"]]
    assert min(he) > 0.5 and max(he) / min(he) < 1.5                 # He keeps the spread
    relu_small = [layer["std"] for layer in stats["relu, std=0.01"]]
    assert relu_small[-1] < 1e-3                                     # 0.01 collapses ReLU nets to 0
    counts = np.array(r.data["histograms"][0][0]["counts"])
    assert counts[0] + counts[-1] > counts[1:-1].sum() / 4           # the U shape of the book's figure


@pytest.mark.slow
def test_init_train_std001_does_not_learn_xavier_and_he_do():
    r = make_lab("init-train", iterations=800).run()
    near_end = {k: float(np.mean(v[-100:])) for k, v in r.data["losses"].items()}
    assert near_end["std=0.01"] > 2.2
    assert near_end["Xavier"] < 1.0 and near_end["He"] < 1.0


# -- overfit ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_overfit_without_decay_memorises_with_decay_does_not():
    r = make_lab("overfit").run()
    free, decayed = r.data["runs"]["λ = 0"], r.data["runs"]["λ = 0.1"]
    assert free["final_train_accuracy"] >= 0.99
    assert free["final_train_accuracy"] - free["final_test_accuracy"] > 0.1
    assert decayed["final_train_accuracy"] < 0.97
    assert len(free["train_acc"]) == 201 and len(free["test_acc"]) == 201


def test_overfit_keeps_final_weights_and_uses_the_train_size():
    r = make_lab("overfit", epochs=3, weight_decays="0").run()
    rec = r.runs[0]
    assert rec.final["restored_best"] is False
    assert len(rec.iterations) == 3 * 3  # 300 samples, batch 100
    assert rec.epochs[0]["test_acc"] is not None


# -- search ---------------------------------------------------------------------------------------
SMALL_SEARCH = dict(trials=4, epochs=2, train_size=200, val_size=100)


def test_search_is_reproducible_for_a_seed():
    a = make_lab("search", seed=3, **SMALL_SEARCH).run().data["rounds"]
    b = make_lab("search", seed=3, **SMALL_SEARCH).run().data["rounds"]
    assert a == b
    c = make_lab("search", seed=4, **SMALL_SEARCH).run().data["rounds"]
    assert [t["lr"] for t in c[0]["trials"]] != [t["lr"] for t in a[0]["trials"]]


def test_narrowing_narrows():
    r = make_lab("search", rounds=2, best_k=2, **SMALL_SEARCH).run()
    first, second = r.data["rounds"]
    assert second["round"] == first["round"] + 1
    best = sorted(first["trials"], key=lambda t: -t["val_acc"])[:2]
    assert second["lr_range"] == [min(t["lr"] for t in best), max(t["lr"] for t in best)]
    assert first["lr_range"][0] <= second["lr_range"][0] <= second["lr_range"][1] <= first["lr_range"][1]
    width = lambda rng: math.log10(rng[1]) - math.log10(rng[0])  # noqa: E731
    assert width(second["lr_range"]) < width(first["lr_range"])
    assert width(second["decay_range"]) < width(first["decay_range"])
    for t in second["trials"]:
        assert second["lr_range"][0] <= t["lr"] <= second["lr_range"][1]
    s = narrowed(SearchSettings(), [{"lr": 1e-3, "weight_decay": 1e-6, "val_acc": 0.9},
                                    {"lr": 1e-2, "weight_decay": 1e-5, "val_acc": 0.1}], k=1)
    assert (s.lr_min, s.lr_max, s.decay_min, s.decay_max) == (1e-3, 1e-3, 1e-6, 1e-6)


def test_search_touches_the_test_set_once(monkeypatch):
    looked = []
    real = trainer_module.Trainer.evaluation  # every evaluation goes through it (a generator)

    def spy(self, split, *args, **kwargs):
        out = yield from real(self, split, *args, **kwargs)
        if split == "test" and out[0] is not None:
            looked.append(out[1])
        return out

    monkeypatch.setattr(trainer_module.Trainer, "evaluation", spy)
    r = make_lab("search", final=True, final_epochs=1, **SMALL_SEARCH).run()
    assert len(looked) == 1
    assert r.data["final"]["test_accuracy"] == looked[0]
    assert "exactly once" in r.data["why_test_once"]


# -- every lab from the CLI -------------------------------------------------------------------------
QUICK = {
    "race": ["--steps", "3"],
    "optimizers": ["--iterations", "4", "--optimizers", "sgd,adam"],
    "init": ["--samples", "50", "--layers", "2"],
    "init-train": ["--iterations", "4"],
    "batchnorm": ["--scales", "2", "--epochs", "1", "--train-size", "200"],
    "overfit": ["--epochs", "2", "--train-size", "100"],
    "search": ["--trials", "2", "--epochs", "1", "--train-size", "100", "--final", "true", "--final-epochs", "1"],
}


def test_quick_settings_cover_every_lab():
    assert set(QUICK) == set(LABS)


@pytest.mark.parametrize("name", list(QUICK))
def test_every_lab_runs_headless_from_the_cli(name, capsys, tmp_path):
    rc = main(["lab", name, *QUICK[name], "--json", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["lab"] == name and doc["summary"] and not doc["stopped"]
    assert (tmp_path / "result.json").is_file()
    assert list(tmp_path.glob("*.csv"))
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if name != "search":
        assert list(tmp_path.glob("*.png")), "a plot per lab"


def test_lab_cli_list_and_errors(capsys):
    assert main(["lab", "--list"]) == 0
    out, _ = capsys.readouterr()
    assert all(name in out for name in LABS)
    assert main(["lab"]) == 2
    assert main(["lab", "race", "--steps", "many"]) == 2
    _, err = capsys.readouterr()
    assert "steps must be a whole number" in err and "Traceback" not in err


def test_lab_stop_and_pause_are_honoured():
    lab = make_lab("init-train", iterations=50)
    seen = 0
    for ev in lab:
        seen += 1
        if seen == 5:
            lab.request_stop()
    assert lab.result.stopped
    assert len(lab.result.data["losses"]) == 1 and len(lab.result.data["losses"]["std=0.01"]) < 50


# -- trainer options the labs added -------------------------------------------------------------------
def test_train_cli_keep_final_and_train_size(capsys, tmp_path):
    rc = main(["train", "two_layer_net", "--epochs", "2", "--train-size", "300", "--keep-final", "--no-float16",
               "--json", "--quiet", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["restored_best"] is False
    assert doc["iterations"] == 2 * 3
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["dataset"]["train"] == 300
    assert main(["train", "two_layer_net", "--train-size", "9000", "--quiet", "--out", str(tmp_path / "r2")]) == 2
    _, err = capsys.readouterr()
    assert "training-set size must be between 1 and 8000" in err


def test_max_iterations_ends_the_run_normally():
    from graph.model import templates  # noqa: PLC0415
    from graph.training.labs.nets import dataset  # noqa: PLC0415

    tr = trainer_module.Trainer(templates.build("two_layer_net"), dataset("mnist-10k"), epochs=5, batch_size=100,
                                max_iterations=7, compare_float16=False, train_size=500)
    result = tr.run()
    assert tr.iteration == 7 and result["stopped_kind"] is None and result["epochs"] == 2


# -- PNG writer -------------------------------------------------------------------------------------
def test_png_writer_produces_a_valid_image():
    img = render({"kind": "lines", "title": "loss", "series": [{"label": "a", "x": [0, 1, 2], "y": [3, 1, 2]}]},
                 (200, 120))
    assert img.shape == (120, 200, 3) and (img != 255).any()
    data = png_bytes(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (200, 120)
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + idat_len])
    assert len(raw) == 120 * (1 + 200 * 3)


def test_batchnorm_figure_draws_a_run_that_stopped_early():
    from graph.training.labs.base import LabResult  # noqa: PLC0415
    from graph.views.lab_figures import figures  # noqa: PLC0415

    result = LabResult("batchnorm", {}, {"scales": [1.0], "curves": [
        {"scale": 1.0, "with_bn": [0.1, 0.2, 0.3, 0.4], "without_bn": [0.12]}]})  # NaN stopped it at once
    fig = figures(result)["batchnorm"]
    img = render(fig, (400, 300))
    assert img.shape == (300, 400, 3)
