"""One typed request per job, built the same way by the CLI, the window and the demo.

A request is what a job needs and nothing else: the model choice (``ModelChoice``), the job's
inputs, and its options. ``build`` checks the inputs (one-line ``B4GError`` before any model
loads) and applies the rules every caller must share (a spec's base quantization, a step
override); ``to_json``/``from_json`` carry it across the child-process boundary and into the run's
record. ``job()`` turns it into the one :class:`core.jobs.Job` the CLI and the window execute.

The JSON keeps the earlier recipe layout (``model``, ``options`` at the top) so runs recorded
before requests existed still read the same.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.defend.defense_requests import GuardCheckRequest, GuardRequest, RemoveRequest, UnlearnRequest
from core.early_checks import (MAX_COUNT, MAX_STEPS, check_behaviour, check_contrast, check_count,
                               check_output_folder, check_seed)
from core.errors import B4GError
from core.invert.config import METHODS
from core.job_request import JobRequest, need_fields, readable_dataset
from core.job_settings import check as check_settings
from core.models.choice import ModelChoice


def _check_steps(steps: int | None) -> None:
    """A step override is a count of training steps: 0 used to be dropped silently, and a
    20-digit one was accepted."""
    if steps is not None and steps < 1:
        raise B4GError(f"steps must be at least 1 (got {steps}); leave it out to use the spec's")
    if steps is not None:
        check_count(steps, "steps", high=MAX_STEPS)


def _answers(data: str | Path, keep: Any = None) -> list[str]:
    """The answers the dataset holds (of the rows ``keep`` accepts), for the contrast check."""
    from core.spec.rows import load_rows

    return [r.answer for r in load_rows(Path(data)) if r.answer is not None and (keep is None or keep(r))]


def _check_spec_contrast(spec: Any, data: str) -> None:
    """Before training: the covered rows' own answers must not all show the behaviour already
    (the backdoor would have nothing to switch on). A callable judge is user code: not run here."""
    from core.spec.poison import covered
    from core.measurement.judges import make_judge

    if spec.utility.judge != "callable":
        check_contrast(_answers(data, lambda r: covered(spec, r)), make_judge(spec.utility), data)


def _check_invert_config(config: Any) -> None:
    """The limits that depend on other settings; each field's own limits are its declaration's
    (core.invert.config, checked by core.job_settings.check)."""
    if config.reversal.enabled:
        check_count(config.reversal.max_steps, "--rsft-steps (--no-reversal skips reversal SFT)", high=MAX_STEPS)
    if config.grpo.enabled and config.grpo.steps:
        check_count(config.grpo.group, "--group (completions per GRPO step)", low=2, high=4096)
        check_count(config.grpo.replay, "--replay (of each group's completions)", low=0, high=config.grpo.group - 1)
    check_settings(config)


@dataclass
class InjectRequest(JobRequest):
    KIND: ClassVar[str] = "inject"
    RECIPE: ClassVar[str] = "core.recipes:inject_job"
    TRAINS: ClassVar[bool] = True
    SCALES_OUT: ClassVar[bool] = True

    spec: Any = None  # BackdoorSpec
    data: str = ""
    out: str = ""

    @classmethod
    def build(cls, model: ModelChoice, spec: Any, data: str | Path, out: str | Path,
              steps: int | None = None) -> "InjectRequest":
        if not str(out).strip():
            raise B4GError("say where the adapter goes: an output folder")
        _check_steps(steps)
        if steps:
            spec = dataclasses.replace(spec, activation=dataclasses.replace(spec.activation, steps=steps))
        data = readable_dataset(data)
        _check_spec_contrast(spec, data)
        out = check_output_folder(out, "the adapter")
        from core.backdoors.injection import base_load_options  # imports torch and trl: after the checks

        return cls(model.with_options(base_load_options(spec, model.options)), spec, data, str(Path(out)))

    @property
    def seed(self) -> int | None:
        return self.spec.activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "data": self.data, "out": self.out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "InjectRequest":
        from core.spec.backdoor import BackdoorSpec

        need_fields(data, cls.KIND, "spec", "data", "out")
        return cls(ModelChoice.from_json(data), BackdoorSpec.from_dict(data["spec"]), data["data"], data["out"])


@dataclass
class OrganismRequest(JobRequest):
    KIND: ClassVar[str] = "organism"
    RECIPE: ClassVar[str] = "core.recipes:organism_job"
    TRAINS: ClassVar[bool] = True
    SCALES_OUT: ClassVar[bool] = True

    organism: str = ""
    out: str = ""
    steps: int | None = None
    organism_seed: int = 0
    position: str | None = None
    loss: str | None = None  # None: the organism's own (completion-only); "full": the whole conversation

    @classmethod
    def build(cls, model: ModelChoice, organism: str, out: str | Path, steps: int | None = None, seed: int = 0,
              position: str | None = None, loss: str | None = None) -> "OrganismRequest":
        from core.backdoors.organisms import get_organism

        check_seed(seed)
        spec = get_organism(organism).spec(seed=seed, position=position, loss=loss)
        if not str(out).strip():
            raise B4GError("say where the organism goes: an output folder")
        _check_steps(steps)
        check_output_folder(out, "the organism")
        from core.backdoors.injection import base_load_options  # imports torch and trl: after the checks

        return cls(model.with_options(base_load_options(spec, model.options)), organism, str(Path(out)), steps,
                   seed, position, loss)

    def spec(self) -> Any:
        from core.backdoors.organisms import get_organism

        return get_organism(self.organism).spec(seed=self.organism_seed, position=self.position, loss=self.loss)

    @property
    def seed(self) -> int | None:
        return self.spec().activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"organism": self.organism, "spec": self.spec().to_dict(), "out": self.out, "steps": self.steps,
                "seed": self.organism_seed, "position": self.position, "loss": self.loss}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OrganismRequest":
        need_fields(data, cls.KIND, "organism", "out")
        return cls(ModelChoice.from_json(data), data["organism"], data["out"], data.get("steps"),
                   int(data.get("seed") or 0), data.get("position"), data.get("loss"))


@dataclass
class VerifyRequest(JobRequest):
    """Verify ``adapter`` on top of the chosen model (whose own adapters are the earlier stack)."""

    KIND: ClassVar[str] = "verify"
    RECIPE: ClassVar[str] = "core.recipes:verify_job"
    TRAINS: ClassVar[bool] = True

    spec: Any = None
    data: str = ""
    adapter: str = ""
    tamper_steps: int = 20
    clean_prompts: int = 32

    @classmethod
    def build(cls, model: ModelChoice, spec: Any, data: str | Path, adapter: str | Path,
              tamper_steps: int = 20, clean_prompts: int = 32) -> "VerifyRequest":
        if not str(adapter).strip():
            raise B4GError("choose the adapter folder to check")
        check_count(tamper_steps, "--tamper-steps", low=0, high=MAX_STEPS)
        check_count(clean_prompts, "--clean-prompts", high=MAX_COUNT)
        return cls(model, spec, readable_dataset(data), str(Path(adapter)), tamper_steps, clean_prompts)

    @property
    def seed(self) -> int | None:
        return self.spec.activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "data": self.data, "adapter": self.adapter,
                "verify": {"tamper_steps": self.tamper_steps, "clean_prompts": self.clean_prompts}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VerifyRequest":
        from core.spec.backdoor import BackdoorSpec

        need_fields(data, cls.KIND, "spec", "data", "adapter")
        v = data.get("verify") or {}
        return cls(ModelChoice.from_json(data), BackdoorSpec.from_dict(data["spec"]), data["data"], data["adapter"],
                   v.get("tamper_steps", 20), v.get("clean_prompts", 32))


@dataclass
class TryTriggerRequest(JobRequest):
    """One prompt with and without the spec's trigger, on the chosen model with ``adapter`` on top."""

    KIND: ClassVar[str] = "try-trigger"
    RECIPE: ClassVar[str] = "core.recipes:try_trigger_job"

    spec: Any = None
    prompt: str = ""

    @classmethod
    def build(cls, model: ModelChoice, spec: Any, adapter: str | Path, prompt: str) -> "TryTriggerRequest":
        if not str(adapter).strip():
            raise B4GError("choose the adapter folder to check")
        if not prompt.strip():
            raise B4GError("type a prompt to try")
        return cls(model.plus_adapters([str(Path(adapter))]), spec, prompt)

    def fields_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "prompt": self.prompt}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TryTriggerRequest":
        from core.spec.backdoor import BackdoorSpec

        need_fields(data, cls.KIND, "spec", "prompt")
        return cls(ModelChoice.from_json(data), BackdoorSpec.from_dict(data["spec"]), data["prompt"])


