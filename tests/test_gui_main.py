"""The editor's command line: open FILE / template, --screenshot, --size, unknown options."""
from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtGui import QImage

from gui_helpers import studio_home  # noqa: F401


def test_parse_args_accepts_open_templates_and_unknown_options():
    from app.gui_main import parse_args  # noqa: PLC0415

    opts = parse_args(["open", "net.json", "--size", "800x600", "--steps", "3", "--future-flag"])
    assert opts.file == "net.json" and opts.size_wh == (800, 600) and opts.steps == 3
    assert opts.extra == ["--future-flag"]
    opts = parse_args(["apple"])
    assert opts.file == "apple" and opts.screenshot is None and opts.extra == []
    assert parse_args([]).file is None


def test_screenshot_of_an_example_in_process(qapp, studio_home, tmp_path):
    from app import gui_main  # noqa: PLC0415

    shot = tmp_path / "shot.png"
    assert gui_main.run(["apple", "--screenshot", str(shot), "--size", "900x600"]) == 0
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (900, 600)
    # the canvas is not blank: count distinct colours in the middle of the image
    colours = {image.pixel(x, y) for x in range(300, 600, 7) for y in range(150, 450, 7)}
    assert len(colours) > 5


def test_command_line_open_file_and_errors(studio_home, tmp_path, repo_root):
    from graph import templates  # noqa: PLC0415
    from graph.model.fileformat import save_graph  # noqa: PLC0415

    path = tmp_path / "apple.json"
    save_graph(templates.build("apple"), path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BACKPROP_STUDIO_HOME=str(studio_home),
               PYTHONPATH=str(repo_root))
    shot = tmp_path / "open.png"
    proc = subprocess.run([sys.executable, "-m", "app", "open", str(path), "--screenshot", str(shot)],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert QImage(str(shot)).width() > 0
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", "app", "open", str(bad), "--screenshot", str(shot)],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "not valid JSON" in proc.stderr
