"""Sessions page: the open audit session, its runs (read from the store), new / open / save as,
and Resume for a run that did not finish (it continues from its last training checkpoint)."""

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

from app.job_runner import JobRunner
from app.widgets.elided_label import ElidedLabel
from app.widgets.plain_label import PlainLabel
from app.workbench_state import WorkbenchState
from core.errors import B4GError
from core.run_kinds import RUN_REQUESTS, request_for_run
from core.store.queries import list_runs

COLUMNS = ["Run", "Kind", "Status", "Points", "Started", "Finished", "Error"]
RESUMABLE = ("interrupted", "cancelled", "failed")
RESUME_TIP = "Continue the selected run from its last checkpoint (training saves one every 10 steps)"


class SessionsPanel(QWidget):
    """Reads the store only (never a job's private state), so any window on the file agrees."""

    def __init__(self, state: WorkbenchState, runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-sessions")
        self.state, self.runner = state, runner
        self._runs: list[dict] = []
        self.title = ElidedLabel()  # one line however long the name: a long one widened the window
        self.title.setObjectName("panelTitle")
        self.details = ElidedLabel()  # the file's path can be long and has no spaces to wrap at
        self.new_button, self.open_button = QPushButton("New session…"), QPushButton("Open…")
        self.save_as_button = QPushButton("Save as…")
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.save_as_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.resume_button = QPushButton("Resume run")
        self.resume_button.setToolTip(RESUME_TIP)
        self.resume_button.setEnabled(False)
        self.resume_button.clicked.connect(self.resume_selected)
        buttons.addWidget(self.resume_button)
        self.message = PlainLabel(wrap=True)
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
        layout.addWidget(self.message)
        self.runs.itemSelectionChanged.connect(self._update_resume)
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
        selected = self.selected_run()
        self._runs = list(reversed(runs))
        self.runs.setRowCount(len(runs))
        for row, run in enumerate(self._runs):
            values = [run["id"], run["kind"], run["status"], run["metric_points"], run["started_at"][:19].replace("T", " "),
                      (run["finished_at"] or "")[:19].replace("T", " "), run["error"] or ""]
            for col, value in enumerate(values):
                self.runs.setItem(row, col, QTableWidgetItem(str(value)))
        if selected is not None:
            ids = [r["id"] for r in self._runs]
            if selected["id"] in ids:
                self.runs.selectRow(ids.index(selected["id"]))
        self._update_resume()

    def selected_run(self) -> dict | None:
        rows = self.runs.selectionModel().selectedRows() if self.runs.selectionModel() else []
        return self._runs[rows[0].row()] if rows and rows[0].row() < len(self._runs) else None

    def _update_resume(self) -> None:
        run = self.selected_run()
        ok = bool(run and self.runner and run["status"] in RESUMABLE and run["kind"] in RUN_REQUESTS
                  and RUN_REQUESTS[run["kind"]].TRAINS)
        self.resume_button.setEnabled(ok)

    @Slot()
    def resume_selected(self) -> None:
        """Queue the selected run's own request, recorded into the same run (see ``b4g resume``)."""
        run = self.selected_run()
        if run is None or self.runner is None:
            return
        try:
            request = request_for_run(run["kind"], run["config"])
        except B4GError as exc:
            self.message.setText(f"Cannot resume run {run['id']}: {exc}")
            return
        self.runner.submit(request.job(), self.state.store, resume=run["id"])
        self.message.setText(f"Run {run['id']} ({run['kind']}) is queued to resume from its last checkpoint; "
                             f"its curves continue on its page and in this list.")