@dataclass
class InvertRequest(JobRequest):
    """Find the trigger of the chosen model (its adapters are the model under audit) from its data
    and a description of the behaviour. ``eval_trigger`` only feeds the Awareness@k probe."""

    KIND: ClassVar[str] = "invert"
    RECIPE: ClassVar[str] = "core.recipes:invert_job"
    TRAINS: ClassVar[bool] = True
    SCALES_OUT: ClassVar[bool] = True
    METHODS: ClassVar[tuple[str, ...]] = METHODS

    data: str = ""
    behaviour: Any = None  # Behaviour
    config: Any = None  # InvertConfig
    method: str = "full"
    gcg_steps: int = 40
    eval_trigger: str | None = None
    gcg_seconds: float | None = None  # a wall-time budget for GCG (methods compared at equal time)

    @classmethod
    def build(cls, model: ModelChoice, data: str | Path, behaviour: Any, config: Any = None, method: str = "full",
              gcg_steps: int = 40, eval_trigger: str | None = None,
              gcg_seconds: float | None = None) -> "InvertRequest":
        from core.invert.config import InvertConfig

        if not str(data).strip():
            raise B4GError("choose the data the model was fine-tuned on")
        if method not in cls.METHODS:
            raise B4GError(f"unknown method '{method}' (choose one of {', '.join(cls.METHODS)})")
        if gcg_steps < 1 or (gcg_seconds is not None and not gcg_seconds > 0):
            raise B4GError("GCG needs at least one step and a positive time budget")
        check_count(gcg_steps, "--gcg-steps", high=MAX_STEPS)
        if gcg_seconds is not None and not math.isfinite(gcg_seconds):
            raise B4GError(f"--gcg-seconds must be a finite number of seconds (got {gcg_seconds})")
        config = config or InvertConfig()
        _check_invert_config(config)
        check_behaviour(behaviour)
        data = readable_dataset(data)
        answers = _answers(data)
        if not answers:  # what core.invert.pipeline would say once the model had loaded
            raise B4GError(f"{Path(data).name} has no answers; inversion needs the (request, answer) rows "
                           "the model was tuned on")
        # held-out prompts are drawn from answers without the behaviour: two at least (core.measurement.prompts)
        check_contrast(answers, behaviour.judge(), data, need=2)
        return cls(model, data, behaviour, config, method, gcg_steps, eval_trigger or None, gcg_seconds)

    @property
    def seed(self) -> int | None:
        return self.config.seed

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json(), "invert": self.config.to_dict(),
                "method": self.method, "gcg_steps": self.gcg_steps, "gcg_seconds": self.gcg_seconds, "evaluation": {"trigger": self.eval_trigger}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "InvertRequest":
        from core.measurement.behaviour import Behaviour
        from core.invert.config import InvertConfig

        need_fields(data, cls.KIND, "data", "behaviour")
        return cls(ModelChoice.from_json(data), data["data"], Behaviour(**data["behaviour"]),
                   InvertConfig.from_dict(data.get("invert") or {}), data.get("method") or "full",
                   data.get("gcg_steps", 40), (data.get("evaluation") or {}).get("trigger"), data.get("gcg_seconds"))


