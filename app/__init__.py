"""The Backprop Studio desktop editor (PySide6 + pyqtgraph).

This is the only package that imports Qt; importing ``app`` itself does not, so the
console entry point (:mod:`app.entry`) can run headless subcommands without Qt.
"""
