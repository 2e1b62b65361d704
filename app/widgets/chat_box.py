"""A chat transcript with an input line; generation runs as a job, never on the UI thread."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.models.chat import DEFAULT_SYSTEM, GenerationOptions


class ChatBox(QWidget):
    """Emits ``prompt_submitted`` with the text and options; the owner runs the job and calls
    :meth:`show_answer` / :meth:`show_error` with the outcome."""

    prompt_submitted = Signal(str, object)  # prompt, GenerationOptions

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("chatTranscript")
        self.input = QLineEdit()
        self.input.setPlaceholderText("Ask the model something and press Enter")
        self.send_button = QPushButton("Send")
        self.system = QLineEdit(DEFAULT_SYSTEM)
        self.system.setCursorPosition(0)
        self.system.setToolTip("System message. A short one stops SmolLM2 from inserting its long default.")
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, value=0.0)
        self.temperature.setToolTip("0 = greedy decoding (deterministic)")
        self.max_tokens = QSpinBox(minimum=1, maximum=2048, value=128)
        form = QFormLayout()
        form.addRow("System", self.system)
        row = QHBoxLayout()
        row.addWidget(self.temperature)
        row.addWidget(self.max_tokens)
        form.addRow("Temperature / max tokens", row)
        send_row = QHBoxLayout()
        send_row.addWidget(self.input, 1)
        send_row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(form)
        layout.addLayout(send_row)
        self.input.returnPressed.connect(self._submit)
        self.send_button.clicked.connect(self._submit)
        self.set_ready(False, "Load a model to chat with it")

    def options(self) -> GenerationOptions:
        return GenerationOptions(max_new_tokens=self.max_tokens.value(), temperature=self.temperature.value(),
                                 system=self.system.text().strip() or DEFAULT_SYSTEM)

    def set_ready(self, ready: bool, why: str = "") -> None:
        self.input.setEnabled(ready)
        self.send_button.setEnabled(ready)
        self.input.setPlaceholderText("Ask the model something and press Enter" if ready else why)

    @Slot()
    def _submit(self) -> None:
        text = self.input.text().strip()
        if not text or not self.send_button.isEnabled():
            return
        self.input.clear()
        self._append("You", text, "user")
        self.set_ready(False, "Generating…")
        self.prompt_submitted.emit(text, self.options())

    def show_answer(self, answer: str) -> None:
        self._append("Model", answer or "(empty answer)", "model")
        self.set_ready(True)

    def show_error(self, message: str) -> None:
        self._append("Error", message, "error")
        self.set_ready(True)

    def _append(self, who: str, text: str, css: str) -> None:
        self.transcript.append(f'<p class="{css}"><b>{who}:</b> {html.escape(text)}</p>')
