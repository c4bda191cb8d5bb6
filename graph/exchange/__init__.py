"""Model exchange: export a graph to PyTorch, NumPy or ONNX code/files, import ONNX models."""
