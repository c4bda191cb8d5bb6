"""Shared set-up for the stepping benches: a shown main window with stepping installed."""
from __future__ import annotations

from PySide6 import QtWidgets

from app.main_window import MainWindow
from graph.run.perf import tune_process


def open_stepping_window(graph, name: str):
    """``(app, window, controller)`` with ``graph`` loaded in a shown 1400×900 window."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = MainWindow()
    window.document.reset(graph, name=name)
    ui = window.stepping
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    tune_process()  # as app/gui_main.py does once its window is built
    return app, window, ui.controller
