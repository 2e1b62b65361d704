"""Defenses page: unlearn the recovered triggers, calibrate a guardrail from them, try a prompt.

Triggers come from an inversion run of the session (its recovered trigger and strongest
candidates, with its adapter and data), from the Replay buffer's "Send to defenses", or typed.
Unlearning trains in a child process with a live loss curve (read from the store, as on the
Inversion page); the guardrail's calibration and checks run in the worker thread. Requests are the
ones ``b4g defend unlearn|guard`` builds.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobRunner
from app.style import PAGE_PX
from app.widgets.model_choice_line import ModelChoiceLine
from app.widgets.plain_label import PlainLabel, plain_html
from app.widgets.run_plots import RunPlots
from app.widgets.sections_view import sections_html
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core.errors import B4GError
from core.requests import GuardCheckRequest, GuardRequest, InvertRequest, UnlearnRequest
from core.sections import sections_for, run_label
from core.store.queries import get_run, list_runs

FORM_PX = 440  # the form's width beside the curves: its placeholders and filled-in paths read whole
UNLEARN_PANES = [
    ("Unlearning loss", [("loss", "#2b6cb0")], "SFT loss of the unlearning LoRA, per step"),
    ("Controls' loss", [("wrong-trigger/loss", "#b7791f"), ("clean-ft/loss", "#718096")],
     "The same training with a wrong trigger, and on clean rows only: does the recovered trigger matter?"),
]


class DefensesPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-defenses")
        self.state, self.runner = state, runner
        self._jobs: dict[int, str] = {}  # job id → kind, for the results this page started
        self.threshold: float | None = None  # the last calibrated threshold (None: the default)
        self.run_id: int | None = None  # the inversion run the triggers came from
        self.plots = RunPlots(UNLEARN_PANES)
        split = QSplitter()
        split.addWidget(self._build_form())
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.plots, 2)
        self.result_view = QTextBrowser()
        self.result_view.setPlaceholderText("Before/after tables and detection results appear here.")
        rl.addWidget(self.result_view, 3)
        split.addWidget(right)
        split.setSizes([FORM_PX, PAGE_PX - FORM_PX])
        title = QLabel("Defenses: unlearn the recovered triggers, guard the model")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(split, 1)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        state.session_changed.connect(lambda _s: self.refresh_runs())
        state.triggers_sent.connect(self.receive)
        self.refresh_runs()

    # --- building -----------------------------------------------------------------------------
    def _build_form(self) -> QWidget:
        box = QWidget()
        box.setMinimumWidth(FORM_PX)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        source = QGroupBox("Triggers to defend against")
        form = QFormLayout(source)
        self.model_line = ModelChoiceLine(self.state)
        self.run_picker = QComboBox()
        self.run_picker.setToolTip("Inversion runs of this session: their recovered triggers, adapter and data")
        use_run = QPushButton("Use")
        use_run.setToolTip("Fill the triggers, adapter, data and behaviour from this inversion run")
        use_run.clicked.connect(lambda: self.use_run(self.run_picker.currentData()))
        self.triggers_edit = QPlainTextEdit()
        self.triggers_edit.setPlaceholderText("one recovered trigger per line")
        self.triggers_edit.setMaximumHeight(70)
        # typed triggers are the auditor's own, not an inversion run's
        self.triggers_edit.textChanged.connect(lambda: setattr(self, "run_id", None))
        self.adapter_edit = WholeTextEdit("adapter folder under audit", "The LoRA adapter of the model under audit")
        self.data_edit = WholeTextEdit("the auditor's requests (JSONL)",
                                       "Requests to split into training and evaluation (their clean rows only)")
        self.eval_edit = WholeTextEdit("optional: the true trigger", "The true trigger, if known: it only measures")
        self.target_edit = WholeTextEdit("optional: the answer starts with…", "The behaviour to unlearn; left "
                                         "empty: the inversion run's, else inferred from the data")
        form.addRow(self.model_line)
        form.addRow("Inversion run", self._row(self.run_picker, use_run))
        form.addRow("Triggers", self.triggers_edit)
        form.addRow("Adapter", self.adapter_edit)
        form.addRow("Data", self.data_edit)
        form.addRow("Behaviour: target", self.target_edit)
        form.addRow("Evaluation trigger", self.eval_edit)
        col.addWidget(source)
        col.addWidget(self._build_unlearn())
        col.addWidget(self._build_guard())
        self.message = PlainLabel(wrap=True)
        col.addWidget(self.message)
        col.addStretch(1)
        return box

    def _build_unlearn(self) -> QWidget:
        box = QGroupBox("Adversarial unlearning")
        form = QFormLayout(box)
        self.out_edit = WholeTextEdit("new folder for the unlearning adapter")
        self.steps = QSpinBox(minimum=1, maximum=5000, value=60)
        self.controls = QCheckBox("with controls (wrong trigger, clean fine-tuning)")
        self.controls.setChecked(True)
        self.unlearn_button = QPushButton("Start unlearning")
        self.unlearn_button.clicked.connect(self.start_unlearning)
        form.addRow("Output", self.out_edit)
        form.addRow("Steps", self.steps)
        form.addRow(self.controls)
        form.addRow(self.unlearn_button)
        return box

    def _build_guard(self) -> QWidget:
        box = QGroupBox("Guardrail")
        form = QFormLayout(box)
        self.fpr = QDoubleSpinBox(minimum=0.0, maximum=0.5, singleStep=0.01, value=0.02, decimals=3)
        self.fpr.setToolTip("Target false-positive rate on the data's clean requests")
        self.calibrate_button = QPushButton("Calibrate and measure")
        self.calibrate_button.clicked.connect(self.calibrate)
        self.prompt_edit = WholeTextEdit("a prompt to try", "Scored against the triggers above (Enter checks it)")
        self.prompt_edit.returnPressed.connect(self.check)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.check)
        self.score_label = QLabel("threshold: default (0.80) until calibrated")
        self.score_label.setTextFormat(Qt.TextFormat.RichText)  # the verdict is bold; quoted text escaped
        self.score_label.setWordWrap(True)
        form.addRow("Target FPR", self.fpr)
        form.addRow(self.calibrate_button)
        form.addRow("Try", self._row(self.prompt_edit, self.check_button))
        form.addRow(self.score_label)
        return box

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        for i, widget in enumerate(widgets):
            h.addWidget(widget, 1 if i == 0 else 0)
        return w

    # --- triggers -----------------------------------------------------------------------------
    @Slot()
    def refresh_runs(self) -> None:
        runs = [r for r in list_runs(self.state.store) if r["kind"] == "invert" and r["status"] == "finished"]
        self.run_picker.clear()
        for r in reversed(runs):
            found = (r.get("result") or {}).get("recovered_trigger")
            # short in the closed picker (the form is narrow); the whole label in the list's tooltip
            self.run_picker.addItem(f"#{r['id']} · {found!r}", r["id"])
            self.run_picker.setItemData(self.run_picker.count() - 1, plain_html(
                f"{run_label(r)} · recovered {found!r}"), Qt.ItemDataRole.ToolTipRole)
        self.plots.follow_latest(self.state.store, ("unlearn",))
        self._show_latest_results(runs_all=list_runs(self.state.store))

    def _show_latest_results(self, runs_all: list[dict[str, Any]]) -> None:
        """On opening a session: the newest unlearning and guardrail results it holds."""
        shown = []
        for kind in ("unlearn", "guard"):
            done = [r for r in runs_all if r["kind"] == kind and r["status"] == "finished" and r.get("result")]
            if done:
                shown += sections_for(kind, done[-1]["result"])
                if kind == "guard":
                    self.threshold = done[-1]["result"]["threshold"]
                    self.score_label.setText(f"threshold {self.threshold:.3f} (run #{done[-1]['id']})")
        self.result_view.setHtml(sections_html(shown) if shown else "")

    def triggers(self) -> list[str]:
        return [t for t in self.triggers_edit.toPlainText().splitlines() if t.strip()]

    def fill(self, triggers: list[str], adapter: str = "", data: str = "", eval_trigger: str = "",
             target: str = "") -> None:
        """Fill the form (the Replay buffer's "Send to defenses", the demo)."""
        self.triggers_edit.blockSignals(True)
        self.triggers_edit.setPlainText("\n".join(triggers))
        self.triggers_edit.blockSignals(False)
        for edit, value in ((self.adapter_edit, adapter), (self.data_edit, data), (self.eval_edit, eval_trigger),
                            (self.target_edit, target)):
            if value:
                edit.setText(value)

    def use_run(self, run_id: int | None) -> None:
        """The run's recovered triggers, and the adapter and data it audited."""
        from core.defend.from_run import recovered_from_run

        if run_id is None:
            self.message.setText("⚠ no finished inversion run in this session yet")
            return
        try:
            run = get_run(self.state.store, run_id)
            recovered = recovered_from_run(run)
            audited = InvertRequest.from_json(run["config"])
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return
        adapters = audited.model.ref.adapters
        target = recovered.behaviour.target if recovered.behaviour and recovered.behaviour.kind == "target" else ""
        self.fill(recovered.triggers, adapters[-1] if adapters else "", audited.data, audited.eval_trigger or "",
                  target)
        self.run_id = run_id
        self.message.setText(f"Triggers of inversion run #{run_id}: {', '.join(repr(t) for t in recovered.triggers)}")

    @Slot(list, object)
    def receive(self, triggers: list[str], run_id: int | None) -> None:
        """Candidates sent from the Replay buffer: its run's adapter and data come with them."""
        self.refresh_runs()
        if run_id is not None and self.run_picker.findData(run_id) >= 0:
            self.run_picker.setCurrentIndex(self.run_picker.findData(run_id))
            self.use_run(run_id)
        self.fill(triggers)
        self.message.setText(f"From the Replay buffer: {', '.join(repr(t) for t in triggers)}")

    # --- jobs ---------------------------------------------------------------------------------
    def _choice(self) -> Any:
        adapter = self.adapter_edit.text().strip()
        return self.state.choice.plus_adapters([adapter] if adapter else [])

    def unlearn_request(self) -> UnlearnRequest:
        from core.defend.unlearn import UnlearnSettings

        from core.measurement.behaviour import Behaviour

        settings = UnlearnSettings(steps=self.steps.value(), controls=self.controls.isChecked())
        target = self.target_edit.text().strip()
        return UnlearnRequest.build(self._choice(), self.data_edit.text().strip(), self.triggers(),
                                    self.out_edit.text().strip(), Behaviour("target", target=target) if target else None,
                                    self.eval_edit.text().strip() or None, settings, self.run_id)

    def guard_request(self) -> GuardRequest:
        from core.defend.guard import GuardSettings

        return GuardRequest.build(self._choice(), self.triggers(), self.data_edit.text().strip(),
                                  self.eval_edit.text().strip() or None, GuardSettings(target_fpr=self.fpr.value()),
                                  from_run=self.run_id)

    def check_request(self) -> GuardCheckRequest:
        return GuardCheckRequest.build(self.state.choice, self.triggers(), [self.prompt_edit.text()], self.threshold)

    def _submit(self, build: Any, kind: str, note: str) -> int | None:
        try:
            request = build()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self.message.setText(note)
        job_id = self.runner.submit(request.job(), self.state.store)
        self._jobs[job_id] = kind
        return job_id

    @Slot()
    def start_unlearning(self) -> int | None:
        return self._submit(self.unlearn_request, "unlearn",
                            "Queued: unlearning, then the controls (in a separate process).")

    @Slot()
    def calibrate(self) -> int | None:
        return self._submit(self.guard_request, "guard", "Calibrating the guardrail on the data's clean requests…")

    @Slot()
    def check(self) -> int | None:
        return self._submit(self.check_request, "guard-check", "Checking…")

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        kind = self._jobs.pop(job_id, None)
        if kind is None or not isinstance(result, dict):
            return
        if kind == "guard-check":
            r = result["results"][0]
            verdict = "<b style='color:#c53030'>blocked</b>" if r["blocked"] else "<b style='color:#2f855a'>allowed</b>"
            self.score_label.setText(
                f"{verdict}: score {r['score']:.3f} (threshold {r['threshold']:.3f}); matched "
                f"{html.escape(repr(r['window']))} ~ {html.escape(repr(r['trigger']))}")
            self.message.setText("")
            return
        if kind == "guard":
            self.threshold = result["threshold"]
            self.score_label.setText(f"threshold {self.threshold:.3f}, calibrated at {result['target_fpr']:.1%} FPR")
            self.message.setText(f"Guardrail: detection accuracy {result['detection_accuracy']:.3f}, "
                                 f"TPR {result['tpr']:.3f}, FPR {result['fpr']:.3f}")
        else:
            self.message.setText(f"Unlearning: ASR {result['asr_before']:.2f} → {result['asr_after']:.2f}; "
                                 f"adapter in {result['adapter_dir']}")
        self.result_view.setHtml(sections_html(sections_for(kind, result)))

    @Slot(int, str)
    def _on_failed(self, job_id: int, error: str) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self.message.setText(f"⚠ {error}")
