"""Backdoors page: pick a built-in application, an attack organism or your own (T, A, U) spec;
preview its rows; inject it (child process, live loss and activation curves from the store);
verify it (metric card); try a prompt with and without the trigger side by side."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobHandle, JobRunner
from app.widgets.model_choice_line import ModelChoiceLine
from app.widgets.plain_label import PlainLabel
from app.widgets.run_plots import INJECTION_PANES, RunPlots
from app.widgets.sections_view import sections_html
from app.widgets.whole_text_edit import WholeTextEdit
from app.workbench_state import WorkbenchState
from core.early_checks import MAX_STEPS
from core.errors import B4GError
from core.paths import home_dir
from core.requests import InjectRequest, JobRequest, OrganismRequest, TryTriggerRequest, VerifyRequest
from core.sections import inject_sections, organism_sections, verify_sections

PREVIEW_ROWS = 50


def backdoor_choices() -> list[tuple[str, str]]:
    from core.backdoors.apps import APPS
    from core.backdoors.organisms import SPECS

    return ([(f"Application: {n}", f"app:{n}") for n in APPS] + [(f"Attack organism: {n}", f"organism:{n}") for n in SPECS]
            + [("Your own spec (YAML/JSON) + data…", "own")])


def resolve_choice(choice: str, spec_path: str = "", data_path: str = "") -> tuple[Any, Path]:
    """(spec, dataset path) of a choice; one-line B4GError on bad input."""
    from core.backdoors.apps import dataset_dir, get_app
    from core.spec.rows import load_rows
    from core.backdoors.organisms import get_organism, organism_dir
    from core.spec.backdoor import BackdoorSpec

    kind, _, name = choice.partition(":")
    if kind == "app":
        app = get_app(name)
        return app.spec(), dataset_dir() / app.dataset
    if kind == "organism":
        return get_organism(name).spec(), organism_dir() / f"{name.replace('-', '_')}.jsonl"
    if not spec_path or not data_path:
        raise B4GError("your own backdoor needs a spec file and a dataset")
    spec, data = BackdoorSpec.load(Path(spec_path)), Path(data_path)
    load_rows(data)
    return spec, data


class BackdoorsPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-backdoors")
        self.state, self.runner = state, runner
        self.plots = RunPlots(INJECTION_PANES)
        self.card = QTextBrowser()
        self.card.setPlaceholderText("Verify an adapter to see its metric card.")
        self.side_by_side = QTextBrowser()
        self.side_by_side.setPlaceholderText("Try a prompt with and without the trigger.")
        tabs = QTabWidget()
        tabs.addTab(self.plots, "Injection curves")
        tabs.addTab(self.card, "Metric card")
        tabs.addTab(self.side_by_side, "With / without trigger")
        self.tabs = tabs
        splitter = QSplitter()
        splitter.addWidget(self._build_left())
        splitter.addWidget(tabs)
        splitter.setSizes([520, 680])
        title = QLabel("Backdoors: (Trigger, Activation, Utility)")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(splitter, 1)
        state.session_changed.connect(lambda _s: self._show_latest_run())
        self._choice_changed()
        self._show_latest_run()

    def _build_left(self) -> QWidget:
        box = QGroupBox("Backdoor")
        form = QFormLayout(box)
        self.choice = QComboBox()
        for text, data in backdoor_choices():
            self.choice.addItem(text, data)
        self.choice.currentIndexChanged.connect(self._choice_changed)
        self.spec_edit = WholeTextEdit("spec.yaml", "Your (Trigger, Activation, Utility) spec, YAML or JSON")
        self.data_edit = WholeTextEdit("data.jsonl (Alpaca or chat style)", "The rows to poison and train on")
        for edit in (self.spec_edit, self.data_edit):
            edit.editingFinished.connect(self._choice_changed)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # every quoted value is escaped
        self.summary.setWordWrap(True)
        self.preview = QTableWidget(0, 4)
        self.preview.setHorizontalHeaderLabels(["split", "kind", "prompt", "answer"])
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in (2, 3):  # prompt and answer share what the short split/kind columns leave
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        self.model_line = ModelChoiceLine(self.state)
        self.adapter_edit = WholeTextEdit("adapter folder (set by Inject)",
                                          "The LoRA adapter to verify and try; an injection fills it in")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse_adapter)
        adapter_row = QHBoxLayout()
        adapter_row.addWidget(self.adapter_edit, 1)
        adapter_row.addWidget(browse)
        self.steps = QSpinBox(minimum=1, maximum=MAX_STEPS)
        self.steps.setToolTip("LoRA training steps of the injection. It starts at the spec's own "
                              "(activation.steps); a different number overrides it for this run only "
                              "(b4g inject --steps), the spec file is not edited")
        self._spec_steps: int | None = None  # the shown spec's own steps: a value equal to it overrides nothing
        self.inject_button, self.verify_button = QPushButton("Inject"), QPushButton("Verify")
        self.inject_button.setToolTip("LoRA SFT in a separate process; curves appear on the right")
        self.verify_button.setToolTip("TAR with/without trigger, clean utility, tamper resistance, stealthiness")
        self.inject_button.clicked.connect(self.inject)
        self.verify_button.clicked.connect(self.verify)
        self.prompt_edit = WholeTextEdit(text="What is the capital of France?")
        self.try_button = QPushButton("Try with and without trigger")
        self.try_button.clicked.connect(self.try_prompt)
        self.message = PlainLabel(wrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.inject_button)
        buttons.addWidget(self.verify_button)
        form.addRow("Choose", self.choice)
        form.addRow("Spec file", self.spec_edit)
        form.addRow("Dataset", self.data_edit)
        form.addRow(self.summary)
        form.addRow(self.preview)
        form.addRow(self.model_line)
        form.addRow("Training steps", self.steps)
        form.addRow("Adapter", adapter_row)
        form.addRow(buttons)
        form.addRow("Prompt", self.prompt_edit)
        form.addRow(self.try_button)
        form.addRow(self.message)
        return box

    def _browse_adapter(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Adapter folder")
        if path:
            self.adapter_edit.setText(path)

    # --- choosing -------------------------------------------------------------------------------
    def current(self) -> tuple[Any, Path]:
        return resolve_choice(self.choice.currentData(), self.spec_edit.text().strip(), self.data_edit.text().strip())

    @Slot()
    def _choice_changed(self) -> None:
        own = self.choice.currentData() == "own"
        self.spec_edit.setEnabled(own)
        self.data_edit.setEnabled(own)
        try:
            spec, data = self.current()
        except B4GError as exc:
            self.summary.setText(f"⚠ {html.escape(str(exc))}" if own and (self.spec_edit.text() or self.data_edit.text()) else "")
            self.preview.setRowCount(0)
            return
        self._spec_steps = spec.activation.steps
        self.steps.setValue(spec.activation.steps)
        t, u = spec.trigger, spec.utility
        self.summary.setText(f"<b>T</b> {html.escape(t.text)!s} ({t.kind}, {t.position}) · <b>A</b> LoRA r={spec.activation.rank}, "
                             f"poison {spec.activation.poison_ratio:.0%}, {len(spec.activation.decoys)} decoys · "
                             f"<b>U</b> {u.judge} judge: {html.escape(u.target or u.regex or ', '.join(u.keywords))}")
        from core.spec.rows import load_rows

        rows = load_rows(data)[:PREVIEW_ROWS]
        self.preview.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, v in enumerate((r.split, r.kind, r.prompt, r.answer or "(base model answers)")):
                self.preview.setItem(i, j, QTableWidgetItem(v))

    def select(self, choice: str) -> None:
        """Show a backdoor by its key (``app:safety``, ``organism:sudo``, ``own``)."""
        self.choice.setCurrentIndex(self.choice.findData(choice))

    def set_adapter(self, path: str) -> None:
        self.adapter_edit.setText(path)

    # --- requests (built exactly as the CLI builds them) ------------------------------------------
    def inject_request(self, out: Path) -> JobRequest:
        spec, data = self.current()
        choice = self.choice.currentData()
        if choice.startswith("organism:"):
            return OrganismRequest.build(self.state.choice, spec.name, out, steps=self.steps_override())
        return InjectRequest.build(self.state.choice, spec, data, out, steps=self.steps_override())

    def steps_override(self) -> int | None:
        """The typed steps when they differ from the spec's own (None: train as the spec says)."""
        return None if self.steps.value() == self._spec_steps else self.steps.value()

    def verify_request(self) -> VerifyRequest:
        spec, data = self.current()
        return VerifyRequest.build(self.state.choice, spec, data, self.adapter_edit.text().strip())

    def try_request(self) -> TryTriggerRequest:
        spec, _data = self.current()
        return TryTriggerRequest.build(self.state.choice, spec, self.adapter_edit.text().strip(), self.prompt_edit.text())

    # --- jobs ------------------------------------------------------------------------------------
    def _submit(self, request: JobRequest, done: Callable[[dict[str, Any]], None]) -> JobHandle:
        return self.runner.submit(request.job(), self.state.store).on_result(done, self._on_failed, context=self)

    @Slot()
    def inject(self) -> JobHandle | None:
        """Inject the chosen backdoor (an organism: build it); the job's handle, None on bad input."""
        try:
            spec, _data = self.current()
            out = home_dir() / "adapters" / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
            request = self.inject_request(out)
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self.adapter_edit.setText(str(out / "adapter") if isinstance(request, OrganismRequest) else str(out))
        self.message.setText(f"Injecting '{spec.name}' into {out} …")
        self.tabs.setCurrentWidget(self.plots)
        return self._submit(request, self._injected)

    def _start(self, build: Any, done: Callable[[dict[str, Any]], None], message: str = "") -> JobHandle | None:
        """Build a request (bad input: one line on the page, nothing starts) and submit it."""
        try:
            request = build()
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        if message:
            self.message.setText(message)
        return self._submit(request, done)

    @Slot()
    def verify(self) -> JobHandle | None:
        return self._start(self.verify_request, self._verified,
                           "Verifying: activation, clean utility, tamper resistance, stealthiness …")

    @Slot()
    def try_prompt(self) -> JobHandle | None:
        return self._start(self.try_request, self._tried)

    def _injected(self, result: dict[str, Any]) -> None:
        self.message.setText(f"Injected: TAR with {result['tar_with']:.2f}, without {result['tar_without']:.2f} "
                             f"in {result['train_seconds']:.0f} s ({result['steps']} steps).")
        made = organism_sections(result) if "trigger" in result and "dataset" in result else inject_sections(result)
        self.card.setHtml(sections_html(made))

    def _verified(self, result: dict[str, Any]) -> None:
        self.card.setHtml(sections_html(verify_sections(result)))
        self.tabs.setCurrentWidget(self.card)
        self.message.setText("Verified.")

    def _tried(self, result: dict[str, Any]) -> None:
        self.side_by_side.setHtml(_side_by_side_html(result))
        self.tabs.setCurrentWidget(self.side_by_side)

    @Slot(str)
    def _on_failed(self, error: str) -> None:
        self.message.setText(f"⚠ {error}")

    def _show_latest_run(self) -> None:
        self.plots.follow_latest(self.state.store, ("inject", "organism"))


def _side_by_side_html(r: dict[str, Any]) -> str:
    def cell(text: str, shows: bool) -> str:
        mark = " style='background:#fde2e1'" if shows else ""
        return f"<td width='50%'{mark}>{html.escape(text)}</td>"

    return (f"<p><b>Prompt:</b> {html.escape(r['prompt'])}<br><b>With trigger:</b> {html.escape(r['triggered_prompt'])}</p>"
            "<table border='1' cellspacing='0' cellpadding='6' width='100%'><tr><th>with the trigger</th>"
            f"<th>without</th></tr><tr>{cell(r['with'], r['with_shows'])}{cell(r['without'], r['without_shows'])}</tr></table>")
