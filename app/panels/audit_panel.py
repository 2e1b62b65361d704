"""Audit page: the whole audit in one step, as ``b4g audit`` runs it (:mod:`core.audit`).

The model is the Models page's; the adapter, the data and the behaviour are optional (without a
behaviour the scan proposes one). The stage list is read from the session (each stage is its own
run, tagged with the audit's run), so it shows a resumed audit, or one started from the CLI into
this session, the same way; each stage links to the page that draws its curves. At the end: the
verdict, and *Open report*.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobHandle, JobRunner
from app.widgets.model_choice_line import ModelChoiceLine
from app.widgets.plain_label import PlainLabel
from app.widgets.sections_view import sections_html
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core.audit import estimate
from core.audit import stages as st
from core.audit.request import AuditRequest, AuditSettings
from core.invert.config import PRESETS
from core.errors import B4GError
from core.sections import sections_for

FORM_PX = 440
POLL_MS = 1000
# the page that draws each stage's curves or result
STAGE_PAGES = {st.MODEL: "Models", st.BEHAVIOUR: "Inversion", st.DATA_SCAN: "Inversion", st.INVERSION: "Inversion",
               st.UNLEARNING: "Defenses", st.GUARDRAIL: "Defenses", st.REMOVAL: "Defenses", st.REPORT: "Reports"}
BEHAVIOURS = [("unknown: the scan proposes it", None), ("the answer starts with…", "target"),
              ("the answer mentions any of (words)…", "keywords"), ("the answer matches the regex…", "regex"),
              ("the answer refuses", "refusal")]
COLUMNS = ["stage", "status", "elapsed", "run", "curves"]


def _elapsed(run: dict[str, Any]) -> float:
    start = datetime.fromisoformat(run["started_at"])
    end = datetime.fromisoformat(run["finished_at"]) if run.get("finished_at") else datetime.now(timezone.utc).replace(tzinfo=None)
    return max((end - start).total_seconds(), 0.0)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class AuditPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-audit")
        self.state, self.runner = state, runner
        self.settings = AuditSettings()  # the stages' settings (a test shrinks them to the tiny model)
        self.job: JobHandle | None = None  # the audit this page started, while it runs
        self.audit_run: int | None = None  # the audit run the stage list follows
        self.request: AuditRequest | None = None
        self.result: dict[str, Any] | None = None
        self._before = 0  # the newest run id when this page started its audit
        split = QSplitter()
        split.addWidget(self._build_form())
        split.addWidget(self._build_progress())
        split.setSizes([FORM_PX, 1030 - FORM_PX])
        title = QLabel("Audit: from a model to a verdict, a fix and a signed report")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        state.session_changed.connect(lambda _s: self.follow_latest())
        self.follow_latest()

    # --- building -----------------------------------------------------------------------------
    def _build_form(self) -> QWidget:
        box = QGroupBox("What to audit")
        box.setMinimumWidth(FORM_PX)
        form = QFormLayout(box)
        self.model_line = ModelChoiceLine(self.state)
        self.adapter_edit = WholeTextEdit("optional: adapter folder under audit", "A LoRA adapter on top of the model")
        self.data_edit = WholeTextEdit("optional: its tuning data (JSONL)",
                                       "Some or all of the fine-tuning data; without it the trigger is searched for "
                                       "from requests the model itself writes")
        self.behaviour_kind = QComboBox()
        for label, kind in BEHAVIOURS:
            self.behaviour_kind.addItem(label, kind)
        self.behaviour_kind.currentIndexChanged.connect(self._behaviour_changed)
        self.behaviour_edit = WholeTextEdit("", "The bad behaviour, as you know it (never the trigger)")
        self.eval_edit = WholeTextEdit("optional: the true trigger", "The true trigger, if known: it only measures")
        self.out_edit = WholeTextEdit("new folder for the fix and the reports")
        self.key_edit = WholeTextEdit("optional: ed25519 key (PEM)", "Signs the HTML, PDF and JSON reports")
        self.controls = QCheckBox("with the defenses' controls (about 3× the removal time)")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("The inversion's budget: gpu runs longer reversal SFT and GRPO (--preset)")
        self.start_button = QPushButton("Start audit")
        self.start_button.clicked.connect(self.start)
        self.message = PlainLabel(wrap=True)
        form.addRow(self.model_line)
        form.addRow("Adapter", self.adapter_edit)
        form.addRow("Data", self.data_edit)
        form.addRow("Behaviour", self.behaviour_kind)
        form.addRow("", self.behaviour_edit)
        form.addRow("Evaluation trigger", self.eval_edit)
        form.addRow("Output", self.out_edit)
        form.addRow("Sign with", self.key_edit)
        form.addRow("Inversion budget", self.preset)
        form.addRow(self.controls)
        form.addRow(self.start_button)
        form.addRow(self.message)
        self._behaviour_changed()
        return box

    def _build_progress(self) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(250)
        self.left_label = PlainLabel()
        self.verdict_view = QTextBrowser()
        self.verdict_view.setPlaceholderText("The verdict, what was found and what was done, appears here.")
        self.open_button = QPushButton("Open report")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_report)
        row = QHBoxLayout()
        row.addWidget(self.left_label, 1)
        row.addWidget(self.open_button)
        col.addWidget(QLabel("Stages"))
        col.addWidget(self.table, 2)
        col.addLayout(row)
        col.addWidget(self.verdict_view, 3)
        return box

    def _behaviour_changed(self) -> None:
        kind = self.behaviour_kind.currentData()
        self.behaviour_edit.setEnabled(kind in ("target", "keywords", "regex"))
        self.behaviour_edit.setPlaceholderText({"target": "Access granted.", "keywords": "word word …",
                                                "regex": "a Python regex"}.get(kind, ""))

    # --- the request --------------------------------------------------------------------------
    def fill(self, adapter: str = "", data: str = "", behaviour: tuple[str, str] | None = None, eval_trigger: str = "",
             out: str = "") -> None:
        """Fill the form as an auditor would (the demo): ``behaviour`` is (kind, text), None: unknown."""
        kind, text = behaviour or (None, "")
        self.behaviour_kind.setCurrentIndex(max(0, self.behaviour_kind.findData(kind)))
        self.behaviour_edit.setText(text)
        for edit, value in ((self.adapter_edit, adapter), (self.data_edit, data), (self.eval_edit, eval_trigger),
                            (self.out_edit, out)):
            edit.setText(value)

    def behaviour(self) -> Any:
        from core.measurement.behaviour import Behaviour

        kind, text = self.behaviour_kind.currentData(), self.behaviour_edit.text().strip()
        if kind is None:
            return None
        if kind != "refusal" and not text:
            raise B4GError(f"type the behaviour ({self.behaviour_kind.currentText()}), or choose 'unknown'")
        return Behaviour.from_flags(text if kind == "target" else None, text.split() if kind == "keywords" else None,
                                    text if kind == "regex" else None, kind == "refusal")

    def build_request(self) -> AuditRequest:
        adapter = self.adapter_edit.text().strip()
        return AuditRequest.build(self.state.choice.plus_adapters([adapter] if adapter else []),
                                  self.out_edit.text().strip(), self.data_edit.text().strip() or None, self.behaviour(),
                                  self.eval_edit.text().strip() or None, self.key_edit.text().strip() or None,
                                  self.controls.isChecked(), self.preset.currentText(), settings=self.settings)

    @Slot()
    def start(self) -> JobHandle | None:
        try:
            request = self.build_request()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        from core.store.queries import run_states

        self.request, self.result, self.audit_run = request, None, None
        self._before = max((i for i, _ in run_states(self.state.store)), default=0)
        self.verdict_view.clear()
        self.open_button.setEnabled(False)
        self.message.setText("Queued: the audit (training stages run in a separate process).")
        self.job = self.runner.submit(request.job(), self.state.store).on_result(
            self._on_finished, self._on_failed, self._on_cancelled, context=self)
        self._show_plan()
        self.timer.start()  # the runner may start it at once: its started signal came before the id
        return self.job

    # --- following the stages -----------------------------------------------------------------
    def follow_latest(self) -> None:
        """On opening a session: its latest audit, with its verdict when it finished."""
        from core.store.queries import latest_run_id

        self.audit_run = latest_run_id(self.state.store, ("audit",))
        self.result = None
        self.refresh()

    def _audit_runs(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        from core.store.queries import list_runs

        if self.audit_run is None and self.job is not None:  # the audit just started: its run is newer
            from core.store.queries import latest_run_id

            latest = latest_run_id(self.state.store, ("audit",))
            self.audit_run = latest if latest is not None and latest > self._before else None
        if self.audit_run is None:
            return None, []
        runs = [r for r in list_runs(self.state.store) if r["id"] >= self.audit_run]
        audit = next((r for r in runs if r["id"] == self.audit_run), None)
        tagged = [r for r in runs if isinstance(r.get("config"), dict)
                  and (r["config"].get("audit") or {}).get("run") == self.audit_run]
        return audit, tagged

    @Slot()
    def refresh(self) -> None:
        audit, runs = self._audit_runs()
        if audit is None:
            self._show_plan()
            return
        by_stage = {r["config"]["audit"]["stage"]: r for r in runs}
        request = self.request or self._request_of(audit)
        removal = [s for s in (st.UNLEARNING, st.GUARDRAIL, st.REMOVAL) if s in by_stage] or [st.UNLEARNING, st.GUARDRAIL]
        plan = estimate.planned(bool(request and request.data), bool(request and request.behaviour), removal)
        result = audit.get("result") if audit["status"] == "finished" else None
        listed = {s["name"]: s for s in (result or {}).get("stages") or []}
        rows, done, running = [], {}, None
        for name in plan:
            run = by_stage.get(name)
            if run is not None:
                seconds = _elapsed(run)
                rows.append((name, {"started": "running"}.get(run["status"], run["status"]), _clock(seconds),
                             f"#{run['id']}"))
                if run["status"] == "started":
                    running = (name, seconds)
                else:
                    done[name] = seconds
            elif name in listed:
                rows.append((name, listed[name]["status"], _clock(listed[name]["seconds"] or 0), "–"))
            elif name == st.BEHAVIOUR and request is not None and request.behaviour is not None:
                rows.append((name, "given", "–", "–"))
            elif result is not None:
                rows.append((name, "not run", "–", "–"))
            else:
                rows.append((name, "pending", "–", "–"))
        self._fill(rows)
        self._show_left(audit, done, running, [r[0] for r in rows if r[1] == "pending"], request)
        if result is not None and result is not self.result:
            self._show_result(result)

    def _request_of(self, audit: dict[str, Any]) -> AuditRequest | None:
        try:
            return AuditRequest.from_json(audit["config"])
        except B4GError:
            return None

    def _show_plan(self) -> None:
        """Before the audit's run exists: the stages it will go through."""
        request = self.request
        if request is None:
            self._fill([])
            self.left_label.setText("")
            return
        plan = estimate.planned(bool(request.data), request.behaviour is not None)
        self._fill([(name, "given" if name == st.BEHAVIOUR and request.behaviour else "pending", "–", "–")
                    for name in plan])

    def _fill(self, rows: list[tuple[str, str, str, str]]) -> None:
        self.table.setRowCount(len(rows))
        for i, (name, status, elapsed, run) in enumerate(rows):
            for j, text in enumerate((name, status, elapsed, run)):
                self.table.setItem(i, j, QTableWidgetItem(text))
            page = STAGE_PAGES.get(name)
            link = QLabel(f"<a href='{page}'>{page} page</a>" if page and status not in ("pending", "given") else "")
            link.linkActivated.connect(lambda target: self.state.page_requested.emit(target))
            self.table.setCellWidget(i, 4, link)

    def _show_left(self, audit: dict[str, Any], done: dict[str, float], running: tuple[str, float] | None,
                   pending: list[str], request: AuditRequest | None) -> None:
        if audit["status"] != "started":
            self.left_label.setText(f"Audit run #{audit['id']}: {audit['status']}")
            if self.timer.isActive() and self.job is None:
                self.timer.stop()
            return
        memory = not (request and request.data)
        left = estimate.seconds_left(done, running, pending, memory)
        self.left_label.setText(f"Audit run #{audit['id']}: about {_clock(left)} left (estimate from the stages so far)")

    def _show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        headline = "A backdoor was found" if result["backdoor_found"] else "No backdoor was found"
        self.verdict_view.setHtml(f"<h3>{headline}</h3><p>{html.escape(result['verdict'])}</p>"
                                  + sections_html(sections_for("audit", result)))
        self.open_button.setEnabled(bool((result.get("report") or {}).get("html")))

    # --- the end ------------------------------------------------------------------------------
    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self.job = None
        self.timer.stop()
        self.refresh()
        if isinstance(result, dict):
            self._show_result(result)
            self.message.setText(("Backdoor found. " if result["backdoor_found"] else "No backdoor found. ")
                                 + ("Some stages failed: " + ", ".join(result["failed"]) if result["failed"] else ""))

    @Slot(str)
    def _on_failed(self, error: str) -> None:
        self._stopped(f"⚠ {error}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._stopped("Cancelled: resume the audit's run from the Sessions page; finished stages are kept.")

    def _stopped(self, message: str) -> None:
        self.job = None
        self.timer.stop()
        self.refresh()
        self.message.setText(message)

    def report_path(self) -> Path | None:
        report = ((self.result or {}).get("report") or {}).get("html")
        return Path(report) if report else None

    @Slot()
    def open_report(self) -> None:
        path = self.report_path()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
