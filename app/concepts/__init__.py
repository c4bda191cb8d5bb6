"""Concept panels: the 2-D playground, perceptron truth tables, activation plots, the conv
arithmetic calculator and im2col (thin Qt views over :mod:`graph.views`)."""
