"""The bottom message log: validation errors, refused connections, load and save results."""
from __future__ import annotations

import html
import time

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit

LEVEL_COLORS = {"info": "#37414b", "success": "#2e7d32", "warning": "#b26a00", "error": "#c62828"}
LEVEL_MARKS = {"info": "·", "success": "✓", "warning": "!", "error": "✗"}


class MessageLog(QPlainTextEdit):
    """Read-only, timestamped, coloured by level; ``entries`` keeps ``(level, text)`` pairs."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(2000)
        self.setObjectName("MessageLog")
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(max(font.pointSizeF() - 1, 8))
        self.setFont(font)
        self.entries: list[tuple[str, str]] = []

    def message(self, text: str, level: str = "info") -> None:
        """Append ``text``; ``level`` is info, success, warning or error."""
        self.messages([text], level)

    def messages(self, texts: list[str], level: str = "info") -> None:
        """Append several messages of one ``level`` with one layout pass (a burst of
        training epochs would otherwise relayout and repaint the log once per line)."""
        if not texts:
            return
        level = level if level in LEVEL_COLORS else "info"
        stamp = time.strftime("%H:%M:%S")
        lines = []
        for text in texts:
            self.entries.append((level, text))
            body = html.escape(text).replace("\n", "<br>&nbsp;&nbsp;")
            lines.append(f"<span style='color:#8a949e'>{stamp}</span> "
                         f"<span style='color:{LEVEL_COLORS[level]}'>{LEVEL_MARKS[level]} {body}</span>")
        self.appendHtml("<br>".join(lines))
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def last(self, level: str | None = None) -> str:
        """The newest message (of ``level``), or '' when there is none."""
        for lvl, text in reversed(self.entries):
            if level is None or lvl == level:
                return text
        return ""
