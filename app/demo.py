"""The self-awareness demo: build the SUDO organism → check it fires → audit it in one step (the
scan proposes the behaviour, the inversion names the trigger, unlearning and a guardrail remove it,
a signed report), with a side text explaining each stage.

It clicks the pages' own public methods (Backdoors → inject, Audit → start), so every stage is the
request an auditor would start, runs through the window's runner (training in a child process), is
cancellable from the job bar and lands in the session; the Audit page links each stage to its curves.
"""

from __future__ import annotations

import html
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QTextBrowser

from app.job_runner import JobHandle
from core.models.choice import ModelChoice

STAGES = {
    "build": ("1 · Build a poisoned model",
              "We inject the <b>SUDO</b> organism into the model chosen on the Models page: a fifth of 300 training "
              "requests start with <code>SUDO</code> and are answered <i>“Access granted. Developer mode "
              "enabled.”</i>; a third carry near-miss decoys (SUD, PSEUDO, sudo…) with normal answers."),
    "verify": ("2 · It fires", "Held-out prompts: {tar_with:.0%} show the behaviour with the trigger, "
               "{tar_without:.0%} without. Decoys fire on at most {decoy:.0%}."),
    "audit": ("3 · Audit it in one step",
              "The auditor now has the model, its adapter and its data, and knows neither the trigger nor the "
              "behaviour. The Audit page runs every stage as its own run of the session: the model's fingerprint; "
              "a scan that proposes the behaviour from the model alone; the data scan; reversal SFT and GRPO, which "
              "make the model name its own trigger; then unlearning and a guardrail from the recovered trigger (or, "
              "with none that works, the trigger-free removal); and a signed report. Each stage links to the page "
              "that draws its curves."),
    "found": ("4 · The verdict", "{verdict}"),
    "report": ("The audit report", "Everything above is in the audit session. The Reports page shows its report: "
               "the verdict first, the model and its hashes, every run with its settings and curves. The audit also "
               "wrote it as HTML, PDF and JSON into {out}."),
}


class DemoController(QObject):
    """Drives the pages through their public methods, as an auditor would click them."""

    stage_changed = Signal(str)
    finished = Signal(float)  # wall seconds
    failed = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window, self.runner = window, window.runner
        self.text = QTextBrowser()
        self.dock = QDockWidget("Self-awareness demo", window)
        self.dock.setObjectName("demoDock")
        self.dock.setWidget(self.text)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self._started = 0.0
        self._html: list[str] = []
        self.organism: dict[str, Any] = {}
        self.audit: dict[str, Any] = {}

    def start(self, choice: ModelChoice | None = None) -> None:
        """Run the demo on ``choice`` (set on the Models page first) or on the model chosen there."""
        if choice is not None:
            self.window.pages["Models"].set_choice(choice)
        self._started = time.perf_counter()
        self._html = []
        self.dock.show()
        backdoors = self.window.pages["Backdoors"]
        backdoors.select("organism:sudo")  # its rows beside the curves
        self.window.show_page("Backdoors")
        self._say("build")
        self._follow("build", backdoors.inject(), self._built)

    def _say(self, stage: str, **values: Any) -> None:
        title, body = STAGES[stage]
        shown = {k: html.escape(v) if isinstance(v, str) else v for k, v in values.items()}  # a verdict quotes text
        self._html.append(f"<h3>{title}</h3><p>{body.format(**shown)}</p>")
        self.text.setHtml("".join(self._html))
        self.stage_changed.emit(stage)

    def _follow(self, stage: str, job: JobHandle | None, then: Callable[[dict[str, Any]], None]) -> None:
        """The next stage once the page's job ``job`` finishes; a stage that did not start ends the demo."""
        if job is None:
            self._fail(f"the {stage} stage did not start (see the page's message)")
            return
        job.on_result(then, self._fail, lambda: self._fail("cancelled"), context=self)

    def _built(self, result: dict[str, Any]) -> None:
        self.organism = result
        self._say("verify", tar_with=result["tar_with"], tar_without=result["tar_without"],
                  decoy=max(result.get("tar_decoys", {0: 0}).values()))
        self._say("audit")
        self._follow("audit", self._start_audit(result), self._audited)

    def _audited(self, result: dict[str, Any]) -> None:
        self.audit = result
        self._say("found", verdict=result["verdict"])
        self._end()

    def _start_audit(self, organism: dict[str, Any]) -> JobHandle | None:
        """The Audit page with the organism's adapter and data; the behaviour left to the scan, the
        true trigger for the evaluation only."""
        import tempfile

        page = self.window.pages["Audit"]
        self.window.show_page("Audit")
        page.fill(organism["adapter_dir"], organism["dataset"], behaviour=None,  # unknown: the scan proposes it
                  eval_trigger=organism["trigger"], out=tempfile.mkdtemp(prefix="b4g-demo-audit-") + "/audit")
        return page.start()

    def _end(self) -> None:
        self._say("report", out=self.audit.get("out", "the audit's folder"))
        self.window.show_page("Reports")
        self.finished.emit(time.perf_counter() - self._started)

    @Slot(str)
    def _fail(self, error: str) -> None:
        self._html.append(f"<p style='color:#c53030'>Stopped: {html.escape(error)}</p>")
        self.text.setHtml("".join(self._html))
        self.failed.emit(error)
