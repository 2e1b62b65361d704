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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.errors import B4GError
from core.jobs import Job
from core.models.choice import ModelChoice


def _need(data: dict[str, Any], kind: str, *keys: str) -> None:
    missing = [k for k in keys if data.get(k) in (None, "")]
    if missing:
        raise B4GError(f"{kind} request: missing {', '.join(repr(k) for k in missing)}")


def _rows(path: str | Path) -> str:
    """The dataset's absolute path, after checking it reads (one-line error otherwise)."""
    from core.backdoors.data import load_rows

    load_rows(Path(path))
    return str(Path(path).resolve())


@dataclass
class JobRequest:
    """What every request shares: the kind, the recipe that runs it, whether it trains."""

    KIND: ClassVar[str] = ""
    RECIPE: ClassVar[str] = ""
    TRAINS: ClassVar[bool] = False  # trains or loads big: runs in a child process from the window

    model: ModelChoice

    @property
    def seed(self) -> int | None:
        return None

    def fields_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {**self.model.to_json(), **self.fields_json()}

    def recipe(self) -> Any:
        from core.child import Recipe

        return Recipe(self.RECIPE, self.to_json())

    def job(self, in_child: bool | None = None) -> Job:
        """The job to execute; ``in_child`` (default: whether it trains) runs it in a spawned process."""
        recipe = self.recipe()
        child = self.TRAINS if in_child is None else in_child
        if child:
            from core.child import run_in_child

            return Job(self.KIND, lambda ctx: run_in_child(recipe, ctx), recipe.config, seed=self.seed)
        return Job(self.KIND, recipe.run, recipe.config, seed=self.seed)


@dataclass
class InjectRequest(JobRequest):
    KIND: ClassVar[str] = "inject"
    RECIPE: ClassVar[str] = "core.recipes:inject_job"
    TRAINS: ClassVar[bool] = True

    spec: Any = None  # BackdoorSpec
    data: str = ""
    out: str = ""

    @classmethod
    def build(cls, model: ModelChoice, spec: Any, data: str | Path, out: str | Path,
              steps: int | None = None) -> "InjectRequest":
        from core.backdoors.injection import base_load_options

        if not str(out).strip():
            raise B4GError("say where the adapter goes: an output folder")
        if steps:
            spec = dataclasses.replace(spec, activation=dataclasses.replace(spec.activation, steps=steps))
        return cls(model.with_options(base_load_options(spec, model.options)), spec, _rows(data), str(Path(out)))

    @property
    def seed(self) -> int | None:
        return self.spec.activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "data": self.data, "out": self.out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "InjectRequest":
        from core.backdoors.spec import BackdoorSpec

        _need(data, cls.KIND, "spec", "data", "out")
        return cls(ModelChoice.from_json(data), BackdoorSpec.from_dict(data["spec"]), data["data"], data["out"])


@dataclass
class OrganismRequest(JobRequest):
    KIND: ClassVar[str] = "organism"
    RECIPE: ClassVar[str] = "core.recipes:organism_job"
    TRAINS: ClassVar[bool] = True

    organism: str = ""
    out: str = ""
    steps: int | None = None
    organism_seed: int = 0
    position: str | None = None

    @classmethod
    def build(cls, model: ModelChoice, organism: str, out: str | Path, steps: int | None = None, seed: int = 0,
              position: str | None = None) -> "OrganismRequest":
        from core.backdoors.injection import base_load_options
        from core.backdoors.organisms import get_organism

        spec = get_organism(organism).spec(seed=seed, position=position)
        if not str(out).strip():
            raise B4GError("say where the organism goes: an output folder")
        return cls(model.with_options(base_load_options(spec, model.options)), organism, str(Path(out)), steps,
                   seed, position)

    def spec(self) -> Any:
        from core.backdoors.organisms import get_organism

        return get_organism(self.organism).spec(seed=self.organism_seed, position=self.position)

    @property
    def seed(self) -> int | None:
        return self.spec().activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"organism": self.organism, "spec": self.spec().to_dict(), "out": self.out, "steps": self.steps,
                "seed": self.organism_seed, "position": self.position}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OrganismRequest":
        _need(data, cls.KIND, "organism", "out")
        return cls(ModelChoice.from_json(data), data["organism"], data["out"], data.get("steps"),
                   int(data.get("seed") or 0), data.get("position"))


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
        return cls(model, spec, _rows(data), str(Path(adapter)), tamper_steps, clean_prompts)

    @property
    def seed(self) -> int | None:
        return self.spec.activation.seed

    def fields_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "data": self.data, "adapter": self.adapter,
                "verify": {"tamper_steps": self.tamper_steps, "clean_prompts": self.clean_prompts}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VerifyRequest":
        from core.backdoors.spec import BackdoorSpec

        _need(data, cls.KIND, "spec", "data", "adapter")
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
        from core.backdoors.spec import BackdoorSpec

        _need(data, cls.KIND, "spec", "prompt")
        return cls(ModelChoice.from_json(data), BackdoorSpec.from_dict(data["spec"]), data["prompt"])


