"""A line edit for paths and texts that code fills in (an adapter folder, a run's target).

QLineEdit.setText leaves the cursor at the end and scrolls to it, so a filled-in path showed only
its tail (``nch/cache/organisms/sudo-s0/adapter``); this one shows the start, like a typed
path, and the whole text (after its explanation) as its tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from app.widgets.plain_label import plain_html


class WholeTextEdit(QLineEdit):
    def __init__(self, placeholder: str = "", tip: str = "", text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self._tip = tip
        self.textChanged.connect(self._show_whole)
        self.setText(text)
        self._show_whole(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setCursorPosition(0)

    def _show_whole(self, text: str) -> None:
        shown = "\n".join(part for part in (self._tip, text) if part)
        self.setToolTip(plain_html(shown) if shown else "")  # a tooltip guesses HTML
