"""Training inside the app: a dock to configure and run the headless trainer in a worker
thread, live curves, filter and activation viewers, and the results of a run.

:func:`app.training.assemble.build_training` builds it for the main window.
"""