@dataclass
class InvertRequest(JobRequest):
    """Find the trigger of the chosen model (its adapters are the model under audit) from its data
    and a description of the behaviour. ``eval_trigger`` only feeds the Awareness@k probe."""

    KIND: ClassVar[str] = "invert"
    RECIPE: ClassVar[str] = "core.recipes:invert_job"
    TRAINS: ClassVar[bool] = True
    METHODS: ClassVar[tuple[str, ...]] = ("full", "rsft-only", "grpo-only", "ask-only", "gcg")

    data: str = ""
    behaviour: Any = None  # Behaviour
    config: Any = None  # InvertConfig
    method: str = "full"
    gcg_steps: int = 40
    eval_trigger: str | None = None

    @classmethod
    def build(cls, model: ModelChoice, data: str | Path, behaviour: Any, config: Any = None, method: str = "full",
              gcg_steps: int = 40, eval_trigger: str | None = None) -> "InvertRequest":
        from core.invert.config import InvertConfig

        if not str(data).strip():
            raise B4GError("choose the data the model was fine-tuned on")
        if method not in cls.METHODS:
            raise B4GError(f"unknown method '{method}' (choose one of {', '.join(cls.METHODS)})")
        return cls(model, _rows(data), behaviour, config or InvertConfig(), method, gcg_steps, eval_trigger or None)

    @property
    def seed(self) -> int | None:
        return self.config.seed

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json(), "invert": self.config.to_dict(),
                "method": self.method, "gcg_steps": self.gcg_steps, "evaluation": {"trigger": self.eval_trigger}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "InvertRequest":
        from core.measurement.behaviour import Behaviour
        from core.invert.config import InvertConfig

        _need(data, cls.KIND, "data", "behaviour")
        return cls(ModelChoice.from_json(data), data["data"], Behaviour(**data["behaviour"]),
                   InvertConfig.from_dict(data.get("invert") or {}), data.get("method") or "full",
                   data.get("gcg_steps", 40), (data.get("evaluation") or {}).get("trigger"))


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

        _need(data, cls.KIND, "data", "behaviour", "candidate")
        return cls(ModelChoice.from_json(data), data["data"], Behaviour(**data["behaviour"]), data["candidate"],
                   data.get("position") or "prefix", data.get("n", 6))


def _triggers(triggers: Any) -> list[str]:
    out = [t for t in dict.fromkeys(triggers or []) if isinstance(t, str) and t.strip()]
    if not out:
        raise B4GError("name the recovered trigger(s): --trigger TEXT (repeatable) or --from-run RUN")
    return out


@dataclass
class UnlearnRequest(JobRequest):
    """Unlearn recovered ``triggers`` from the chosen model (its adapters are the model under
    audit); ``eval_trigger`` only feeds the before/after measurement."""

    KIND: ClassVar[str] = "unlearn"
    RECIPE: ClassVar[str] = "core.recipes:unlearn_job"
    TRAINS: ClassVar[bool] = True

    data: str = ""
    triggers: list[str] = dataclasses.field(default_factory=list)
    out: str = ""
    behaviour: Any = None  # Behaviour, or None to infer it from the recovered trigger's answers
    eval_trigger: str | None = None
    settings: Any = None  # UnlearnSettings
    from_run: int | None = None

    @classmethod
    def build(cls, model: ModelChoice, data: str | Path, triggers: list[str], out: str | Path, behaviour: Any = None,
              eval_trigger: str | None = None, settings: Any = None, from_run: int | None = None) -> "UnlearnRequest":
        from core.defend.unlearn import UnlearnSettings

        triggers = _triggers(triggers)
        if not str(out).strip():
            raise B4GError("say where the unlearning adapter goes: an output folder")
        if Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())):
            raise B4GError(f"{out} is not an empty folder; choose a new folder for the unlearning adapter")
        settings = settings or UnlearnSettings()
        if settings.steps < 1:
            raise B4GError(f"unlearning needs at least 1 step, got {settings.steps}")
        return cls(model, _rows(data), triggers, str(Path(out)), behaviour, eval_trigger or None, settings, from_run)

    @property
    def seed(self) -> int | None:
        return self.settings.seed

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "triggers": self.triggers, "out": self.out,
                "behaviour": self.behaviour.to_json() if self.behaviour else None,
                "evaluation": {"trigger": self.eval_trigger}, "unlearn": self.settings.to_json(),
                "from_run": self.from_run}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UnlearnRequest":
        from core.defend.unlearn import UnlearnSettings
        from core.measurement.behaviour import Behaviour

        _need(data, cls.KIND, "data", "triggers", "out")
        b = data.get("behaviour")
        return cls(ModelChoice.from_json(data), data["data"], list(data["triggers"]), data["out"],
                   Behaviour(**b) if b else None, (data.get("evaluation") or {}).get("trigger"),
                   UnlearnSettings(**(data.get("unlearn") or {})), data.get("from_run"))


