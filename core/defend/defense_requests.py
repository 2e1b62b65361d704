"""The defenses' typed requests: unlearning, guardrail calibration, and guardrail checks.

Registered with the other jobs' requests in :mod:`core.requests` (``REQUESTS``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.defend.defense_settings import GuardSettings, RemoveSettings, UnlearnSettings
from core.early_checks import check_behaviour, check_output_file, check_output_folder
from core.errors import B4GError
from core.job_request import JobRequest, need_fields, readable_dataset
from core.job_settings import check as check_settings
from core.models.choice import ModelChoice


def _triggers(triggers: Any) -> list[str]:
    from core.spec.backdoor import check_trigger_text

    typed = [t for t in dict.fromkeys(triggers or []) if isinstance(t, str) and t.strip()]  # blank lines dropped
    if not typed:
        raise B4GError("name the recovered trigger(s): --trigger TEXT (repeatable) or --from-run RUN")
    for i, t in enumerate(typed):
        check_trigger_text(t, f"trigger {i + 1}" if len(typed) > 1 else "the trigger")
    return typed


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
        triggers = _triggers(triggers)
        if not str(out).strip():
            raise B4GError("say where the unlearning adapter goes: an output folder")
        check_output_folder(out, "the unlearning adapter")
        settings = settings or UnlearnSettings()
        check_settings(settings)
        if behaviour is not None:
            check_behaviour(behaviour)
        return cls(model, readable_dataset(data), triggers, str(Path(out)), behaviour, eval_trigger or None, settings, from_run)

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
        from core.measurement.behaviour import Behaviour

        need_fields(data, cls.KIND, "data", "triggers", "out")
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
        settings = settings or GuardSettings()
        check_settings(settings)
        if save:
            check_output_file(save, "the guardrail")
        return cls(model, _triggers(triggers), readable_dataset(data), eval_trigger or None, settings, list(keywords or []),
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
        need_fields(data, cls.KIND, "triggers", "data")
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
        from core.defend.guardrail import check_length

        for i, prompt in enumerate(prompts):
            check_length(prompt, f"prompt {i + 1}" if len(prompts) > 1 else "the prompt")
        return cls(model, _triggers(triggers), list(prompts), threshold, semantic)

    def fields_json(self) -> dict[str, Any]:
        return {"triggers": self.triggers, "prompts": self.prompts, "threshold": self.threshold,
                "semantic": self.semantic}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GuardCheckRequest":
        need_fields(data, cls.KIND, "triggers", "prompts")
        return cls(ModelChoice.from_json(data), list(data["triggers"]), list(data["prompts"]), data.get("threshold"),
                   data.get("semantic", True))


@dataclass
class RemoveRequest(JobRequest):
    """Remove the backdoor behind ``behaviour`` from the chosen model (its adapters are the model
    under audit) without its trigger; ``data`` None: the shipped held-out requests. ``eval_trigger``
    only feeds the measurement, ``stand_in`` (an inversion's stand-in trigger) only a control."""

    KIND: ClassVar[str] = "remove"
    RECIPE: ClassVar[str] = "core.recipes:remove_job"
    TRAINS: ClassVar[bool] = True

    data: str | None = None
    behaviour: Any = None  # Behaviour
    out: str = ""
    example: str | None = None  # a text of the behaviour the perturbation search pulls towards
    eval_trigger: str | None = None
    stand_in: str | None = None
    settings: Any = None  # RemoveSettings
    from_run: int | None = None  # the scan-model run whose proposal is the behaviour

    @classmethod
    def build(cls, model: ModelChoice, data: str | Path | None, behaviour: Any, out: str | Path,
              example: str | None = None, eval_trigger: str | None = None, stand_in: str | None = None,
              settings: Any = None, from_run: int | None = None) -> "RemoveRequest":
        from core.defend.removal import elicit_text

        if behaviour is None:
            raise B4GError("describe the behaviour to remove: --target, --keywords, --regex, --refusal or --from-scan RUN")
        check_behaviour(behaviour)
        elicit_text(behaviour, example)  # a regex without an example fails here, before the model loads
        if not str(out).strip():
            raise B4GError("say where the removal adapter goes: an output folder")
        check_output_folder(out, "the removal adapter")
        settings = settings or RemoveSettings()
        check_settings(settings)
        settings.check()  # the limits between settings (steps ≥ rounds)
        if stand_in:
            _triggers([stand_in])
        return cls(model, readable_dataset(data) if data else None, behaviour, str(Path(out)), example,
                   eval_trigger or None, stand_in or None, settings, from_run)

    @property
    def seed(self) -> int | None:
        return self.settings.seed

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json(), "out": self.out, "example": self.example,
                "evaluation": {"trigger": self.eval_trigger}, "stand_in": self.stand_in,
                "remove": self.settings.to_json(), "from_run": self.from_run}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RemoveRequest":
        from core.measurement.behaviour import Behaviour

        need_fields(data, cls.KIND, "behaviour", "out")
        return cls(ModelChoice.from_json(data), data.get("data"), Behaviour(**data["behaviour"]), data["out"],
                   data.get("example"), (data.get("evaluation") or {}).get("trigger"), data.get("stand_in"),
                   RemoveSettings(**(data.get("remove") or {})), data.get("from_run"))
