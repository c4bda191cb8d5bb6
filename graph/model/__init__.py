"""The model room: the graph, its typed errors, the file format and the built-in templates."""
