"""Sessions page: the open audit session, its runs (read from the store), new / open / save as."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workbench_state import WorkbenchState
from core.store.queries import list_runs

COLUMNS = ["Run", "Kind", "Status", "Points", "Started", "Finished", "Error"]


class SessionsPanel(QWidget):
    """Reads the store only (never a job's private state), so any window on the file agrees."""

    def __init__(self, state: WorkbenchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-sessions")
        self.state = state
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.new_button, self.open_button = QPushButton("New session…"), QPushButton("Open…")
        self.save_as_button = QPushButton("Save as…")
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.save_as_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.runs = QTableWidget(0, len(COLUMNS))
        self.runs.setHorizontalHeaderLabels(COLUMNS)
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.horizontalHeader().setStretchLastSection(True)
        self.runs.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Runs recorded in this session"))
        layout.addWidget(self.runs, 1)
        self._timer = QTimer(self, interval=2000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        state.session_changed.connect(lambda _s: self.refresh())
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if not self.isVisible() and self.runs.rowCount():
            return  # polling only matters while someone looks
        info = self.state.store.info()
        self.title.setText(f"Session: {info['name']}")
        self.details.setText(f"id {info['id']} · created {info['created_at'][:19]} · file {info['path']}")
        runs = list_runs(self.state.store)
        self.runs.setRowCount(len(runs))
        for row, run in enumerate(reversed(runs)):
            values = [run["id"], run["kind"], run["status"], run["metric_points"], run["started_at"][:19].replace("T", " "),
                      (run["finished_at"] or "")[:19].replace("T", " "), run["error"] or ""]
            for col, value in enumerate(values):
                self.runs.setItem(row, col, QTableWidgetItem(str(value)))
