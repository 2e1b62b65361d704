"""The strip at the bottom of the window: running job and its step, its latest message, queue, Cancel."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from app.job_runner import JobRunner
from app.widgets.elided_label import ElidedLabel
from app.widgets.plain_label import PlainLabel


class JobBar(QWidget):
    """The label says which job runs and how far it is; the job's log lines (a stage starting, a
    data warning) go beside it, so a warning never hides the step count."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._kind = ""
        self._cancelling = False  # "Cancelling…" stays until the job stops, whatever step it reports
        self.label = PlainLabel("Idle")
        self.label.setObjectName("jobLabel")
        self.detail = ElidedLabel()
        self.detail.setObjectName("jobDetail")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.queue_label = PlainLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut("Esc")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.label)
        layout.addWidget(self.detail, 1)
        for w in (self.bar, self.queue_label, self.cancel_button):
            layout.addWidget(w)
        runner.started.connect(self._on_started)
        runner.progress.connect(self._on_progress)
        runner.log.connect(lambda _i, msg: self.detail.setText(msg))
        runner.queue_changed.connect(self._refresh)
        self._refresh()

    @Slot(int, str)
    def _on_started(self, _job_id: int, kind: str) -> None:
        self._kind, self._cancelling = kind, False
        self.label.setText(f"Running {kind}…")
        self.detail.setText("")
        self.bar.setRange(0, 0)

    @Slot(int, int, int)
    def _on_progress(self, _job_id: int, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            if not self._cancelling:
                self.label.setText(f"Running {self._kind}: step {done} of {total}")

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
            self.detail.setText("")
            self.bar.setRange(0, 1)
            self.bar.setValue(0)

    @Slot()
    def _cancel(self) -> None:
        current = self.runner.current()
        if current:
            self.runner.cancel(current.id)
            self._cancelling = True
            self.label.setText(f"Cancelling {current.job.kind}…")
