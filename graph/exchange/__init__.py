"""Export graphs to PyTorch, NumPy and ONNX, and import ONNX models (no Qt, no torch).

``pytorch_export`` / ``pytorch_train``: ``model.py``, weights and a DDP-ready ``train.py``;
``numpy_export``: book-style standalone NumPy code; ``onnx_export`` / ``onnx_import``:
ONNX opset 17 both ways (``onnx`` is the optional extra ``.[onnx]``); ``common``: the
inference part of a graph, names, weight files and training settings shared by all.
"""
