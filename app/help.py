"""The Help menu: keyboard shortcuts, a getting-started guide and the README, inside the app.

:func:`shortcut_rows` lists every action of the window that has a shortcut (menus, toolbars
and docks alike), so the sheet never goes out of date. :func:`readme_sections` splits the
README at its ``##`` headings; each becomes a Help ▸ README entry shown as rendered
Markdown, which works offline and without a browser.
"""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTextBrowser, QVBoxLayout

from .editor_parts import EditorParts
from .style import RESOURCES

README = RESOURCES.parent / "README.md"

GUIDE = """# Getting started

## 1. Watch backprop on the apple example
1. **Examples ▸ apple** opens the book's shopping example: 2 apples at 100 each, with 10 % tax.
2. Press **F10 (Step)** a few times. Each step computes one node: its value appears in
   blue above it, and the *rule card* shows the numbers, e.g. `mul_apple = Mul(apple = 100,
   apple_num = 2) = 200`.
3. Keep stepping past the output: the backward pass begins. Gradients appear in red below
   the nodes. A multiply node swaps its inputs (∂L/∂apple = 1.1 × 2 = 2.2); an add node
   passes its gradient through unchanged.
4. **F5 (Play)** runs the steps as an animation; **Shift+F10** steps back. Select a node
   to see all its numbers in the **Step inspector**; **Gradient check** compares backprop
   with a numerical derivative.
5. Change a Constant in the **Inspector** (e.g. apple = 150) and step again.

## 2. Train a network on handwritten digits
1. **Examples ▸ simple_convnet** opens SimpleConvNet (convolution, ReLU, max-pool, two
   Affine layers, softmax loss).
2. **Train ▸ Train… (Ctrl+T)** opens the Training dock with the embedded MNIST digits.
   Keep the defaults (Adam, learning rate 0.001, batch 100) and press **Start**.
3. Watch the loss fall in **Curves**, the first-layer filters change in **Filters**, and
   the confusion matrix and misclassified digits in **Results** when it ends.
4. The trained weights go into the graph (Undo reverts them); save the graph to keep them.

## On a projector
**View ▸ Presentation mode (Ctrl+Shift+P)** makes text, labels and lines bigger.
**Help ▸ Keyboard shortcuts** lists every key.
"""


def shortcut_rows(window) -> list[tuple[str, str]]:
    """``(action text, shortcut)`` for every action of ``window`` that has a shortcut."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")
        if keys and text:
            rows.setdefault(text, " or ".join(keys))
    return sorted(rows.items(), key=lambda r: r[0].lower())


def readme_sections(path: Path = README) -> list[tuple[str, str]]:
    """``(heading, markdown)`` for each ``##`` section of the README (``[]`` without one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    parts = re.split(r"(?m)^## ", text)
    return [(p.splitlines()[0].strip(), "## " + p) for p in parts[1:] if p.strip()]


def markdown_dialog(parent, title: str, markdown: str, base: Path | None = None) -> QDialog:
    """A dialog showing ``markdown`` rendered (images relative to ``base``)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    browser = QTextBrowser()
    browser.setOpenExternalLinks(True)
    if base is not None:
        browser.setSearchPaths([str(base)])
    browser.setMarkdown(markdown)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    lay = QVBoxLayout(dialog)
    lay.addWidget(browser)
    lay.addWidget(buttons)
    dialog.resize(min(760, parent.width()), min(620, parent.height()))
    dialog.browser = browser
    return dialog


def shortcuts_markdown(window) -> str:
    rows = shortcut_rows(window)
    lines = ["# Keyboard shortcuts", "", "| Action | Keys |", "|---|---|"]
    lines += [f"| {text} | {keys} |" for text, keys in rows]
    lines += ["", "On the canvas: **Tab** adds a node at the cursor, **Space**+drag or the middle "
              "button pans, the wheel zooms, **F2** or a double-click on a title renames."]
    return "\n".join(lines)


def build_help(parts: EditorParts) -> dict[str, QAction]:
    """Fill the Help menu of ``parts``; returns its actions by name."""
    window, menu = parts.window, parts.menus.help
    first = menu.actions()[0] if menu.actions() else None

    def show(title: str, text: str) -> QDialog:
        dialog = markdown_dialog(window, title, text, README.parent)
        dialog.setObjectName(f"help_{title.lower().replace(' ', '_')}")
        if not getattr(window, "quiet", False):
            dialog.show()
        window.help_dialog = dialog
        return dialog

    guide = QAction("&Getting started", window)
    guide.setShortcut(QKeySequence("F1"))
    guide.triggered.connect(lambda: show("Getting started", GUIDE))
    keys = QAction("&Keyboard shortcuts", window)
    keys.setShortcut(QKeySequence("Ctrl+/"))
    keys.triggered.connect(lambda: show("Keyboard shortcuts", shortcuts_markdown(window)))
    menu.insertAction(first, guide)
    menu.insertAction(first, keys)
    readme = QMenu("&README", window)
    for heading, text in readme_sections():
        act = readme.addAction(heading)
        act.triggered.connect(lambda _=False, h=heading, t=text: show(f"README: {h}", t))
    menu.insertMenu(first, readme)
    menu.insertSeparator(first)
    return {"guide": guide, "shortcuts": keys, "readme": readme.menuAction()}
