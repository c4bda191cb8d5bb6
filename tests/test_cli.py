"""The headless command line: numbers, tables, gradcheck exit codes, one-line user errors."""
from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest

import graph.run.backend as backend
from app import entry
from graph import save_graph, templates
from graph.cli.main import main
from layers.arithmetic import Mul


def run_cli(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err, *fragments):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("backprop-studio: error: ")
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0]


# -- run ---------------------------------------------------------------------------------------
def test_run_apple_json_subprocess(repo_root):
    proc = subprocess.run([sys.executable, "-m", "app", "run", "apple", "--json"], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    nodes = json.loads(proc.stdout)["nodes"]
    assert nodes["mul_tax"]["type"] == "Mul"
    assert nodes["mul_tax"]["value"] == pytest.approx(220, rel=1e-12)
    assert nodes["apple"]["grad"] == pytest.approx(2.2, rel=1e-12)
    assert nodes["apple_num"]["grad"] == pytest.approx(110, rel=1e-12)
    assert nodes["tax"]["grad"] == pytest.approx(200, rel=1e-12)


def test_run_apple_orange_json(capsys):
    rc, out, _ = run_cli(["run", "apple_orange", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out)
    nodes = doc["nodes"]
    assert nodes["mul_tax"]["value"] == pytest.approx(715, rel=1e-12)
    expected = {"apple": 2.2, "apple_num": 110, "orange": 3.3, "orange_num": 165, "tax": 650}
    for id, grad in expected.items():
        assert nodes[id]["grad"] == pytest.approx(grad, rel=1e-12), id
    assert doc["loss"] == "mul_tax" and doc["notes"] == []


def test_run_table(capsys):
    rc, out, _ = run_cli(["run", "apple"], capsys)
    assert rc == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.split()}
    assert rows["mul_tax"][1:] == ["Mul", "220", "1"]
    assert rows["apple"][1:] == ["Constant", "100", "2.2"]
    assert rows["apple_num"][1:] == ["Constant", "2", "110"]
    assert rows["tax"][1:] == ["Constant", "1.1", "200"]
    assert out.splitlines()[0].split()[:2] == ["node", "type"]


def test_run_random_feeds_are_announced(capsys):
    rc, out, _ = run_cli(["run", "simple_convnet"], capsys)
    assert rc == 0
    assert "fed x with a random batch of 1 (seed 0)" in out
    assert "fed t with a random batch of 1 (seed 0)" in out
    rc, out, _ = run_cli(["run", "simple_convnet", "--json", "--seed", "5"], capsys)
    doc = json.loads(out)
    assert "fed x with a random batch of 1 (seed 5)" in doc["notes"]
    label = doc["nodes"]["t"]["value"]
    assert len(label) == 1 and isinstance(label[0], int) and 0 <= label[0] < 10
    assert np.array(doc["nodes"]["conv1"]["value"]).shape == (1, 30, 24, 24)
    assert np.array(doc["nodes"]["x"]["grad"]).shape == (1, 1, 28, 28)


def test_run_with_feed_file_and_dtype(tmp_path, capsys):
    x = np.random.default_rng(1).standard_normal((2, 784)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", np.array([3, 4]))
    rc, out, _ = run_cli(["run", "two_layer_net", "--json", "--dtype", "float32",
                          "--feed", f"x={tmp_path / 'x.npy'}", "--feed", f"t={tmp_path / 't.npy'}"], capsys)
    assert rc == 0
    doc = json.loads(out)
    assert doc["notes"] == [] and doc["dtype"] == "float32"
    np.testing.assert_array_equal(np.array(doc["nodes"]["x"]["value"], dtype=np.float32), x)
    assert doc["nodes"]["t"]["value"] == [3, 4]


def test_run_saved_graph(tmp_path, capsys):
    path = tmp_path / "shop.json"
    save_graph(templates.build("apple_orange"), path)
    rc, out, _ = run_cli(["run", str(path), "--json"], capsys)
    assert rc == 0
    assert json.loads(out)["nodes"]["tax"]["grad"] == pytest.approx(650, rel=1e-12)


def test_run_gates_show_the_truth_table(capsys):
    rc, out, _ = run_cli(["run", "xor_two_layer"], capsys)
    assert rc == 0
    assert "output y = (4, 1) [0, 1, 1, 0]" in out


# -- gradcheck ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["simple_convnet", "two_layer_net", "apple_orange"])
def test_gradcheck_passes(name, capsys):
    rc, out, _ = run_cli(["gradcheck", name], capsys)
    assert rc == 0, out
    assert "FAIL" not in out
    assert "tensors within 1e-06" in out.splitlines()[-1]


def test_gradcheck_table_and_json(capsys):
    rc, out, _ = run_cli(["gradcheck", "two_layer_net", "--json", "--entries", "4"], capsys)
    doc = json.loads(out)
    assert rc == 0 and doc["passed"] is True
    tensors = {(r["check"], r["node"], r["tensor"]) for r in doc["results"]}
    assert ("graph", "affine1", "param W") in tensors and ("local", "loss", "input x") in tensors
    assert all(r["max_rel_error"] <= 1e-6 and r["entries"] <= 4 for r in doc["results"])


def test_gradcheck_fails_on_a_wrong_rule(monkeypatch, capsys):
    def wrong(self, dout, cache, need_inputs=True):
        a, b = cache
        return [dout * b * 1.01, dout * a], {}

    monkeypatch.setattr(Mul, "backward", wrong)
    rc, out, _ = run_cli(["gradcheck", "apple"], capsys)
    assert rc == 1
    assert "FAIL" in out and "tensors exceed the tolerance 1e-06" in out


# -- templates and dispatch -------------------------------------------------------------------
def test_templates_list(capsys):
    rc, out, _ = run_cli(["templates"], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == templates.names()
    assert "buy apples" in lines[0]


def test_entry_routes_headless_commands_and_the_gui(monkeypatch, capsys):
    assert entry.main(["templates"]) == 0
    assert "simple_convnet" in capsys.readouterr().out
    seen = []
    fake = types.ModuleType("app.gui_main")
    fake.run = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "app.gui_main", fake)
    assert entry.main(["open", "apple"]) == 0
    assert entry.main([]) == 0
    assert seen == [["open", "apple"], []]


def test_help(capsys):
    rc, out, _ = run_cli(["--help"], capsys)
    assert rc == 0
    for word in ("run", "gradcheck", "templates", "train", "download"):
        assert word in out


# -- user errors: one line, exit 2 ------------------------------------------------------------
@pytest.mark.parametrize("argv, fragment", [
    (["run", "nope"], "'nope' is neither a template (apple, apple_orange"),
    (["run", "missing.json"], "no such graph file: missing.json"),
    (["run"], "the following arguments are required: GRAPH_OR_TEMPLATE"),
    (["run", "apple", "--dtype", "int8"], "argument --dtype: invalid choice: 'int8'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "choose a command: run, gradcheck, templates, train, download, lab, export, import or import-weights"),
    (["run", "two_layer_net", "--feed", "x"], "--feed x: expected ID=FILE.npy"),
    (["run", "two_layer_net", "--feed", "q=a.npy"], "--feed q=a.npy: no Input node 'q' (inputs: x, t)"),
    (["run", "two_layer_net", "--feed", "x=/no/such.npy"], "--feed x=/no/such.npy: no such file: /no/such.npy"),
    (["run", "apple", "--backend", "gpu"], "argument --backend: invalid choice: 'gpu'"),
    (["gradcheck", "apple", "--node", "pear"], "no node 'pear' in the graph"),
    (["gradcheck", "apple", "--entries", "-1"], "--entries must be 0 (all) or positive, got -1"),
])
def test_user_errors(argv, fragment, capsys):
    rc, _, err = run_cli(argv, capsys)
    assert_one_line_error(rc, err, fragment)


def test_bad_feed_files(tmp_path, capsys):
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    rc, _, err = run_cli(["run", "two_layer_net", "--feed", f"x={tmp_path / 'junk.npy'}"], capsys)
    assert_one_line_error(rc, err, "cannot read", "as a .npy array")
    np.save(tmp_path / "small.npy", np.zeros((2, 5)))
    rc, _, err = run_cli(["run", "two_layer_net", "--feed", f"x={tmp_path / 'small.npy'}"], capsys)
    assert_one_line_error(rc, err, "Input 'x' expects shape (N, 784), got (2, 5)")


def test_cupy_backend_unavailable(monkeypatch, capsys):
    broken = types.ModuleType("cupy")

    def no_device(*args, **kwargs):
        raise RuntimeError("no device")

    broken.arange = no_device
    broken.float32 = np.float32
    monkeypatch.setitem(sys.modules, "cupy", broken)
    backend.clear_cache()
    try:
        rc, _, err = run_cli(["run", "apple", "--backend", "cupy"], capsys)
        assert_one_line_error(rc, err, "the CuPy backend is unavailable: no usable CUDA GPU: RuntimeError: no device")
        rc, out, _ = run_cli(["run", "apple", "--backend", "auto"], capsys)
        assert rc == 0
        assert "backend: NumPy on the CPU (GPU not used: no usable CUDA GPU: RuntimeError: no device)" in out
    finally:
        monkeypatch.undo()
        backend.clear_cache()


def test_malformed_file_subprocess(tmp_path, repo_root):
    bad = tmp_path / "apple.json"
    bad.write_text(json.dumps({"format": "backprop-studio-graph", "version": 1, "edges": [],
                               "nodes": [{"id": "conv1", "type": "Conv3D", "params": {}}]}))
    proc = subprocess.run([sys.executable, "-m", "app", "run", str(bad)], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"backprop-studio: error: {bad}: node 'conv1': unknown op type 'Conv3D'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_template_subprocess(repo_root):
    proc = subprocess.run([sys.executable, "-m", "app", "gradcheck", "pear"], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "'pear' is neither a template" in proc.stderr


# -- audit fixes ------------------------------------------------------------------------------
def test_run_infers_the_batch_of_random_feeds_from_the_fed_arrays(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((2, 784)))
    rc, out, err = run_cli(["run", "two_layer_net", "--feed", f"x={tmp_path / 'x.npy'}", "--json"], capsys)
    assert rc == 0, err
    doc = json.loads(out)
    assert "fed t with a random batch of 2 (seed 0)" in doc["notes"]
    assert len(doc["nodes"]["t"]["value"]) == 2
    rc, out, err = run_cli(["gradcheck", "two_layer_net", "--feed", f"x={tmp_path / 'x.npy'}"], capsys)
    assert rc == 0, err


def test_memory_error_is_one_line(monkeypatch, capsys):
    import graph.cli.main as cli

    def boom(args):
        np.empty((10**7, 10**7))  # 728 TiB: NumPy refuses at once
    monkeypatch.setitem(cli.COMMANDS, "run", boom)
    rc, _, err = run_cli(["run", "apple"], capsys)
    assert_one_line_error(rc, err, "not enough memory for an array of", "(10000000, 10000000)",
                          "reduce the layer sizes or batch")


def test_truncated_checkpoint_on_resume_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"PK\x03\x04garbage")
    rc, _, err = run_cli(["train", "--resume", str(run)], capsys)
    assert_one_line_error(rc, err, "cannot read checkpoint")


@pytest.mark.parametrize("argv, word", [(["tempaltes"], "tempaltes"), (["rnu", "apple"], "rnu"),
                                        (["bogus"], "bogus"), (["open", "bogus", "--steps", "3"], "bogus")])
def test_entry_rejects_an_unknown_bare_word_without_opening_a_window(argv, word, monkeypatch, capsys):
    seen = []
    fake = types.ModuleType("app.gui_main")
    fake.run = lambda a: seen.append(a) or 0
    monkeypatch.setitem(sys.modules, "app.gui_main", fake)
    rc = entry.main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and not seen
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"backprop-studio: error: unknown command or file '{word}' (commands: run, "
                               "gradcheck, templates, train, download, lab, export, import, import-weights, open; "
                               "templates: apple")
    # files, file names and templates still go to the editor
    assert entry.main(["apple"]) == 0 and entry.main(["missing.json"]) == 0
    assert entry.main(["--screenshot", "shot.png", "apple"]) == 0
    assert len(seen) == 3