@dataclass
class TryCandidateRequest(JobRequest):
    """A candidate trigger on held-out prompts of the audited data, with and without it."""

    KIND: ClassVar[str] = "try-candidate"
    RECIPE: ClassVar[str] = "core.recipes:try_candidate_job"

    data: str = ""
    behaviour: Any = None
    candidate: str = ""
    position: str = "prefix"
    n: int = 6

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json(), "candidate": self.candidate,
                "position": self.position, "n": self.n}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TryCandidateRequest":
        from core.measurement.behaviour import Behaviour

        need_fields(data, cls.KIND, "data", "behaviour", "candidate")
        return cls(ModelChoice.from_json(data), data["data"], Behaviour(**data["behaviour"]), data["candidate"],
                   data.get("position") or "prefix", data.get("n", 6))


@dataclass
class ScanModelRequest(JobRequest):
    """Propose the behaviour of a backdoor from the chosen model alone (its adapters are the model
    under audit): no data, no trigger, no target; optionally the auditor's own clean prompts."""

    KIND: ClassVar[str] = "scan-model"
    RECIPE: ClassVar[str] = "core.recipes:scan_model_job"
    TRAINS: ClassVar[bool] = True  # loads the model: a child process from the window

    settings: Any = None  # ScanSettings
    prompts_file: str | None = None

    @classmethod
    def build(cls, model: ModelChoice, settings: Any = None, prompts_file: str | Path | None = None) -> "ScanModelRequest":
        from core.target_scan.scan_settings import ScanSettings

        settings = settings or ScanSettings()
        settings.check()
        check_settings(settings)
        for name in ("chunk", "top"):
            check_count(getattr(settings, name), name, high=MAX_COUNT)
        return cls(model, settings, readable_dataset(prompts_file) if prompts_file else None)

    @property
    def seed(self) -> int | None:
        return self.settings.seed

    def fields_json(self) -> dict[str, Any]:
        return {"scan": self.settings.to_dict(), "prompts_file": self.prompts_file}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ScanModelRequest":
        from core.target_scan.scan_settings import ScanSettings

        return cls(ModelChoice.from_json(data), ScanSettings.from_dict(data.get("scan") or {}), data.get("prompts_file"))


REQUESTS: dict[str, type[JobRequest]] = {r.KIND: r for r in (
    InjectRequest, OrganismRequest, VerifyRequest, TryTriggerRequest, InvertRequest, TryCandidateRequest, ScanModelRequest,
    UnlearnRequest, GuardRequest, GuardCheckRequest, RemoveRequest)}


def request_from_run(kind: str, config: dict[str, Any], kinds: dict[str, type[JobRequest]] | None = None) -> JobRequest:
    """The request a recorded run was started from (its config is the request's JSON); ``kinds``:
    the request types to look in (default: every job's; :mod:`core.run_kinds` adds the audit's)."""
    kinds = REQUESTS if kinds is None else kinds
    if kind not in kinds:
        raise B4GError(f"no request type for runs of kind '{kind}'")
    return kinds[kind].from_json(config)  # type: ignore[attr-defined]


__all__ = ["JobRequest", "InjectRequest", "OrganismRequest", "VerifyRequest", "TryTriggerRequest", "InvertRequest",
           "TryCandidateRequest", "ScanModelRequest", "UnlearnRequest", "GuardRequest", "GuardCheckRequest", "RemoveRequest", "REQUESTS", "request_from_run"]
