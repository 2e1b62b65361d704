"""The model a job page will use, read-only, with a link to the Models page where it is chosen."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.workbench_state import WorkbenchState
from core.models.choice import ModelChoice


class ModelChoiceLine(QLabel):
    def __init__(self, state: WorkbenchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelChoiceLine")
        self.setTextFormat(Qt.TextFormat.RichText)  # the model's name is escaped, the link is ours
        self.setWordWrap(True)
        self.setToolTip("Jobs on this page use the model chosen on the Models page")
        self.linkActivated.connect(lambda _link: state.page_requested.emit("Models"))
        state.model_chosen.connect(self.show_choice)
        self.show_choice(state.choice)

    def show_choice(self, choice: ModelChoice) -> None:
        self.setText(f"Model: <b>{html.escape(choice.describe())}</b> · <a href='models'>change…</a>")
