"""Step backprop node by node: controller, run toolbar, timeline, canvas overlay, inspector.

:func:`app.stepping.assemble.build_stepping` builds it for the main window;
:func:`app.stepping.cli_hook.apply_steps` serves ``--steps N`` screenshots.
"""
