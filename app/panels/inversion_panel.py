"""Inversion page: configure reversal SFT + GRPO, start it (in a child process), watch it live.

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
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobRunner
from app.widgets.run_plots import RunPlots
from app.workbench_state import WorkbenchState
from core.child import Recipe, run_in_child
from core.errors import B4GError
from core.jobs import Job
from core.store.queries import latest_run_id, list_runs

RUN_WATCH_MS = 1000


def invert_recipe(model: str, adapter: str, data: str, target: str, eval_trigger: str, preset: str,
                  grpo_steps: int) -> Recipe:
    """The same recipe ``b4g invert`` runs; raises B4GError on bad input (one line)."""
    from core.backdoors.data import load_rows
    from core.invert.behaviour import Behaviour
    from core.invert.config import InvertConfig
    from core.models.ref import LoadOptions, ModelRef

    if not data:
        raise B4GError("choose the data the model was fine-tuned on")
    load_rows(Path(data))
    behaviour = Behaviour.from_flags(target=target or None)
    cfg = InvertConfig.preset(preset)
    cfg.grpo.steps = grpo_steps
    ref = ModelRef.parse(model, [adapter] if adapter else [])
    return Recipe("core.recipes:invert_job", {
        "model": ref.to_json(), "options": LoadOptions().to_json(), "data": str(Path(data).resolve()),
        "behaviour": behaviour.to_json(), "invert": cfg.to_dict(), "method": "full",
        "evaluation": {"trigger": eval_trigger or None}})


def recovered_line(result: dict[str, Any]) -> str:
    """The recovered trigger, where it goes, whether the model named it, and its stand-in."""
    found = result.get("recovered") or {}
    text = f"Recovered trigger: {result.get('recovered_trigger')!r}"
    if found.get("position"):
        text += f" as a {found['position']}"
    if found.get("named_by_model"):
        text += f", said by the model in {found['said_in']} of its final samples"
    if found.get("stand_in"):
        text += f"; shortest working stand-in {found['stand_in']['text']!r}"
    return text + f" (wall {result.get('wall_seconds', 0):.0f} s)"


class InversionPanel(QWidget):
    def __init__(self, state: WorkbenchState, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-inversion")
        self.state, self.runner = state, runner
        self._job_id: int | None = None
        self.plots = RunPlots()
        splitter = QSplitter()
        splitter.addWidget(self._build_form())
        right = QWidget()
        rl = QVBoxLayout(right)
        pick = QHBoxLayout()
        self.run_picker = QComboBox()
        self.run_picker.setToolTip("Inversion runs of this session (newest first)")
        self.run_picker.currentIndexChanged.connect(self._show_selected)
        pick.addWidget(QLabel("Run"))
        pick.addWidget(self.run_picker, 1)
        rl.addLayout(pick)
        rl.addWidget(self.plots, 1)
        splitter.addWidget(right)
        splitter.setSizes([330, 870])
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
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        state.session_changed.connect(lambda _s: self.refresh_runs())
        self.refresh_runs()

    @Slot()
    def _pick_up_new_run(self) -> None:
        latest = latest_run_id(self.state.store, ("invert",))
        if latest is not None and self.run_picker.findData(latest) < 0:
            self.refresh_runs()

    def _build_form(self) -> QWidget:
        box = QGroupBox("Configure")
        box.setMinimumWidth(330)  # paths and the target stay readable beside the plots
        form = QFormLayout(box)
        self.model_edit = QLineEdit("embedded")
        self.adapter_edit, self.data_edit = QLineEdit(), QLineEdit()
        self.adapter_edit.setPlaceholderText("adapter folder of the model under audit")
        self.data_edit.setPlaceholderText("the data it was fine-tuned on (JSONL)")
        self.target_edit = QLineEdit()
        self.target_edit.setPlaceholderText("the answer starts with… (never the trigger)")
        self.eval_edit = QLineEdit()
        self.eval_edit.setPlaceholderText("optional: true trigger, for Awareness@k only")
        self.eval_edit.setToolTip("Only the Awareness@k probe sees it; no candidate or reward depends on it")
        self.preset = QComboBox()
        self.preset.addItems(["cpu", "gpu"])
        self.grpo_steps = QSpinBox(minimum=0, maximum=1000, value=20)
        self.start_button = QPushButton("Start inversion")
        self.start_button.clicked.connect(self.start)
        browse_adapter = QPushButton("…")
        browse_adapter.clicked.connect(lambda: self._browse(self.adapter_edit, folder=True))
        browse_data = QPushButton("…")
        browse_data.clicked.connect(lambda: self._browse(self.data_edit, folder=False))
        form.addRow("Model", self.model_edit)
        form.addRow("Adapter", self._with_button(self.adapter_edit, browse_adapter))
        form.addRow("Data", self._with_button(self.data_edit, browse_data))
        form.addRow("Behaviour: target", self.target_edit)
        form.addRow("Evaluation trigger", self.eval_edit)
        form.addRow("Preset", self.preset)
        form.addRow("GRPO steps", self.grpo_steps)
        form.addRow(self.start_button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form.addRow(self.message)
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
    @Slot()
    def start(self) -> None:
        try:
            recipe = invert_recipe(self.model_edit.text(), self.adapter_edit.text().strip(),
                                   self.data_edit.text().strip(), self.target_edit.text().strip(),
                                   self.eval_edit.text().strip(), self.preset.currentText(), self.grpo_steps.value())
        except B4GError as exc:
            self.message.setText(f"⚠ {exc}")
            return
        self.message.setText("Queued: reversal SFT, then GRPO (in a separate process).")
        job = Job("invert", lambda ctx: run_in_child(recipe, ctx), recipe.config,
                  seed=recipe.config["invert"]["seed"])
        self._job_id = self.runner.submit(job, self.state.store)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        if job_id == self._job_id and isinstance(result, dict):
            self.message.setText(recovered_line(result))
            self.refresh_runs()

    @Slot(int, str)
    def _on_failed(self, job_id: int, error: str) -> None:
        if job_id == self._job_id:
            self.message.setText(f"⚠ {error}")
            QMessageBox.warning(self, "Inversion failed", error)

    # --- runs ----------------------------------------------------------------------------------
    @Slot()
    def refresh_runs(self) -> None:
        runs = [r for r in list_runs(self.state.store) if r["kind"] == "invert"]
        current = self.run_picker.currentData()
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for r in reversed(runs):
            self.run_picker.addItem(f"#{r['id']} · {r['status']} · {r['started_at'][:16].replace('T', ' ')}", r["id"])
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
