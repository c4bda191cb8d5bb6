"""The headless command line (``backprop-studio run|gradcheck|templates|train|download``).

:func:`graph.cli.main.main` is the entry; each subcommand lives in its own module.
"""
