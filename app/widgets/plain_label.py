"""Showing text that comes from people, files or models (session names, paths, triggers, errors,
log lines) as text. Qt guesses the format of a label, tooltip or message box from its text
(``AutoText``), so a session named ``<b>UI</b>`` came out bold and ``<img src=x>`` as a broken
image; a :class:`PlainLabel` never guesses, and :func:`plain_html` is the same text as HTML for
the places that always guess (tooltips, message boxes)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget


class PlainLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None, wrap: bool = False) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(wrap)


def plain_html(text: str, exact_spaces: bool = False) -> str:
    """``text`` escaped into one HTML paragraph that wraps like prose; ``exact_spaces`` keeps every
    space as typed (a trigger's), at the cost of wrapping."""
    mode = GuiQt.WhiteSpaceMode.WhiteSpacePre if exact_spaces else GuiQt.WhiteSpaceMode.WhiteSpaceNormal
    return GuiQt.convertFromPlainText(text, mode)
