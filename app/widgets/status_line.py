"""Status bar text: session, model, device and the process's memory, refreshed every 2 s. One line,
elided: a long model path or session name widened the whole window."""

from __future__ import annotations

import psutil
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QWidget

from app.widgets.elided_label import ElidedLabel
from app.workbench_state import WorkbenchState
from core.units import human_bytes


class StatusLine(ElidedLabel):  # plain text: the session's name is the user's
    def __init__(self, state: WorkbenchState, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.state = state
        self._process = psutil.Process()
        self._timer = QTimer(self, interval=2000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        state.model_loaded.connect(lambda _m: self.refresh())
        state.session_changed.connect(lambda _s: self.refresh())
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        model = self.state.model
        parts = [f"Session: {self.state.store.info()['name']}"]
        if model is not None:
            parts += [f"Model: {model.ref.describe()}", f"Device: {model.device}",
                      f"Weights: {human_bytes(model.footprint_bytes)}"]
        else:
            parts.append("No model loaded")
        parts.append(f"Process memory: {human_bytes(self._process.memory_info().rss)}")
        self.setText("   ·   ".join(parts))
