"""Screenshots of the concept panels, made by the app (offscreen) and saved as PNG.

``playground.png`` the 2-D playground on xor mid-training (toy_mlp); ``truth_table.png``
the xor_two_layer perceptron with its truth table and two lines; ``gate_and.png`` the AND
gate; ``activation.png`` the plot of toy_mlp's tanh1 after a forward and backward pass;
``conv_arithmetic.png`` the calculator on a strided conv (28×28, 5×5, stride 2);
``im2col.png`` the im2col view of simple_convnet's conv1 on an MNIST digit. Prints the
paths; asserts nothing.

    QT_QPA_PLATFORM=offscreen python -m bench.screenshot_concepts [--out resources/screenshots]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BACKPROP_STUDIO_HOME", tempfile.mkdtemp(prefix="bps-shot-"))

from app.gui_main import _make_app  # noqa: E402
from graph.run.perf import tune_process  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from graph import templates  # noqa: E402
from graph.training.datasets import load_dataset  # noqa: E402


def settle(app, rounds: int = 6) -> None:
    for _ in range(rounds):
        app.processEvents()


def grab_dock(app, dock, path: Path, size=(640, 720)) -> Path:
    dock.setFloating(True)
    dock.resize(*size)
    dock.show()
    settle(app, 10)
    dock.grab().save(str(path), "PNG")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "resources" / "screenshots"))
    parser.add_argument("--train-seconds", type=float, default=4.0, help="playground training before the grab")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = _make_app()
    window = MainWindow(restore_layout=False)
    window.quiet = True
    window.prompt_unsaved = lambda: "discard"
    window.resize(1400, 900)
    window.show()
    tune_process()  # as app/gui_main.py does once its window is built
    ui = window.concepts
    shots = []

    def open_template(name):
        window.document.reset(templates.build(name), name=name)
        settle(app)

    # perceptrons
    open_template("and_gate")
    ui.show_tab("gate")
    shots.append(grab_dock(app, ui.dock, out / "gate_and.png", (560, 760)))
    open_template("xor_two_layer")
    shots.append(grab_dock(app, ui.dock, out / "truth_table.png", (560, 820)))

    # activation after forward + backward on a toy batch
    open_template("toy_mlp")
    window.stepping.controller.set_feed("x", load_dataset("moons").x_train[:64])
    window.stepping.controller.set_feed("t", load_dataset("moons").y_train[:64])
    ui.show_tab("activation")
    window.scene.select_nodes(["tanh1"])
    window.stepping.controller.run_backward()
    shots.append(grab_dock(app, ui.dock, out / "activation.png", (560, 640)))

    # conv arithmetic on a strided conv
    g = templates.build("simple_convnet")
    g.set_params("conv1", stride=2)
    window.document.reset(g, name="strided")
    settle(app)
    ui.show_tab("conv")
    window.scene.select_nodes(["conv1"])
    settle(app)
    shots.append(grab_dock(app, ui.dock, out / "conv_arithmetic.png", (560, 760)))

    # im2col on an MNIST digit
    open_template("simple_convnet")
    digits = load_dataset("mnist-10k")
    window.stepping.controller.set_feed("x", digits.x_train[:2].astype("float64") / 255.0)
    window.stepping.controller.set_feed("t", digits.y_train[:2])
    ui.show_tab("im2col")
    window.scene.select_nodes(["conv1"])
    window.stepping.controller.run_forward()
    panel = ui.im2col
    panel.filter.setValue(1)
    panel.set_row(panel.view.row_of(9, 12))
    shots.append(grab_dock(app, ui.dock, out / "im2col.png", (1100, 520)))
    ui.dock.setFloating(False)

    # the playground mid-training
    open_template("toy_mlp")
    ui.show_tab("playground")
    pp = ui.playground
    pp.noise.setValue(10)
    pp.set_training(True)
    end = time.perf_counter() + args.train_seconds
    while time.perf_counter() < end:
        app.processEvents()
    pp.set_training(False)
    pp.redraw()
    shots.append(grab_dock(app, ui.playground_dock, out / "playground.png", (1300, 560)))
    print(f"playground: {pp.playground.iteration} iterations; training {pp.busy_s:.2f} s, redraws {pp.draw_s:.2f} s")
    for p in shots:
        print(p)
    window.document.undo_stack.setClean()
    window.recovery.discard()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
