"""Replay-buffer page: every candidate an inversion scored, from the store; sort, filter, copy,
and try one on held-out prompts with and without it."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobHandle, JobRunner
from app.widgets.candidate_model import CandidateTableModel
from app.workbench_state import WorkbenchState
from core.errors import B4GError
from core.requests import InvertRequest, TryCandidateRequest
from core.sections import run_label
from core.store.queries import list_runs

CANDIDATE_COLUMN_PX = 320


class BufferPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-replay-buffer")
        self.state, self.runner = state, runner
        self._runs: dict[int, dict[str, Any]] = {}
        self.model = CandidateTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the candidate is what the auditor reads: it keeps a readable width (the numbers scroll)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, CANDIDATE_COLUMN_PX)
        self.table.verticalHeader().setVisible(False)
        self.run_picker = QComboBox()
        self.run_picker.currentIndexChanged.connect(self._show_selected)
        self.filter = QLineEdit(placeholderText="Filter candidates containing…")
        self._filter_timer = QTimer(self, singleShot=True, interval=250)
        self._filter_timer.timeout.connect(lambda: self.model.set_filter(self.filter.text()))
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.count = QLabel("")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected candidates (Ctrl+C)")
        self.copy_button.clicked.connect(self.copy_selected)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, activated=self.copy_selected)
        self.try_button = QPushButton("Test this candidate")
        self.try_button.setToolTip("Answers of the model under audit to held-out prompts with and without it")
        self.try_button.clicked.connect(self.try_selected)
        self.send_button = QPushButton("Send to defenses")
        self.send_button.setToolTip("Unlearn or guard against the selected candidates (the Defenses page)")
        self.send_button.clicked.connect(self.send_selected)
        self.answers = QTextBrowser()
        self.answers.setPlaceholderText("Select a candidate and press “Test this candidate”.")
        self.model.modelReset.connect(self._update_count)
        self._build_layout()
        state.session_changed.connect(lambda _s: self.refresh_runs())
        self.refresh_runs()

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_picker, 1)
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.try_button)
        buttons.addWidget(self.send_button)
        buttons.addStretch(1)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addLayout(top)
        ul.addWidget(self.table, 1)
        ul.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.answers)
        split.setSizes([480, 220])
        title = QLabel("Replay buffer: every candidate trigger scored")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(split, 1)

    # --- runs ---------------------------------------------------------------------------------
    @Slot()
    def refresh_runs(self) -> None:
        self._runs = {r["id"]: r for r in list_runs(self.state.store) if r["kind"] == "invert"}
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for run_id in sorted(self._runs, reverse=True):
            r = self._runs[run_id]
            self.run_picker.addItem(run_label(r), run_id)
        self.run_picker.blockSignals(False)
        self._show_selected()

    @Slot()
    def _show_selected(self) -> None:
        self.model.show_run(self.state.store, self.run_picker.currentData())

    def _update_count(self) -> None:
        self.count.setText(f"{self.model.total} candidates")

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override: new runs may have landed
        self.refresh_runs()
        super().showEvent(event)

    # --- actions ------------------------------------------------------------------------------
    def selected_texts(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.text_at(r) for r in rows]

    @Slot()
    def copy_selected(self) -> None:
        texts = self.selected_texts()
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))

    def test_candidate(self, text: str) -> JobHandle | None:
        """Show the newest inversion run, select ``text`` among its candidates and test it; the
        job's handle (None: not a candidate of that run)."""
        self.refresh_runs()
        self.filter.setText(text)
        self.model.set_filter(text)
        for row in range(self.model.rowCount()):
            if self.model.text_at(row) == text:
                self.table.selectRow(row)
                return self.try_selected()
        return None

    @Slot()
    def try_selected(self) -> JobHandle | None:
        """Test the selected candidate with the model under audit; the job's handle (None: nothing to test)."""
        texts = self.selected_texts()
        run = self._runs.get(self.run_picker.currentData())
        if not texts or not run:
            self.answers.setPlainText("Select a candidate of an inversion run first.")
            return None
        first = min(i.row() for i in self.table.selectionModel().selectedRows())
        position = self.model.position_at(first)
        try:  # the inversion run's own model and data: the model under audit, not today's choice
            audited = InvertRequest.from_json(run["config"])
        except B4GError as exc:
            self.answers.setPlainText(f"⚠ {exc}")
            return None
        request = TryCandidateRequest(audited.model, audited.data, audited.behaviour, texts[0], position)
        self.answers.setPlainText(f"Testing {texts[0]!r} ({position}) on held-out prompts…")
        return self.runner.submit(request.job(), self.state.store).on_result(
            lambda result: self.answers.setHtml(answers_html(result)),
            lambda error: self.answers.setPlainText(f"⚠ {error}"), context=self)

    @Slot()
    def send_selected(self) -> bool:
        """Hand the selected candidates (with their run: adapter and data) to the Defenses page."""
        texts = self.selected_texts()
        if not texts:
            self.answers.setPlainText("Select the candidates to defend against first.")
            return False
        self.state.triggers_sent.emit(texts, self.run_picker.currentData())
        self.state.page_requested.emit("Defenses")
        return True


def answers_html(result: dict[str, Any]) -> str:
    """Side-by-side answers, the behaviour highlighted where it shows."""
    def cell(text: str, shows: bool) -> str:
        style = "background:#fde2e1;font-weight:bold" if shows else ""
        return f"<td style='{style}'>{html.escape(text)}</td>"

    head = (f"<p><b>{html.escape(result['candidate'])}</b>: behaviour in {result['with_rate']:.0%} of answers with it, "
            f"{result['without_rate']:.0%} without.</p>")
    rows = "".join(f"<tr><td>{html.escape(it['prompt'])}</td>{cell(it['with'], it['with_shows'])}"
                   f"{cell(it['without'], it['without_shows'])}</tr>" for it in result["items"])
    return (head + "<table border='1' cellspacing='0' cellpadding='4' width='100%'><tr><th>prompt</th>"
            "<th>with the candidate</th><th>without</th></tr>" + rows + "</table>")
