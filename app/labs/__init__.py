"""The Labs dock: one panel per lab of :mod:`graph.training.labs`, run in a worker thread."""
