"""The audit's request: what ``b4g audit`` and the Audit page ask for, checked before any model loads.

The stages' own settings travel inside it (``AuditSettings``), so a resumed audit rebuilds exactly
the requests the interrupted one made, and a test can shrink every stage to the tiny model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.early_checks import check_behaviour, check_output_folder, check_seed
from core.errors import B4GError
from core.invert.config import PRESETS
from core.job_request import JobRequest, need_fields, readable_dataset
from core.job_settings import paths_of, with_values
from core.jobs import Job
from core.models.choice import ModelChoice

@dataclass
class AuditSettings:
    """Each stage's settings as the stage's own JSON (``ScanSettings``, ``InvertConfig``,
    ``UnlearnSettings``, ``GuardSettings``, ``RemoveSettings``); empty: that stage's defaults."""

    scan: dict[str, Any] = field(default_factory=dict)
    invert: dict[str, Any] = field(default_factory=dict)
    unlearn: dict[str, Any] = field(default_factory=dict)
    guard: dict[str, Any] = field(default_factory=dict)
    remove: dict[str, Any] = field(default_factory=dict)
    top_k: int = 3  # recovered triggers handed to unlearning and the guardrail (as `defend --from-run`)

    def to_json(self) -> dict[str, Any]:
        return {"scan": self.scan, "invert": self.invert, "unlearn": self.unlearn, "guard": self.guard,
                "remove": self.remove, "top_k": self.top_k}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AuditSettings":
        return cls(**{k: data[k] for k in ("scan", "invert", "unlearn", "guard", "remove", "top_k") if k in data})

    def invert_config(self, preset: str, source: str, seed: int) -> Any:
        from core.invert.config import invert_config

        return invert_config(preset, "full", {**paths_of(self.invert), "source": source, "seed": seed})

    def scan_settings(self, seed: int) -> Any:
        from core.target_scan.scan_settings import ScanSettings

        return with_values(ScanSettings(), {**paths_of(self.scan), "seed": seed})

    def unlearn_settings(self, position: str, controls: bool, seed: int) -> Any:
        from core.defend.defense_settings import UnlearnSettings

        return with_values(UnlearnSettings(), {**paths_of(self.unlearn), "position": position, "controls": controls, "seed": seed})

    def guard_settings(self, position: str, seed: int) -> Any:
        from core.defend.defense_settings import GuardSettings

        return with_values(GuardSettings(), {**paths_of(self.guard), "position": position, "seed": seed})

    def remove_settings(self, controls: bool, seed: int) -> Any:
        from core.defend.defense_settings import RemoveSettings

        return with_values(RemoveSettings(), {**paths_of(self.remove), "controls": controls, "seed": seed})


# The recipe's own key (never recorded): where the audit's training stages run.
STAGES_IN_CHILD = "_stages_in_child"


@dataclass
class AuditRequest(JobRequest):
    """Audit the chosen model (its adapters are the model under audit): find the behaviour (given or
    proposed by the scan), its trigger, remove it, and write the signed report into ``out``.
    ``eval_trigger`` is the true trigger, for the evaluation only (never read by a search)."""

    KIND: ClassVar[str] = "audit"
    RECIPE: ClassVar[str] = "core.audit.run:audit_job"
    TRAINS: ClassVar[bool] = True  # its stages train: resumable from the Sessions page

    data: str | None = None
    behaviour: Any = None  # Behaviour, or None: the scan proposes it
    out: str = ""
    eval_trigger: str | None = None
    sign: str | None = None  # an ed25519 private key (PEM) the reports are signed with
    controls: bool = False  # the defenses' controls (wrong trigger, clean fine-tuning): off for speed
    preset: str = "cpu"
    seed: int = 0
    settings: AuditSettings = field(default_factory=AuditSettings)

    @classmethod
    def build(cls, model: ModelChoice, out: str | Path, data: str | Path | None = None, behaviour: Any = None,
              eval_trigger: str | None = None, sign: str | Path | None = None, controls: bool = False,
              preset: str = "cpu", seed: int = 0, settings: AuditSettings | None = None) -> "AuditRequest":
        if not str(out).strip():
            raise B4GError("say where the audit's adapters and reports go: --out DIR")
        check_output_folder(out, "the audit")
        if preset not in PRESETS:
            raise B4GError(f"unknown preset '{preset}' (choose one of {', '.join(PRESETS)})")
        check_seed(seed)
        if behaviour is not None:
            check_behaviour(behaviour)
        if eval_trigger is not None:
            from core.spec.backdoor import check_trigger_text

            check_trigger_text(eval_trigger, "--eval-trigger")
        if sign:
            from core.report.integrity import load_signing_key

            load_signing_key(Path(sign).expanduser())  # a bad key is told now, not after an hour of audit
        data = readable_dataset(data) if data and str(data).strip() else None
        return cls(model, data, behaviour, str(Path(out).expanduser().resolve()), eval_trigger or None,
                   str(Path(sign).expanduser().resolve()) if sign else None, controls, preset, seed,
                   settings or AuditSettings())

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json() if self.behaviour else None, "out": self.out,
                "evaluation": {"trigger": self.eval_trigger}, "sign": self.sign, "controls": self.controls,
                "preset": self.preset, "seed": self.seed, "audit": self.settings.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AuditRequest":
        from core.measurement.behaviour import Behaviour

        need_fields(data, cls.KIND, "out")
        b = data.get("behaviour")
        return cls(ModelChoice.from_json(data), data.get("data"), Behaviour(**b) if b else None, data["out"],
                   (data.get("evaluation") or {}).get("trigger"), data.get("sign"), bool(data.get("controls")),
                   data.get("preset") or "cpu", int(data.get("seed") or 0),
                   AuditSettings.from_json(data.get("audit") or {}))

    def job(self, in_child: bool | None = None) -> Job:
        """The audit itself runs where it is started (it only orchestrates); ``in_child`` is passed
        on to its stages: None (the window) runs the training ones in a child process, False (the
        CLI) all in process. It runs through its recipe, as every request does (a request never
        imports the code that runs it)."""
        from core.child import Recipe

        recipe = Recipe(self.RECIPE, {**self.to_json(), STAGES_IN_CHILD: in_child})
        return Job(self.KIND, recipe.run, self.to_json(), seed=self.seed)
