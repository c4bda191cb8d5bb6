"""``python -m app``: the same as the ``backprop-studio`` command."""
import sys

from app.entry import main

sys.exit(main())
