"""Defenses page: with the recovered triggers (unlearning, a calibrated guardrail, a prompt to
try), or without a trigger (the embedding-space removal, after BEEAR).

Triggers come from an inversion run of the session (its recovered trigger and strongest
candidates, with its adapter, data, behaviour and the position it worked at), from the Replay
buffer's "Send to defenses", or typed. Unlearning and the removal train in a child process with
live curves (read from the store, as on the Inversion page); the guardrail's calibration and
checks run in the worker thread. Requests are the ones ``b4g defend unlearn|guard|remove`` builds:
the same core helpers turn a run and the settings the user changed into them.
"""

from __future__ import annotations

import html
from typing import Any, Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobHandle, JobRunner
from app.style import PAGE_PX
from app.widgets.model_choice_line import ModelChoiceLine
from app.widgets.plain_label import PlainLabel, plain_html
from app.widgets.run_plots import RunPlots
from app.widgets.sections_view import sections_html
from app.widgets.settings_form import SettingsForm
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core.errors import B4GError
from core.defend.defense_settings import GuardSettings, RemoveSettings, UnlearnSettings
from core.defend.from_run import Recovered, defense_settings, guard_keywords, recovered_from
from core.measurement.behaviour import Behaviour
from core.requests import GuardCheckRequest, GuardRequest, InvertRequest, RemoveRequest, UnlearnRequest
from core.sections import sections_for, run_label
from core.store.queries import get_run, list_runs

