"""Data files shipped with Backprop Studio: icons, stylesheet, example graphs, embedded datasets."""
