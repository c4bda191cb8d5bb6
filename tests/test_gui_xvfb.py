"""The editor in a real X window (Xvfb), driven by real X input events (xdotool).

Optional: skipped unless ``Xvfb`` and ``xdotool`` are on PATH (Debian: ``apt-get install
xvfb xdotool libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-cursor0``). The
offscreen tests send Qt events straight to widgets; this one goes through the X server,
the xcb platform plugin, real drag-and-drop and the shortcut machinery, as a user does.

The app runs in a subprocess started through a wrapper of :func:`app.gui_main._after_load` with a
hook that writes the window's state (screen positions of the palette entry, the ports,
the graph, the unsaved mark) to a JSON file a few times a second; the test reads it to
know where to move the mouse and to wait for each step. Xvfb and the app are always
killed at the end, and every wait has a deadline.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                       reason="needs Xvfb and xdotool on PATH (apt-get install xvfb xdotool)"),
    pytest.mark.timeout(60),
]

REPO = Path(__file__).resolve().parent.parent

# Runs inside the app's process: reports where things are on screen and what the graph holds.
PROBE = r"""
import json, os, sys
from pathlib import Path
from app import gui_main

STATE = Path(os.environ["XVFB_TEST_STATE"])

def hook(window, _opts):
    from PySide6.QtCore import QPoint, QTimer

    def xy(widget, point):
        g = widget.mapToGlobal(point)
        return [g.x(), g.y()]

    def free_spot():
        from PySide6.QtCore import QRectF

        view = window.view
        vp = view.viewport().rect()
        for y in range(vp.height() - 80, 40, -20):
            for x in range(120, vp.width() - 120, 20):
                c = view.mapToScene(QPoint(x, y))
                if not window.scene.items(QRectF(c.x() - 110, c.y() - 40, 220, 110)):
                    return xy(view.viewport(), QPoint(x, y))
        return None

    def dump():
        tree = window.node_palette.tree
        item = window.node_palette.item_for("Constant")
        nodes = {}
        for node_id, node_item in window.scene.nodes.items():
            ports = {}
            for name, port in {**node_item.in_ports, **node_item.out_ports}.items():
                key = ("out:" if port.is_output else "in:") + name
                ports[key] = xy(window.view.viewport(), window.view.mapFromScene(port.anchor()))
            nodes[node_id] = {"type": node_item.type_name, "ports": ports}
        g = window.document.graph
        state = {
            "pid": os.getpid(),
            "title": window.windowTitle(),
            "modified": window.document.is_modified,
            "file": window.document.file_path,
            "palette_constant": xy(tree.viewport(), tree.visualItemRect(item).center()),
            "free_spot": free_spot(),
            "nodes": nodes,
            "edges": [[e.src, e.src_port, e.dst, e.dst_port] for e in g.edges()],
            "log": window.log.last(),
        }
        tmp = STATE.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(STATE)

    timer = QTimer(window)
    timer.timeout.connect(dump)
    timer.start(150)
    dump()

_after_load = gui_main._after_load


def _after_load_and_dump(window, options):
    _after_load(window, options)
    hook(window, options)


