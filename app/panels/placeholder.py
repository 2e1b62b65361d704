"""A page that says what it will hold, until its issue lands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderPanel(QWidget):
    def __init__(self, title: str, plan: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"panel-{title.lower().replace(' ', '-')}")
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setObjectName("panelTitle")
        body = QLabel(plan)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        body.setObjectName("placeholderText")
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addStretch(1)


PLANS = {
    "Defenses": (
        "<p><b>Defenses.</b> Here you will run adversarial unlearning on the recovered triggers and build an "
        "inference-time guardrail from them (exact, fuzzy and semantic matching), then verify again.</p>"),
    "Reports": (
        "<p><b>Audit reports.</b> Here you will export the session as an HTML, PDF or JSON audit report: the "
        "model and its hashes, every run with its configuration and library versions, metrics with intervals, "
        "recovered triggers and the defenses applied.</p>"),
}
