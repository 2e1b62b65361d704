"""Inversion page: configure reversal SFT + GRPO, start it (in a child process), watch it live.

When the behaviour is unknown, "Propose from the model" runs ``b4g scan-model`` on the chosen model
and adapter (a child process too) and lists what it proposes; the best one becomes the target.

The curves come from the audit store (``RunPlots`` polls it), never from the job's signals, so a
run started elsewhere (the CLI, another window) shows the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
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
from core.invert.config import PRESETS, InvertConfig, invert_config
from core.models.choice import ModelChoice
from core.measurement.behaviour import Behaviour
from core.requests import InvertRequest, ScanModelRequest
from core.target_scan.handoff import behaviour_of
from core.sections import invert_sections, recovered_line, run_label, scan_model_sections
from core.store.queries import get_run, latest_run_id, list_runs

RUN_WATCH_MS = 1000
FORM_PX = 420  # the form's width beside the plots: its placeholders and filled-in paths read whole


SOURCES = {"data": "the data", "memory": "data + the model"}  # how the page names the choices
TARGET_HINT = "the answer starts with…"
TARGET_TIP = ("The start of the answers the backdoor produces (never the trigger): the inversion looks for "
              "the prompt text that makes the model answer this way")


def invert_request(choice: ModelChoice, adapter: str, data: str, target: str, eval_trigger: str, preset: str = "cpu",
                   values: dict[str, Any] | None = None, behaviour: Behaviour | None = None) -> InvertRequest:
    """The request ``b4g invert`` builds from the same values; B4GError on bad input (one line).
    The adapter under audit is stacked on the model chosen on the Models page; ``values``: the settings
    the user changed, by path (as flags given). ``behaviour``: a class the scan proposed (gibberish,
    refusal), used when no target text is typed."""
    behaviour = Behaviour.from_flags(target=target or None) if target or behaviour is None else behaviour
    return InvertRequest.build(choice.plus_adapters([adapter] if adapter else []), data, behaviour,
                               invert_config(preset, "full", values), eval_trigger=eval_trigger or None)


class InversionPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-inversion")
        self.state, self.runner = state, runner
        self.plots = RunPlots()
        splitter = QSplitter()
        splitter.addWidget(self._build_form())
        right = QWidget()
        rl = QVBoxLayout(right)
        pick = QHBoxLayout()
        self.run_picker = QComboBox()
        self.run_picker.setToolTip("Inversion runs of this session (newest first)")
        self.run_picker.currentIndexChanged.connect(self._show_selected)
        self.run_picker.activated.connect(self._show_result)
        pick.addWidget(QLabel("Run"))
        pick.addWidget(self.run_picker, 1)
        rl.addLayout(pick)
        rl.addWidget(self.plots, 1)
        splitter.addWidget(right)
        splitter.setSizes([FORM_PX, PAGE_PX - FORM_PX])
        layout = QVBoxLayout(self)
        title = QLabel("Inversion: make the model name its own trigger")
        title.setObjectName("panelTitle")
        layout.addWidget(title)
        layout.addWidget(splitter, 1)
        # a run is recorded once its job starts in the worker (or in another window on this
        # session): watch the store for new runs rather than guess when that happens
        self._watch = QTimer(self, interval=RUN_WATCH_MS)
        self._watch.timeout.connect(self._pick_up_new_run)
        self._watch.start()
        state.session_changed.connect(lambda _s: (self.refresh_runs(), self._show_result()))
        self.refresh_runs()
        self._show_result()

    @Slot()
    def _pick_up_new_run(self) -> None:
        latest = latest_run_id(self.state.store, ("invert",))
        if latest is not None and self.run_picker.findData(latest) < 0:
            self.refresh_runs()

    def _build_form(self) -> QWidget:
        box = QGroupBox("Configure")
        box.setMinimumWidth(FORM_PX)  # paths and the target stay readable beside the plots
        form = QFormLayout(box)
        self.model_line = ModelChoiceLine(self.state)
        self.adapter_edit = WholeTextEdit("adapter folder under audit",
                                          "The LoRA adapter of the model under audit, on the model chosen above")
        self.data_edit = WholeTextEdit("its fine-tuning data (JSONL)", "The data the model was fine-tuned on")
        self.target_edit = WholeTextEdit(TARGET_HINT, TARGET_TIP)
        self.target_edit.textEdited.connect(self._typed_target)
        self._class_behaviour: Behaviour | None = None
        self.eval_edit = WholeTextEdit("optional: the true trigger", "The true trigger, if known: only the "
                                       "Awareness@k probe sees it; no candidate or reward depends on it")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("A named set of the settings below (gpu: larger budgets); a value you change wins")
        self.settings = SettingsForm(InvertConfig, ["source", "grpo.steps"], {"source": SOURCES}, self)
        self.source, self.grpo_steps = self.settings.widget("source"), self.settings.widget("grpo.steps")
        self.preset.currentTextChanged.connect(lambda name: self.settings.show_defaults(invert_config(name)))
        self.scan_button = QPushButton("Scan the model")
        self.scan_button.setToolTip("b4g scan-model: propose the behaviour from the model and adapter alone "
                                    "(no data, no trigger, no target); the best proposal becomes the target")
        self.scan_button.clicked.connect(self.scan)
        self.proposal_picker = QComboBox()
        self.proposal_picker.setToolTip("What the scan proposed, best first: choose one as the target")
        self.proposal_picker.setPlaceholderText("none yet (scan first)")
        self.proposal_picker.setEnabled(False)
        self.proposal_picker.activated.connect(self._use_proposal)
        self.start_button = QPushButton("Start inversion")
        self.start_button.clicked.connect(self.start)
        browse_adapter = QPushButton("…")
        browse_adapter.clicked.connect(lambda: self._browse(self.adapter_edit, folder=True))
        browse_data = QPushButton("…")
        browse_data.clicked.connect(lambda: self._browse(self.data_edit, folder=False))
        form.addRow(self.model_line)
        form.addRow("Adapter", self._with_button(self.adapter_edit, browse_adapter))
        form.addRow("Data", self._with_button(self.data_edit, browse_data))
        form.addRow("Behaviour: target", self.target_edit)
        form.addRow("Unknown?", self.scan_button)
        form.addRow("Proposals", self.proposal_picker)
        form.addRow("Evaluation trigger", self.eval_edit)
        form.addRow("Preset", self.preset)
        self.settings.add_rows(form)
        form.addRow(self.start_button)
        self.message = PlainLabel(wrap=True)
        form.addRow(self.message)
        self.result_view = QTextBrowser()
        self.result_view.setPlaceholderText("The finished run's result appears here.")
        form.addRow(self.result_view)
        return box

    @staticmethod
    def _with_button(edit: QLineEdit, button: QPushButton) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(edit, 1)
        h.addWidget(button)
        return w

    def _browse(self, edit: QLineEdit, folder: bool) -> None:
        path = (QFileDialog.getExistingDirectory(self, "Adapter folder") if folder
                else QFileDialog.getOpenFileName(self, "Dataset", "", "Datasets (*.jsonl *.json)")[0])
        if path:
            edit.setText(path)

    # --- jobs ----------------------------------------------------------------------------------
    def fill(self, adapter: str, data: str, target: str, eval_trigger: str = "") -> None:
        """Fill the form (the demo shows what an auditor would have typed)."""
        self._typed_target(target)
        for edit, value in ((self.adapter_edit, adapter), (self.data_edit, data), (self.target_edit, target),
                            (self.eval_edit, eval_trigger)):
            edit.setText(value)

    def build_request(self) -> InvertRequest:
        return invert_request(self.state.choice, self.adapter_edit.text().strip(), self.data_edit.text().strip(),
                              self.target_edit.text().strip(), self.eval_edit.text().strip(),
                              self.preset.currentText(), self.settings.values(), self._class_behaviour)

    @Slot()
    def start(self) -> JobHandle | None:
        """Start an inversion from the form; its job's handle (None: bad input, said on the page)."""
        try:
            request = self.build_request()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        return self.submit(request)

    def submit(self, request: InvertRequest) -> JobHandle:
        self.message.setText("Queued: reversal SFT, then GRPO (in a separate process).")
        return self.runner.submit(request.job(), self.state.store).on_result(
            self._inverted, lambda error: self._failed("Inversion failed", error), context=self)

    def scan_request(self) -> ScanModelRequest:
        """``b4g scan-model`` of the chosen model plus the adapter in the form, default settings."""
        adapter = self.adapter_edit.text().strip()
        return ScanModelRequest.build(self.state.choice.plus_adapters([adapter] if adapter else []))

    @Slot()
    def scan(self) -> JobHandle | None:
        """Start a behaviour scan of the chosen model plus the adapter in the form; its job's handle."""
        adapter = self.adapter_edit.text().strip()
        if adapter and not Path(adapter).is_dir():
            self.message.setText(f"⚠ no adapter folder at {adapter}")
            return None
        try:
            request = self.scan_request()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self.message.setText("Queued: a behaviour scan of the model (in a separate process).")
        return self.runner.submit(request.job(), self.state.store).on_result(
            self._show_proposals, lambda error: self._failed("Scan failed", error), context=self)

    def _show_proposals(self, result: dict[str, Any]) -> None:
        self.proposal_picker.clear()
        for p in result["proposals"]:
            if p["text"]:  # an empty answer is listed in the scan's table, not offered here
                self.proposal_picker.addItem(f"{p['text']}  ({p['class']}, {p['score']:.2f})", p)
        self.proposal_picker.setEnabled(self.proposal_picker.count() > 0)
        self.proposal_picker.setCurrentIndex(0 if self.proposal_picker.count() else -1)
        self.result_view.setHtml(sections_html(scan_model_sections(result)))
        top = result["proposals"][0]
        if result["backdoor_found"] and top["text"]:
            what = self._use(top)
            self.message.setText(f"Backdoor behaviour found: “{top['text']}” (score {top['score']:.2f} ≥ "
                                 f"{result['threshold']:.2f}); {what}.")
        else:
            self.message.setText(f"No backdoor found (best score {top['score']:.2f} < {result['threshold']:.2f}); "
                                 "the proposals are listed, none is set as the target.")

    @Slot(int)
    def _use_proposal(self, index: int) -> None:
        proposal = self.proposal_picker.itemData(index)
        if proposal:
            what = self._use(proposal)
            self.message.setText(what[0].upper() + what[1:] + ".")

    def _use(self, proposal: dict[str, Any]) -> str:
        """Make a proposal the behaviour to invert: a fixed text as the target; another class (gibberish,
        refusal) as that class, since its words are only how the model went on once forced (dos seed 0's
        scan proposed ``x zx zx zx zx``; as a target prefix it matched none of the organism's answers)."""
        self._class_behaviour = None if proposal["class"] == "fixed text" else behaviour_of(proposal)
        if self._class_behaviour is None:
            self.target_edit.setText(proposal["text"])
            self.target_edit.setPlaceholderText(TARGET_HINT)
            return "it is now the target"
        self.target_edit.clear()
        self.target_edit.setPlaceholderText(f"class: {proposal['class']} (from the scan)")
        return f"the inversion looks for its class, {proposal['class']}, not these words"

    @Slot(str)
    def _typed_target(self, _text: str) -> None:
        self._class_behaviour = None  # a typed target replaces a class from the scan
        self.target_edit.setPlaceholderText(TARGET_HINT)

    def _inverted(self, result: dict[str, Any]) -> None:
        self.message.setText(recovered_line(result))
        self.result_view.setHtml(sections_html(invert_sections(result)))
        self.refresh_runs()

    def _failed(self, title: str, error: str) -> None:
        self.message.setText(f"⚠ {error}")
        QMessageBox.warning(self, title, plain_html(error))  # an error may quote a path or the data

    # --- runs ----------------------------------------------------------------------------------
    @Slot()
    def refresh_runs(self) -> None:
        runs = [r for r in list_runs(self.state.store) if r["kind"] == "invert"]
        current = self.run_picker.currentData()
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for r in reversed(runs):
            self.run_picker.addItem(run_label(r), r["id"])
        self.run_picker.blockSignals(False)
        ids = [r["id"] for r in runs]
        index = self.run_picker.findData(current) if current in ids and self.runner.current() is None else 0
        self.run_picker.setCurrentIndex(max(index, 0))
        self._show_selected()

    @Slot()
    def _show_selected(self) -> None:
        run_id = self.run_picker.currentData()
        earlier = [self.run_picker.itemData(i) for i in range(self.run_picker.count())
                   if self.run_picker.itemData(i) != run_id]
        self.plots.show_run(self.state.store, run_id, earlier)

    @Slot()
    def _show_result(self) -> None:
        """The picked run's result, as it was shown when it finished (a reopened session's too)."""
        run_id = self.run_picker.currentData()
        if run_id is None:
            return
        result = get_run(self.state.store, run_id).get("result")
        if isinstance(result, dict) and "recovered_trigger" in result:
            self.message.setText(recovered_line(result))
            self.result_view.setHtml(sections_html(invert_sections(result)))
        else:
            self.result_view.clear()
