"""Step backprop node by node: controller, run toolbar, timeline, canvas overlay, inspector.

:func:`app.stepping.install.install_stepping` wires it all into the main window;
:func:`app.stepping.cli_hook.apply_steps` serves ``--steps N`` screenshots.
"""
