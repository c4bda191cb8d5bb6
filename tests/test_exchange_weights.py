"""import-weights (weight files back into a graph, every key and shape checked) and export refusals."""
from __future__ import annotations

import numpy as np

from graph import Engine, load_graph, save_graph, templates
from graph.cli.main import main
from graph.exchange.common import weight_dict


def test_exported_weights_load_back_exactly(tmp_path, capsys):
    g = templates.build("two_layer_net")
    Engine(g)  # initialises the weights into the graph
    save_graph(g, tmp_path / "g.json")
    weights = {k: v * 2 for k, v in weight_dict(load_graph(tmp_path / "g.json")).items()}
    np.savez(tmp_path / "w.npz", **weights)
    assert main(["import-weights", str(tmp_path / "g.json"), str(tmp_path / "w.npz"), "-o",
                 str(tmp_path / "out.json")]) == 0
    assert "4 tensors" in capsys.readouterr().out
    back = load_graph(tmp_path / "out.json")
    for key, value in weights.items():
        id, name = key.split("/")
        assert np.array_equal(back.node(id).weights[name], value)


def test_import_weights_refuses_a_wrong_shape_in_one_line(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", **{"affine1/W": np.zeros((3, 3))})
    rc = main(["import-weights", "two_layer_net", str(tmp_path / "w.npz"), "-o", str(tmp_path / "o.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "affine1/W has shape (3, 3) but node 'affine1' expects (784, 50)" in err[0]


def test_import_weights_names_a_file_that_is_not_an_npz(tmp_path, capsys):
    (tmp_path / "bad.npz").write_text("garbage")
    rc = main(["import-weights", "two_layer_net", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "o.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "bad.npz: not a .npz archive" in err[0] and "pickle" not in err[0]


def test_pytorch_export_refuses_a_dataset_that_does_not_fit_in_one_line(tmp_path, capsys):
    rc = main(["export", "simple_convnet", "--format", "pytorch", "-o", str(tmp_path), "--dataset", "spiral"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "train.py cannot train on spiral: dataset samples have shape (2,)" in err[0]


def test_pytorch_export_without_a_fitting_saved_dataset_writes_the_model_only(tmp_path, capsys):
    assert main(["export", "toy_mlp", "--format", "pytorch", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "train.py not written: train.py cannot train on mnist-10k" in out and "--dataset" in out
    assert (tmp_path / "model.py").is_file() and not (tmp_path / "train.py").exists()
