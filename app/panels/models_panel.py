"""Models page: pick a model (embedded / folder / GGUF + adapters), quantize, estimate, load, chat."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobHandle, JobRunner
from app.widgets.chat_box import ChatBox
from app.widgets.plain_label import PlainLabel
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core import distributed
from core.errors import B4GError
from core.units import human_bytes
from core.jobs import Job, JobContext
from core.models.chat import GenerationOptions
from core.models.choice import ModelChoice
from core.models.ref import LoadOptions, ModelRef
from core.models.templates import CHOICES as TEMPLATE_CHOICES
from core.models.templates import name_of

SOURCES = [("Embedded SmolLM2-135M-Instruct", "embedded"), ("Hugging Face folder…", "hf"), ("GGUF file…", "gguf")]
QUANT = [("None (full precision)", "none"), ("8-bit (bitsandbytes)", "8bit"), ("4-bit NF4 (bitsandbytes)", "4bit")]


def _load_job(ref: ModelRef, opts: LoadOptions, store: Any) -> Job:
    def run(ctx: JobContext) -> Any:
        from app.collector import quiet_collection
        from core.models.loader import load_model
        from core.models.record import record_model

        with quiet_collection():  # a worker thread's load must not stall the UI thread (app/collector.py)
            loaded = load_model(ref, opts, ctx)
        loaded.record_id = record_model(store, loaded)
        return loaded

    return Job("load-model", run, {"model": ref.to_json(), "options": opts.to_json()})


def _estimate_job(ref: ModelRef, opts: LoadOptions) -> Job:
    def run(ctx: JobContext) -> dict[str, Any]:
        from core.models.loader import memory_estimate

        return memory_estimate(ref, opts)

    return Job("estimate-memory", run, {"model": ref.to_json(), "options": opts.to_json()})


def _chat_job(loaded: Any, prompt: str, gen: GenerationOptions) -> Job:
    def run(ctx: JobContext) -> dict[str, Any]:
        from core.models.chat import chat

        return {"prompt": prompt, "answer": chat(loaded, [prompt], gen, ctx)[0]}

    return Job("chat", run, {"model": loaded.ref.to_json(), "generation": gen.to_json(), "prompt": prompt})


class ModelsPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-models")
        self.state, self.runner = state, runner
        self._estimate_timer = QTimer(self, singleShot=True, interval=400)
        self._estimate_timer.timeout.connect(self.request_estimate)
        splitter = QSplitter()
        splitter.addWidget(self._build_picker())
        splitter.addWidget(self._build_model_side())
        splitter.setSizes([470, 560])
        QVBoxLayout(self).addWidget(splitter)
        self._source_changed()

    # --- building -----------------------------------------------------------------------------
    def _build_picker(self) -> QWidget:
        box = QGroupBox("Model to audit")
        form = QFormLayout(box)
        self.source = QComboBox()
        for label, key in SOURCES:
            self.source.addItem(label, key)
        self.path = WholeTextEdit("model folder or .gguf file",
                                  "A folder with config.json + *.safetensors, or a .gguf file")
        self.browse = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.adapters = QListWidget()
        self.adapters.setMaximumHeight(70)
        self.adapters.setToolTip("LoRA adapter folders (PEFT), applied in order")
        add_adapter, remove_adapter = QPushButton("Add adapter…"), QPushButton("Remove")
        adapter_row = QHBoxLayout()
        adapter_row.addWidget(add_adapter)
        adapter_row.addWidget(remove_adapter)
        self.quantization = QComboBox()
        for label, key in QUANT:
            self.quantization.addItem(label, key)
        self.double_quant = QCheckBox("Double quantization (4-bit)")
        self.double_quant.setChecked(True)
        self.device = self._combo(["auto", "cpu", "cuda"])
        self.dtype = self._combo(["auto", "float32", "bfloat16", "float16"])
        self.processes = self._processes_box()
        self.compute_dtype = self._combo(["auto", "bfloat16", "float16", "float32"])
        self.template = self._combo(list(TEMPLATE_CHOICES))
        self.template.setToolTip("How prompts are formatted: the model's own chat template (auto), or a pinned "
                                 "template for a base model without one (alpaca: ### Instruction / ### Response)")
        self.trust_remote_code = QCheckBox("Trust remote code")
        self.trust_remote_code.setToolTip("Runs Python code shipped with the model folder. Off unless you trust it.")
        self.allow_pickle = QCheckBox("Allow pickle weights (*.bin, *.pt)")
        self.allow_pickle.setToolTip("Unpickling can run arbitrary code; safetensors are always preferred.")
        self.estimate_label = QLabel("Estimated memory: …")
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setTextFormat(Qt.TextFormat.RichText)  # escaped where it quotes input
        self.load_button = QPushButton("Load model")
        self.load_button.setObjectName("primaryButton")
        self.load_button.setShortcut("Ctrl+L")
        self.load_button.setToolTip("Load the model in the background (Ctrl+L)")
        self.error_label = PlainLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        for label, widget in (("Source", self.source), ("Path", path_row), ("Adapters", self.adapters),
                              ("", adapter_row), ("Quantization", self.quantization), ("", self.double_quant),
                              ("Compute dtype", self.compute_dtype), ("Device", self.device), ("Training processes", self.processes), ("Dtype", self.dtype),
                              ("Prompt template", self.template), ("Safety", self.trust_remote_code), ("", self.allow_pickle),
                              ("", self.estimate_label), ("", self.load_button), ("", self.error_label)):
            form.addRow(label, widget)
        self.source.currentIndexChanged.connect(self._source_changed)
        self.browse.clicked.connect(self._browse)
        add_adapter.clicked.connect(self._add_adapter)
        remove_adapter.clicked.connect(self._remove_adapter)
        self.load_button.clicked.connect(self.request_load)
        for w in (self.quantization, self.device, self.dtype, self.compute_dtype, self.template):
            w.currentIndexChanged.connect(self._options_changed)
        for check in (self.double_quant, self.trust_remote_code, self.allow_pickle):
            check.toggled.connect(self._options_changed)
        self.path.editingFinished.connect(self._options_changed)
        return box

    def _build_model_side(self) -> QWidget:
        side = QWidget()
        layout = QVBoxLayout(side)
        card = QGroupBox("Loaded model")
        self.info = QLabel("No model loaded yet.")
        self.info.setObjectName("modelInfo")
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        # The start page leads on to the one action most auditors came for (issue 40): the audit uses
        # the model chosen here, so the link is all the page needs to offer.
        self.audit_link = QLabel('Next: <a href="Audit">audit this model in one step</a>: its behaviour, its '
                                 'trigger, a fix and a signed report (also <b>Session → New audit…</b>).')
        self.audit_link.setObjectName("auditLink")
        self.audit_link.setWordWrap(True)
        self.audit_link.linkActivated.connect(self.state.page_requested.emit)
        card_layout = QVBoxLayout(card)
        card_layout.addWidget(self.info)
        card_layout.addWidget(self.audit_link)
        chat_box = QGroupBox("Try the model")
        self.chat = ChatBox()
        QVBoxLayout(chat_box).addWidget(self.chat)
        self.chat.prompt_submitted.connect(self._send_chat)
        layout.addWidget(card)
        layout.addWidget(chat_box, 1)
        return side

    def _processes_box(self) -> QSpinBox:
        """How many data-parallel processes (one per GPU) train inject, organism and inversion jobs."""
        gpus = distributed.gpu_count()
        box = QSpinBox()
        box.setRange(1, max(1, gpus))
        box.setEnabled(gpus > 1)
        box.setToolTip(f"Train on {gpus} GPUs at once (data parallel, one process per GPU); the run records "
                       "how many" if gpus > 1 else
                       "One process: this machine has fewer than two GPUs (the CLI's twin is accelerate launch)")
        box.valueChanged.connect(lambda n: setattr(self.runner, "processes", n))
        return box

    @staticmethod
    def _combo(items: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.addItems(items)
        return combo

    # --- reading the form ---------------------------------------------------------------------
    def model_ref(self) -> ModelRef:
        adapters = [self.adapters.item(i).text() for i in range(self.adapters.count())]
        key = self.source.currentData()
        if key == "embedded":
            return ModelRef.parse("embedded", adapters)
        text = self.path.text().strip()
        if not text:
            raise B4GError("choose a model folder or .gguf file first (Browse…)")
        ref = ModelRef.parse(text, adapters)
        if key == "gguf" and ref.kind != "gguf":
            raise B4GError(f"{text} is not a .gguf file")
        return ref

    def load_options(self) -> LoadOptions:
        return LoadOptions(device=self.device.currentText(), dtype=self.dtype.currentText(),
                           quantization=self.quantization.currentData(), double_quant=self.double_quant.isChecked(),
                           compute_dtype=self.compute_dtype.currentText(),
                           trust_remote_code=self.trust_remote_code.isChecked(),
                           allow_pickle=self.allow_pickle.isChecked(),
                           template=self.template.currentText()).validate()

    def set_choice(self, choice: ModelChoice) -> None:
        """Fill the form from a choice (the demo, tests) and publish it to every job page."""
        ref, o = choice.ref, choice.options
        self.source.setCurrentIndex(self.source.findData(ref.kind))
        self.path.setText(ref.path or "")
        self.adapters.clear()
        self.adapters.addItems(list(ref.adapters))
        self.quantization.setCurrentIndex(self.quantization.findData(o.quantization))
        for combo, value in ((self.device, o.device), (self.dtype, o.dtype), (self.compute_dtype, o.compute_dtype),
                             (self.template, o.template)):
            combo.setCurrentText(value)
        self.double_quant.setChecked(o.double_quant)
        self.trust_remote_code.setChecked(o.trust_remote_code)
        self.allow_pickle.setChecked(o.allow_pickle)
        self._options_changed()

    def choice(self) -> ModelChoice:
        """The model every job page uses (B4GError while the form is incomplete)."""
        return ModelChoice(self.model_ref(), self.load_options())

    # --- actions ------------------------------------------------------------------------------
    @Slot()
    def _source_changed(self) -> None:
        embedded = self.source.currentData() == "embedded"
        self.path.setEnabled(not embedded)
        self.browse.setEnabled(not embedded)
        self._options_changed()

    @Slot()
    def _options_changed(self) -> None:
        self.double_quant.setEnabled(self.quantization.currentData() == "4bit")
        self.compute_dtype.setEnabled(self.quantization.currentData() == "4bit")
        try:
            self.state.choose(self.choice())
        except B4GError:
            pass  # an incomplete form (no path yet) keeps the last complete choice; the job pages show which
        self._estimate_timer.start()

    @Slot()
    def _remove_adapter(self) -> None:
        self.adapters.takeItem(self.adapters.currentRow())
        self._options_changed()

    @Slot()
    def _browse(self) -> None:
        if self.source.currentData() == "gguf":
            path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF file", "", "GGUF (*.gguf)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Choose a Hugging Face model folder")
        if path:
            self.path.setText(path)
            self._options_changed()

    @Slot()
    def _add_adapter(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a LoRA adapter folder")
        if path:
            self.adapters.addItem(path)
            self._options_changed()

    def _submit(self, done: Callable[[Any, str | None], None], job: Job, **kwargs: Any) -> JobHandle:
        """Submit ``job``; ``done(result, error)`` hears how it ended (error None when it finished)."""
        return self.runner.submit(job, **kwargs).on_result(lambda result: done(result, None),
                                                           lambda error: done(None, error),
                                                           lambda: done(None, "cancelled"), context=self)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._estimate_timer.start()

    @Slot()
    def request_estimate(self) -> None:
        if not self.isVisible():
            return  # a hidden (or closed) page has nobody to show the estimate to
        try:
            ref, opts = self.model_ref(), self.load_options()
        except B4GError as exc:
            self.estimate_label.setText(f"Estimated memory: — ({html.escape(str(exc))})")
            return
        if self.runner.is_busy():
            self.estimate_label.setText("Estimated memory: waits for the running job")
        self._submit(self._estimate_done, _estimate_job(ref, opts))

    @Slot()
    def request_load(self) -> None:
        self.error_label.setText("")
        try:
            ref, opts = self.model_ref(), self.load_options()
        except B4GError as exc:
            self.error_label.setText(str(exc))
            return
        self.load_button.setEnabled(False)
        self.info.setText(f"Loading {html.escape(ref.describe())}…")
        self._submit(self._load_done, _load_job(ref, opts, self.state.store), recorder=self.state.store,
                     cancellable=False, reason="A model load cannot be interrupted safely; it finishes in seconds")

    @Slot(str, object)
    def _send_chat(self, prompt: str, gen: GenerationOptions) -> None:
        if self.state.model is None:
            self.chat.show_error("no model loaded")
            return
        self._submit(self._chat_done, _chat_job(self.state.model, prompt, gen), recorder=self.state.store)

    # --- results (UI thread) ------------------------------------------------------------------
    def _estimate_done(self, result: dict[str, Any] | None, error: str | None) -> None:
        if error:
            self.estimate_label.setText(f"Estimated memory: — ({html.escape(error)})")
            return
        self.estimate_label.setText(
            f"Estimated memory: <b>{human_bytes(result['estimated_bytes'])}</b> "
            f"({result['parameters'] / 1e6:.1f} M parameters, {result['dtype']} on {result['device']})")

    def _load_done(self, loaded: Any, error: str | None) -> None:
        self.load_button.setEnabled(True)
        if error:
            self.error_label.setText(error)
            self.info.setText("No model loaded." if self.state.model is None else self._describe(self.state.model))
            return
        self.state.set_model(loaded)
        self.info.setText(self._describe(loaded))
        self.chat.set_ready(True)

    def _chat_done(self, result: dict[str, Any] | None, error: str | None) -> None:
        if error:
            self.chat.show_error(error)
        else:
            self.chat.show_answer(result["answer"])

    @staticmethod
    def _describe(loaded: Any) -> str:
        return (f"<b>{html.escape(loaded.ref.describe())}</b><br>{loaded.parameters / 1e6:.1f} M parameters · {loaded.dtype} · "
                f"{loaded.device} · quantization {loaded.options.quantization} · "
                f"prompt template {html.escape(name_of(loaded.tokenizer))}<br>"
                f"Estimated {human_bytes(loaded.estimated_bytes)} · measured footprint "
                f"<b>{human_bytes(loaded.footprint_bytes)}</b> · loaded in {loaded.load_seconds:.2f} s")