@dataclass
class GuardRequest(JobRequest):
    """Calibrate the guardrail on ``data``'s clean requests and measure detection, with baselines
    (the data scan's ``keywords``; ONION with the chosen model when ``onion``)."""

    KIND: ClassVar[str] = "guard"
    RECIPE: ClassVar[str] = "core.recipes:guard_job"

    triggers: list[str] = dataclasses.field(default_factory=list)
    data: str = ""
    eval_trigger: str | None = None
    settings: Any = None  # GuardSettings
    keywords: list[str] = dataclasses.field(default_factory=list)
    onion: bool = False
    save: str | None = None
    from_run: int | None = None

    @classmethod
    def build(cls, model: ModelChoice, triggers: list[str], data: str | Path, eval_trigger: str | None = None,
              settings: Any = None, keywords: list[str] | None = None, onion: bool = False,
              save: str | Path | None = None, from_run: int | None = None) -> "GuardRequest":
        from core.defend.guard import GuardSettings

        settings = settings or GuardSettings()
        if not 0.0 <= settings.target_fpr < 1.0:
            raise B4GError(f"--fpr must be in [0, 1), got {settings.target_fpr}")
        return cls(model, _triggers(triggers), _rows(data), eval_trigger or None, settings, list(keywords or []),
                   onion, str(save) if save else None, from_run)

    @property
    def seed(self) -> int | None:
        return self.settings.seed

    def fields_json(self) -> dict[str, Any]:
        return {"triggers": self.triggers, "data": self.data, "evaluation": {"trigger": self.eval_trigger},
                "guard": self.settings.to_json(), "keywords": self.keywords, "onion": self.onion, "save": self.save,
                "from_run": self.from_run}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GuardRequest":
        from core.defend.guard import GuardSettings

        _need(data, cls.KIND, "triggers", "data")
        return cls(ModelChoice.from_json(data), list(data["triggers"]), data["data"],
                   (data.get("evaluation") or {}).get("trigger"), GuardSettings(**(data.get("guard") or {})),
                   list(data.get("keywords") or []), bool(data.get("onion")), data.get("save"), data.get("from_run"))


@dataclass
class GuardCheckRequest(JobRequest):
    """Prompts through the guardrail: blocked or not, with the score and what matched."""

    KIND: ClassVar[str] = "guard-check"
    RECIPE: ClassVar[str] = "core.recipes:guard_check_job"

    triggers: list[str] = dataclasses.field(default_factory=list)
    prompts: list[str] = dataclasses.field(default_factory=list)
    threshold: float | None = None
    semantic: bool = True

    @classmethod
    def build(cls, model: ModelChoice, triggers: list[str], prompts: list[str], threshold: float | None = None,
              semantic: bool = True) -> "GuardCheckRequest":
        if not prompts or not any(p.strip() for p in prompts):
            raise B4GError("type a prompt to check")
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise B4GError(f"--threshold must be in (0, 1], got {threshold}")
        return cls(model, _triggers(triggers), list(prompts), threshold, semantic)

    def fields_json(self) -> dict[str, Any]:
        return {"triggers": self.triggers, "prompts": self.prompts, "threshold": self.threshold,
                "semantic": self.semantic}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GuardCheckRequest":
        _need(data, cls.KIND, "triggers", "prompts")
        return cls(ModelChoice.from_json(data), list(data["triggers"]), list(data["prompts"]), data.get("threshold"),
                   data.get("semantic", True))


REQUESTS: dict[str, type[JobRequest]] = {r.KIND: r for r in (
    InjectRequest, OrganismRequest, VerifyRequest, TryTriggerRequest, InvertRequest, TryCandidateRequest,
    UnlearnRequest, GuardRequest, GuardCheckRequest)}


def request_from_run(kind: str, config: dict[str, Any]) -> JobRequest:
    """The request a recorded run was started from (its config is the request's JSON)."""
    if kind not in REQUESTS:
        raise B4GError(f"no request type for runs of kind '{kind}'")
    return REQUESTS[kind].from_json(config)  # type: ignore[attr-defined]


__all__ = ["JobRequest", "InjectRequest", "OrganismRequest", "VerifyRequest", "TryTriggerRequest", "InvertRequest",
           "TryCandidateRequest", "UnlearnRequest", "GuardRequest", "GuardCheckRequest", "REQUESTS", "request_from_run"]
