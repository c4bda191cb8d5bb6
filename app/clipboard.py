"""Mime data for dragging op types and for copying graph fragments.

A copied fragment travels as the file format's dictionary in JSON, under a custom
mime type and as plain text, so it pastes into another window, another running
instance, or a text editor.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QRectF

from .layout import HEADER_H, NODE_WIDTH

OP_MIME = "application/x-backprop-studio-op"
GRAPH_MIME = "application/x-backprop-studio-graph"


def op_mime(type_name: str) -> QMimeData:
    """Mime data carrying one op type name (palette drags)."""
    mime = QMimeData()
    mime.setData(OP_MIME, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


def op_from_mime(mime: QMimeData | None) -> str | None:
    if mime is None or not mime.hasFormat(OP_MIME):
        return None
    return bytes(mime.data(OP_MIME)).decode("utf-8") or None


def graph_mime(graph, node_ids) -> QMimeData:
    """Mime data holding ``node_ids`` of ``graph`` and the edges among them, as JSON."""
    from graph.model.fileformat import graph_to_dict  # noqa: PLC0415 - keeps this module light

    text = json.dumps(graph_to_dict(graph, node_ids=list(node_ids)))
    mime = QMimeData()
    mime.setData(GRAPH_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def graph_from_mime(mime: QMimeData | None):
    """The graph fragment in ``mime`` (custom type, or JSON text), or ``None``."""
    if mime is None:
        return None
    if mime.hasFormat(GRAPH_MIME):
        text = bytes(mime.data(GRAPH_MIME)).decode("utf-8")
    elif mime.hasText() and mime.text().lstrip().startswith("{"):
        text = mime.text()
    else:
        return None
    from graph import GraphError  # noqa: PLC0415
    from graph.model.fileformat import GraphFileError, graph_from_dict  # noqa: PLC0415

    try:
        return graph_from_dict(json.loads(text), source="clipboard")
    except (ValueError, KeyError, TypeError, GraphFileError, GraphError):
        return None


def paste_offset(fragment, visible: QRectF, step: float) -> tuple[float, float]:
    """Where pasted nodes go: ``step`` beside the originals, or into the ``visible`` scene
    rect when that would land out of sight (copied in another window, or far away)."""
    xs = [fragment.node(n).position[0] for n in fragment.nodes()]
    ys = [fragment.node(n).position[1] for n in fragment.nodes()]
    if not xs:
        return step, step
    landed = QRectF(min(xs) + step, min(ys) + step, max(xs) - min(xs) + NODE_WIDTH,
                    max(ys) - min(ys) + HEADER_H)
    if visible.intersects(landed):
        return step, step
    center = visible.center()
    return (round(center.x() - (min(xs) + max(xs) + NODE_WIDTH) / 2),
            round(center.y() - (min(ys) + max(ys)) / 2))
