"""The ``train`` and ``download`` command lines over the trainer: JSON output, resume (of a
finished run, with a moved dataset, with ignored options), user errors, offline downloads and a
dataset too small for a test split (the trainer itself: tests/test_trainer.py)."""
from __future__ import annotations

import json

import numpy as np

from graph.training.trainer import Trainer
from tests.test_trainer import mlp


def test_cli_train_json_and_resume(tmp_path, capsys):
    from graph.cli.main import main
    from graph.model.fileformat import save_graph

    save_graph(mlp(), tmp_path / "mlp.json")
    out = tmp_path / "run"
    args = ["train", str(tmp_path / "mlp.json"), "--dataset", "xor:n=200", "--epochs", "2", "--batch-size", "20",
            "--optimizer", "momentum:momentum=0.8", "--lr", "0.05", "--schedule", "exponential:gamma=0.9",
            "--out", str(out), "--json", "--quiet"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("train_accuracy", "val_accuracy", "test_accuracy", "epochs", "seconds"):
        assert key in result
    assert result["epochs"] == 2
    assert main(args) == 2  # the folder already holds a run
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--epochs", "3", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 3


def test_cli_resume_of_a_finished_run_says_so_without_evaluating(tmp_path, capsys, monkeypatch):
    from graph.cli.main import main

    out = tmp_path / "run"
    assert main(["train", "toy_mlp", "--dataset", "xor:n=200", "--epochs", "2", "--out", str(out),
                 "--quiet"]) == 0
    capsys.readouterr()
    stored = (out / "metrics.json").read_bytes()

    def no_evaluation(*_args, **_kwargs):
        raise AssertionError("a finished run was evaluated again")

    monkeypatch.setattr(Trainer, "evaluation", no_evaluation)
    assert main(["train", "--resume", str(out)]) == 0
    err = capsys.readouterr().err
    assert "already finished: 2 epochs" in err and f"--resume {out} --epochs 12" in err
    assert main(["train", "--resume", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["already_finished"] is True and result["epochs"] == 2
    assert (out / "metrics.json").read_bytes() == stored  # nothing rewritten, no seconds added


def test_cli_user_errors_exit_2(tmp_path, capsys):
    from graph.cli.main import main

    assert main(["train", "two_layer_net", "--dataset", "nope", "--out", str(tmp_path / "a")]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert main(["train", "two_layer_net", "--schedule", "cosine", "--out", str(tmp_path / "b")]) == 2
    assert "unknown schedule" in capsys.readouterr().err
    assert main(["train", "two_layer_net", "--schedule", "steps:boundaries=2;values=1e-3,1e-4",
                 "--print-schedule", "4", "--out", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["2,0.0001", "3,0.0001"]


def test_cli_download_offline_fails_with_the_files_named(tmp_path, capsys, monkeypatch):
    import pooch
    import requests

    from graph.cli.main import main

    def offline(self, url, output_file, pooch_):
        raise requests.exceptions.ConnectionError("offline")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    rc = main(["download", "mnist", "--data-dir", str(tmp_path), "--mirror", "http://mirror.invalid/"])
    err = capsys.readouterr().err
    assert rc == 2 and "t10k-images-idx3-ubyte.gz" in err and str(tmp_path) in err


def test_resume_stores_an_absolute_dataset_path_and_accepts_a_moved_one(tmp_path, capsys, monkeypatch):
    from graph.cli.main import main

    rng = np.random.default_rng(0)
    data = tmp_path / "a"
    data.mkdir()
    np.savez(data / "d.npz", x=rng.standard_normal((60, 2)), y=rng.integers(0, 2, 60))
    from graph.model.fileformat import save_graph
    save_graph(mlp(), tmp_path / "mlp.json")
    monkeypatch.chdir(data)
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "mlp.json"), "--dataset", "d.npz", "--epochs", "1", "--batch-size", "20",
                 "--out", str(run), "--quiet", "--json"]) == 0
    capsys.readouterr()
    info = json.loads((run / "config.json").read_text())["dataset"]
    assert info["spec"] == str((data / "d.npz").resolve())
    monkeypatch.chdir(tmp_path)
    (data / "d.npz").rename(tmp_path / "moved.npz")
    assert main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--dataset" in err and "Traceback" not in err
    rc = main(["train", "--resume", str(run), "--epochs", "2", "--dataset", "moved.npz", "--lr", "0.5",
               "--optimizer", "sgd", "--quiet", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert json.loads(captured.out)["epochs"] == 2
    warning = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "--lr" in warning[0] and "--optimizer" in warning[0]
    assert "ignored with --resume" in warning[0]


def test_cli_tiny_dataset_without_test_samples_prints_n_a(tmp_path, capsys):
    from graph.cli.main import main

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x=rng.random((3, 1, 28, 28)), y=np.array([0, 1, 2]))
    rc = main(["train", "two_layer_net", "--dataset", str(tmp_path / "tiny.npz"), "--epochs", "1",
               "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "Traceback" not in err and "test accuracy n/a" in err and "validation n/a" in err