gui_main._after_load = _after_load_and_dump
sys.exit(gui_main.run(sys.argv[1:]))
"""


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on a display number it picks itself (``-displayfd``), so parallel runs never clash."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1400x900x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 15
    try:
        os.set_blocking(read_fd, False)
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            try:
                chunk = os.read(read_fd, 16)
            except BlockingIOError:
                chunk = None
            if chunk == b"":
                break
            if chunk:
                number += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
    finally:
        os.close(read_fd)
    if not number.strip():
        proc.kill()
        proc.wait(5)
        pytest.skip("Xvfb did not start (no display number reported)")
    return proc, f":{number.decode().strip()}"


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Session:
    """Talks to one running app: xdotool input in, the probe's JSON state out."""

    def __init__(self, display: str, state_file: Path, app: subprocess.Popen, app_log: Path) -> None:
        self.env = {**os.environ, "DISPLAY": display}
        self.state_file = state_file
        self.app = app
        self.app_log = app_log

    def xdo(self, *args) -> str:
        done = subprocess.run(["xdotool", *map(str, args)], env=self.env, capture_output=True,
                              text=True, timeout=10)
        return done.stdout

    def state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def wait_for(self, what: str, test, timeout: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.app.poll() is not None:
                pytest.fail(f"the app exited ({self.app.returncode}) while waiting for {what}:\n"
                            + self.app_log.read_text(errors="replace")[-3000:])
            state = self.state()
            if state is not None and test(state):
                return state
            time.sleep(0.1)
        shot = self.screenshot(self.state_file.with_name("failure.png"))
        pytest.fail(f"timed out waiting for {what}; last state: {self.state()}\n{shot}\napp output:\n"
                    + self.app_log.read_text(errors="replace")[-3000:])

    def screenshot(self, path: Path) -> str:
        """Save the screen (ImageMagick's ``import``) to look at after a failure."""
        if not shutil.which("import"):
            return "(no screenshot: ImageMagick's import is not installed)"
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, timeout=10,
                       capture_output=True)
        return f"screenshot: {path}"

    def focus(self) -> None:
        """No window manager runs on Xvfb: give the editor the keyboard focus by hand."""
        ids = self.xdo("search", "--onlyvisible", "--name", "Backprop Studio").split()
        if ids:
            self.xdo("windowfocus", ids[0])
            time.sleep(0.2)

    def drag(self, start, end, steps: int = 10) -> None:
        """Press, move in small steps (Qt needs movement to start a drag), release."""
        self.xdo("mousemove", *start)
        time.sleep(0.15)
        self.xdo("mousedown", 1)
        time.sleep(0.15)
        for i in range(1, steps + 1):
            x = round(start[0] + (end[0] - start[0]) * i / steps)
            y = round(start[1] + (end[1] - start[1]) * i / steps)
            self.xdo("mousemove", x, y)
            time.sleep(0.05)
        time.sleep(0.2)
        self.xdo("mouseup", 1)
        time.sleep(0.3)


def test_drag_connect_and_save_in_a_real_x_window(tmp_path):
    from graph import load_graph, save_graph, templates

    graph_file = tmp_path / "apple.json"
    save_graph(templates.build("apple"), graph_file)
    before = load_graph(graph_file)
    state_file = tmp_path / "state.json"
    app_log = tmp_path / "app.log"
    xvfb = app = None
    try:
        xvfb, display = _start_xvfb()
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "BACKPROP_STUDIO_HOME": str(tmp_path / "home"), "XVFB_TEST_STATE": str(state_file),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        with open(app_log, "wb") as log:
            app = subprocess.Popen([sys.executable, "-c", PROBE, str(graph_file), "--no-recovery",
                                    "--size", "1300x850"], cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        ui = Session(display, state_file, app, app_log)
        deadline = time.monotonic() + 30
        while ui.state() is None and time.monotonic() < deadline:
            if app.poll() is not None:
                output = app_log.read_text(errors="replace")
                if "xcb" in output and "platform plugin" in output:
                    pytest.skip("the Qt xcb plugin cannot load here (missing libxcb-* packages?)")
                pytest.fail(f"the app exited ({app.returncode}):\n{output[-3000:]}")
            time.sleep(0.1)
        state = ui.wait_for("the editor window", lambda s: s["file"] and set(s["nodes"]) == set(before.nodes()))
        assert not state["modified"] and "apple.json" in state["title"]
        ui.focus()

        # 1. drag "Constant" from the palette onto an empty part of the canvas
        assert state["free_spot"] is not None, "no empty canvas area to drop on"
        ui.drag(state["palette_constant"], state["free_spot"])
        state = ui.wait_for("the dropped Constant", lambda s: len(s["nodes"]) == len(before.nodes()) + 1)
        (new,) = set(state["nodes"]) - set(before.nodes())
        assert state["nodes"][new]["type"] == "Constant" and state["modified"]

        # 2. wire its output into mul_tax.b (replacing the tax edge, one undo step)
        ports = state["nodes"]
        ui.drag(ports[new]["ports"]["out:out"], ports["mul_tax"]["ports"]["in:b"])
        state = ui.wait_for("the new connection", lambda s: [new, "out", "mul_tax", "b"] in s["edges"])
        assert ["tax", "out", "mul_tax", "b"] not in state["edges"]

        # 3. Ctrl+S saves in place (the document has a file, so no dialog)
        ui.focus()
        ui.xdo("key", "--clearmodifiers", "ctrl+s")
        state = ui.wait_for("the save", lambda s: not s["modified"], timeout=10)
        assert "Saved" in state["log"]
    finally:
        _stop(app)
        _stop(xvfb)

    saved = load_graph(graph_file)
    assert saved.node(new).type == "Constant"
    assert (new, "out", "mul_tax", "b") in {(e.src, e.src_port, e.dst, e.dst_port) for e in saved.edges()}
    assert set(saved.nodes()) == set(before.nodes()) | {new}
