"""The strip at the bottom of the window: running job, progress, queue, Cancel."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.job_runner import JobRunner


class JobBar(QWidget):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.label = QLabel("Idle")
        self.label.setObjectName("jobLabel")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.queue_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut("Esc")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.label, self.bar, self.queue_label, self.cancel_button):
            layout.addWidget(w)
        layout.insertStretch(1, 1)
        runner.started.connect(self._on_started)
        runner.progress.connect(self._on_progress)
        runner.log.connect(lambda _i, msg: self.label.setText(msg))
        runner.queue_changed.connect(self._refresh)
        self._refresh()

    @Slot(int, str)
    def _on_started(self, _job_id: int, kind: str) -> None:
        self.label.setText(f"Running: {kind}…")
        self.bar.setRange(0, 0)

    @Slot(int, int, int)
    def _on_progress(self, _job_id: int, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    @Slot()
    def _refresh(self) -> None:
        current = self.runner.current()
        queued = len(self.runner.queued())
        self.queue_label.setText(f"{queued} queued" if queued else "")
        self.bar.setVisible(current is not None)
        self.cancel_button.setEnabled(bool(current and current.cancellable))
        self.cancel_button.setToolTip(current.reason if current and not current.cancellable
                                      else "Stop the running job at its next safe point (Esc)")
        if current is None:
            self.label.setText("Idle")
            self.bar.setRange(0, 1)
            self.bar.setValue(0)

    @Slot()
    def _cancel(self) -> None:
        current = self.runner.current()
        if current:
            self.runner.cancel(current.id)
            self.label.setText(f"Cancelling {current.job.kind}…")