FORM_PX = 440  # the form's width beside the curves: its placeholders and filled-in paths read whole
REMOVE_PANES = [
    ("Inner objective", [("remove/inner_objective", "#c53030"), ("remove/inner_objective_start", "#b7791f")],
     "How strongly the found hidden-state perturbation pulls the model toward the behaviour (away from its "
     "own clean answer), at the end and the start of each search: it falls as the removal takes hold"),
    ("Outer loss", [("remove/outer_loss", "#2b6cb0"), ("clean-ft/loss", "#718096")],
     "SFT loss of the removal LoRA (the model's own clean answers under the perturbation), and the "
     "clean fine-tuning control's"),
]
MODES = {"recovered": "with the recovered triggers", "trigger-free": "without a trigger"}
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
        self.threshold: float | None = None  # the last calibrated threshold (None: the default)
        self.run_id: int | None = None  # the inversion run the triggers came from
        self.plots = RunPlots(UNLEARN_PANES)
        self.remove_plots = RunPlots(REMOVE_PANES)
        self.curves = QStackedWidget()
        self.curves.addWidget(self.plots)
        self.curves.addWidget(self.remove_plots)
        split = QSplitter()
        scroll = QScrollArea()  # the form scrolls rather than make the window taller than a laptop screen
        scroll.setWidget(self._build_form())
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumWidth(FORM_PX + scroll.verticalScrollBar().sizeHint().width())  # the bar beside, not over
        split.addWidget(scroll)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.curves, 2)
        self.result_view = QTextBrowser()
        self.result_view.setPlaceholderText("Before/after tables and detection results appear here.")
        rl.addWidget(self.result_view, 3)
        split.addWidget(right)
        split.setSizes([scroll.minimumWidth(), PAGE_PX - scroll.minimumWidth()])
        title = QLabel("Defenses: unlearn and guard, or remove without a trigger")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(split, 1)
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
        self.triggers_edit.textChanged.connect(self._forget_run)
        self.adapter_edit = WholeTextEdit("adapter folder under audit", "The LoRA adapter of the model under audit")
        self.data_edit = WholeTextEdit("the auditor's requests (JSONL)",
                                       "Requests to split into training and evaluation (their clean rows only)")
        self.eval_edit = WholeTextEdit("optional: the true trigger", "The true trigger, if known: it only measures")
        self.target_edit = WholeTextEdit("optional: the answer starts with…", "The behaviour to remove; left "
                                         "empty: the inversion run's, else (unlearning) inferred from the data")
        self.out_edit = WholeTextEdit("new folder for the new adapter", "Where unlearning or the removal writes its adapter")
        form.addRow(self.model_line)
        form.addRow("Inversion run", self._row(self.run_picker, use_run))
        form.addRow("Triggers", self.triggers_edit)
        form.addRow("Adapter", self.adapter_edit)
        form.addRow("Data", self.data_edit)
        form.addRow("Behaviour: target", self.target_edit)
        form.addRow("Evaluation trigger", self.eval_edit)
        form.addRow("Output", self.out_edit)
        self.mode = QComboBox()
        for key, label in MODES.items():
            self.mode.addItem(label, key)
        self.mode.setToolTip("With the recovered triggers: unlearn them and guard against them. Without a "
                             "trigger: remove the behaviour by training against hidden-state perturbations that "
                             "switch it on (b4g defend remove), when no trigger that works was recovered")
        self.mode.currentIndexChanged.connect(self._mode_changed)
        form.addRow("Defend", self.mode)
        col.addWidget(source)
        self.with_triggers = QWidget()
        wl = QVBoxLayout(self.with_triggers)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.addWidget(self._build_unlearn())
        wl.addWidget(self._build_guard())
        self.modes = QStackedWidget()
        self.modes.addWidget(self.with_triggers)
        self.modes.addWidget(self._build_remove())
        col.addWidget(self.modes)
        self.message = PlainLabel(wrap=True)
        col.addWidget(self.message)
        col.addStretch(1)
        return box

    def _build_unlearn(self) -> QWidget:
        box = QGroupBox("Adversarial unlearning")
        form = QFormLayout(box)
        self.unlearn_form = SettingsForm(UnlearnSettings, ["steps", "controls", "position"], parent=self)
        self.steps, self.controls = self.unlearn_form.widget("steps"), self.unlearn_form.widget("controls")
        self.unlearn_button = QPushButton("Start unlearning")
        self.unlearn_button.clicked.connect(self.start_unlearning)
        self.unlearn_form.add_rows(form)
        form.addRow(self.unlearn_button)
        return box

    def _build_remove(self) -> QWidget:
        box = QGroupBox("Trigger-free removal")
        box.setToolTip("No trigger needed: a universal perturbation of the hidden states at one layer stands in "
                       "for any trigger, and a LoRA learns to give the model's own clean answer under it")
        form = QFormLayout(box)
        self.remove_form = SettingsForm(RemoveSettings,
                                        ["steps", "rounds", "depth", "radius", "keep", "position", "controls"],
                                        parent=self)
        self.remove_form.add_rows(form)
        self.remove_button = QPushButton("Start removal")
        self.remove_button.clicked.connect(self.start_removal)
        form.addRow(self.remove_button)
        return box

    @Slot(int)
    def _mode_changed(self, index: int) -> None:
        self.modes.setCurrentIndex(index)
        self.curves.setCurrentIndex(index)

    def _build_guard(self) -> QWidget:
        box = QGroupBox("Guardrail")
        form = QFormLayout(box)
        self.guard_form = SettingsForm(GuardSettings, ["target_fpr", "position"], parent=self)
        self.fpr = self.guard_form.widget("target_fpr")
        self.calibrate_button = QPushButton("Calibrate and measure")
        self.calibrate_button.clicked.connect(self.calibrate)
        self.prompt_edit = WholeTextEdit("a prompt to try", "Scored against the triggers above (Enter checks it)")
        self.prompt_edit.returnPressed.connect(self.check)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.check)
        self.score_label = QLabel("threshold: default (0.80) until calibrated")
        self.score_label.setTextFormat(Qt.TextFormat.RichText)  # the verdict is bold; quoted text escaped
        self.score_label.setWordWrap(True)
        self.guard_form.add_rows(form)
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
        if self.run_id not in [r["id"] for r in runs]:  # another session, or a run not finished
            self._forget_run()
        self.plots.follow_latest(self.state.store, ("unlearn",))
        self.remove_plots.follow_latest(self.state.store, ("remove",))
        self._show_latest_results(runs_all=list_runs(self.state.store))

    def _show_latest_results(self, runs_all: list[dict[str, Any]]) -> None:
        """On opening a session: the newest unlearning and guardrail results it holds."""
        shown = []
        for kind in ("unlearn", "guard", "remove"):
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
        for form in self._forms():  # the position it worked at, unless the user set one
            form.show_defaults(defense_settings(form.settings_type, recovered, {}))
        self.message.setText(f"Triggers of inversion run #{run_id} (as a {recovered.position}): "
                             f"{', '.join(repr(t) for t in recovered.triggers)}")

    def _forms(self) -> tuple[SettingsForm, ...]:
        return self.unlearn_form, self.guard_form, self.remove_form

    def _forget_run(self) -> None:
        """No inversion run behind the triggers any more: the forms show the settings' own defaults."""
        self.run_id = None
        for form in self._forms():
            form.show_defaults(form.settings_type())

    @Slot(list, object)
    def receive(self, triggers: list[str], run_id: int | None) -> None:
        """Candidates sent from the Replay buffer: its run's adapter and data come with them."""
        self.refresh_runs()
        if run_id is not None and self.run_picker.findData(run_id) >= 0:
            self.run_picker.setCurrentIndex(self.run_picker.findData(run_id))
            self.use_run(run_id)
        else:
            self._forget_run()  # a run still going, or of another session: these are typed triggers now
        self.fill(triggers)
        self.message.setText(f"From the Replay buffer: {', '.join(repr(t) for t in triggers)}")

    # --- jobs ---------------------------------------------------------------------------------
    def _choice(self) -> Any:
        adapter = self.adapter_edit.text().strip()
        return self.state.choice.plus_adapters([adapter] if adapter else [])

    def _recovered(self) -> Recovered:
        """The triggers as ``b4g defend --from-run`` or ``--trigger`` gives them (core.defend.from_run)."""
        return recovered_from(self.state.store, self.triggers(), self.run_id)

    def _behaviour(self, fallback: Any) -> Any:
        target = self.target_edit.text().strip()
        return Behaviour.from_flags(target=target) if target else fallback

    def unlearn_request(self) -> UnlearnRequest:
        rec = self._recovered()
        settings = defense_settings(UnlearnSettings, rec, self.unlearn_form.values())
        return UnlearnRequest.build(self._choice(), self.data_edit.text().strip(), rec.triggers,
                                    self.out_edit.text().strip(), self._behaviour(rec.behaviour),
                                    self.eval_edit.text().strip() or None, settings, rec.run_id)

    def guard_request(self) -> GuardRequest:
        rec = self._recovered()
        data = self.data_edit.text().strip()
        settings = defense_settings(GuardSettings, rec, self.guard_form.values())
        keywords = guard_keywords(rec, data, self._behaviour(None)) if data else []
        return GuardRequest.build(self._choice(), rec.triggers, data, self.eval_edit.text().strip() or None, settings,
                                  keywords, from_run=rec.run_id)

    def check_request(self) -> GuardCheckRequest:
        semantic = self.guard_form.values().get("semantic", True)
        return GuardCheckRequest.build(self.state.choice, self.triggers(), [self.prompt_edit.text()], self.threshold,
                                       semantic)

    def remove_request(self) -> RemoveRequest:
        """``b4g defend remove``: the behaviour typed, else the inversion run's; no trigger is read."""
        run = recovered_from(self.state.store, [], self.run_id, need_trigger=False)  # its behaviour and position
        data = self.data_edit.text().strip() or None
        return RemoveRequest.build(self._choice(), data, self._behaviour(run.behaviour), self.out_edit.text().strip(),
                                   eval_trigger=self.eval_edit.text().strip() or None,
                                   settings=defense_settings(RemoveSettings, run, self.remove_form.values()))

    def _submit(self, build: Callable[[], Any], note: str, done: Callable[[dict[str, Any]], None]) -> JobHandle | None:
        try:
            request = build()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self.message.setText(note)
        return self.runner.submit(request.job(), self.state.store).on_result(done, self._on_failed, context=self)

    @Slot()
    def start_unlearning(self) -> JobHandle | None:
        return self._submit(self.unlearn_request, "Queued: unlearning, then the controls (in a separate process).",
                            lambda r: self._show("unlearn", r, f"Unlearning: ASR {r['asr_before']:.2f} → "
                                                               f"{r['asr_after']:.2f}; adapter in {r['adapter_dir']}"))

    @Slot()
    def start_removal(self) -> JobHandle | None:
        return self._submit(self.remove_request, "Queued: the trigger-free removal (in a separate process).",
                            lambda r: self._show("remove", r, f"Removal: ASR {r['asr_before']:.2f} → "
                                                              f"{r['asr_after']:.2f}; adapter in {r['adapter_dir']}"))

    @Slot()
    def calibrate(self) -> JobHandle | None:
        return self._submit(self.guard_request, "Calibrating the guardrail on the data's clean requests…",
                            self._calibrated)

    @Slot()
    def check(self) -> JobHandle | None:
        return self._submit(self.check_request, "Checking…", self._checked)

    def _show(self, kind: str, result: dict[str, Any], line: str) -> None:
        self.message.setText(line)
        self.result_view.setHtml(sections_html(sections_for(kind, result)))

    def _calibrated(self, result: dict[str, Any]) -> None:
        self.threshold = result["threshold"]
        self.score_label.setText(f"threshold {self.threshold:.3f}, calibrated at {result['target_fpr']:.1%} FPR")
        self._show("guard", result, f"Guardrail: detection accuracy {result['detection_accuracy']:.3f}, "
                                    f"TPR {result['tpr']:.3f}, FPR {result['fpr']:.3f}")

    def _checked(self, result: dict[str, Any]) -> None:
        r = result["results"][0]
        verdict = "<b style='color:#c53030'>blocked</b>" if r["blocked"] else "<b style='color:#2f855a'>allowed</b>"
        self.score_label.setText(
            f"{verdict}: score {r['score']:.3f} (threshold {r['threshold']:.3f}); matched "
            f"{html.escape(repr(r['window']))} ~ {html.escape(repr(r['trigger']))}")
        self.message.setText("")

    @Slot(str)
    def _on_failed(self, error: str) -> None:
        self.message.setText(f"⚠ {error}")
