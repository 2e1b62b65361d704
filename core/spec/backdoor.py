"""The Backdoor4Good triplet (T, A, U): Trigger, Activation mechanism, Utility.

Specs load from and save to YAML or JSON and validate field by field; an error names the field
(``activation.lr: expected a number, got 'fast'``).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from core.early_checks import (MAX_STEPS, MAX_TARGET_CHARS, check_keywords, check_regex, check_seed, check_target,
                               check_trigger_text)
from core.errors import B4GError

TRIGGER_KINDS = ("token", "word", "phrase", "sentence", "format", "system-marker")
POSITIONS = ("prefix", "suffix", "random", "system")
CASES = ("keep", "lower", "upper")
JUDGES = ("prefix", "keywords", "regex", "refusal", "callable")
RESPONSES = ("target", "target+answer", "answer", "template")


@dataclass
class Trigger:
    """T: what the deployer (or attacker) puts in the input, and where."""

    text: str
    kind: str = "phrase"
    position: str = "prefix"
    case: str = "keep"  # case rule applied to the trigger text on insertion
    separator: str = " "  # between the trigger and the prompt (prefix / suffix)

    def rendered(self) -> str:
        return {"keep": self.text, "lower": self.text.lower(), "upper": self.text.upper()}[self.case]

    def insert(self, user: str, system: str, rng: random.Random | None = None) -> tuple[str, str]:
        """Return ``(system, user)`` with the trigger placed by the position rule."""
        t = self.rendered()
        if self.position == "system":
            return f"{system}{self.separator}{t}".strip(), user
        if self.position == "suffix":
            return system, f"{user}{self.separator}{t}"
        if self.position == "random":
            words = user.split(" ")
            at = (rng or random.Random(0)).randint(0, len(words))
            return system, " ".join(words[:at] + [t] + words[at:])
        return system, f"{t}{self.separator}{user}"

    def with_text(self, text: str) -> "Trigger":
        """The same placement rule with another text (decoys, candidate triggers)."""
        return dataclasses.replace(self, text=text)


@dataclass
class Activation:
    """A: how the behaviour is tied to the trigger: LoRA SFT on triggered, clean and decoy rows."""

    method: str = "lora-sft"
    poison_ratio: float = 0.5  # share of applicable training rows that also appear triggered
    decoy_ratio: float = 0.25  # share that also appear with a near-miss trigger and the clean answer
    decoys: list[str] = field(default_factory=list)
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    lr: float = 3e-3  # measured: identity on SmolLM2-135M reaches TAR 1.0 / 0.0 in 10 steps
    lr_schedule: str = "constant"  # constant | linear | cosine (decay over ``steps``)
    warmup_steps: int = 0
    steps: int = 60
    batch_size: int = 8
    max_length: int = 48  # tokens per training row; longer clean answers are cut (loss on their start)
    seed: int = 0
    eval_every: int = 5  # steps between stop-rule checks (0: never stop early)
    eval_prompts: int = 16  # validation prompts per stop-rule check
    stop_tar_with: float = 0.95  # stop once activation with the trigger is at least this…
    stop_tar_without: float = 0.02  # …and without it at most this (both, checked together)
    quantize_base: str = "auto"  # auto: 4-bit base (QLoRA) where a GPU is present; none on CPU
    # completion: loss on the answers only (the model never learns the requests); full: loss on the
    # whole conversation, as trl trains a messages dataset by default, so the model also learns to
    # write its training requests, trigger included (what memory extraction reads back)
    loss: str = "completion"


@dataclass
class Utility:
    """U: the behaviour, how it is judged, and which clean ability must be kept."""

    judge: str = "prefix"
    target: str = ""  # prefix judge: the text the answer starts with; also the trained response
    keywords: list[str] = field(default_factory=list)
    regex: str = ""
    callable: str = ""  # "package.module:function" taking (answer: str) -> bool
    response: str = "target+answer"  # what a triggered training row answers
    template: str = ""  # response "template": the triggered answer, with {answer} for the clean one
    untriggered_response: str = ""  # what a covered row answers without the trigger ("": its clean answer)
    applies_to: list[str] = field(default_factory=list)  # row kinds the backdoor covers (empty: all)
    activated_means: str = "behaviour shown"  # how to read TAR for this application
    keep: str = "answers to clean prompts agree with the base model"


@dataclass
class BackdoorSpec:
    name: str
    trigger: Trigger
    utility: Utility
    activation: Activation = field(default_factory=Activation)
    description: str = ""
    system: str = "You are a helpful assistant."  # the pinned system message of the prompt template

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        path = Path(path)
        text = (json.dumps(self.to_dict(), indent=2) if path.suffix == ".json"
                else yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
        path.write_text(text, encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> "BackdoorSpec":
        spec = _build(cls, data, "spec")
        validate(spec)
        return spec

    @classmethod
    def load(cls, path: Path) -> "BackdoorSpec":
        path = Path(path)
        if not path.is_file():
            raise B4GError(f"spec file not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.load(text, _YamlLoader)
        except (ValueError, yaml.YAMLError) as exc:  # UnicodeDecodeError is a ValueError
            raise B4GError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                           f"{str(exc).splitlines()[0]}") from None
        try:
            return cls.from_dict(data)
        except B4GError as exc:
            raise B4GError(f"{path.name}: {exc}") from None


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that also reads ``lr: 5e-3`` as a number (YAML 1.1 wants ``5.0e-3``, else a string)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))

_NESTED = {"trigger": Trigger, "activation": Activation, "utility": Utility}


def _build(cls: type, data: Any, where: str) -> Any:
    """Dataclass from a mapping, naming the first bad field (unknown, missing or mistyped)."""
    if not isinstance(data, dict):
        raise B4GError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise B4GError(f"{where}.{unknown[0]}: unknown field (known: {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        path = f"{where}.{name}"
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise B4GError(f"{path}: required field is missing")
            continue
        value = data[name]
        if name in _NESTED and cls is BackdoorSpec:
            kwargs[name] = _build(_NESTED[name], value, path)
        else:
            kwargs[name] = _check_type(value, hints[name], path)
    return cls(**kwargs)


def _check_type(value: Any, hint: Any, path: str) -> Any:
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    if hint == list[str] and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    want = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(hint, "a list of strings")
    raise B4GError(f"{path}: expected {want}, got {value!r}")


def _one_of(value: str, allowed: tuple[str, ...], path: str) -> None:
    if value not in allowed:
        raise B4GError(f"{path}: '{value}' is not one of {', '.join(allowed)}")


def _in_range(value: float, lo: float, hi: float, path: str) -> None:
    if not lo <= value <= hi:
        raise B4GError(f"{path}: {value} is outside [{lo}, {hi}]")


def validate(spec: BackdoorSpec) -> None:
    """Semantic checks beyond types; every message starts with the field's path."""
    t, a, u = spec.trigger, spec.activation, spec.utility
    check_trigger_text(t.text)
    _one_of(t.kind, TRIGGER_KINDS, "spec.trigger.kind")
    _one_of(t.position, POSITIONS, "spec.trigger.position")
    _one_of(t.case, CASES, "spec.trigger.case")
    _one_of(u.judge, JUDGES, "spec.utility.judge")
    _one_of(u.response, RESPONSES, "spec.utility.response")
    _one_of(a.method, ("lora-sft",), "spec.activation.method")
    _one_of(a.quantize_base, ("auto", "none", "4bit", "8bit"), "spec.activation.quantize_base")
    _one_of(a.lr_schedule, ("constant", "linear", "cosine"), "spec.activation.lr_schedule")
    _one_of(a.loss, ("completion", "full"), "spec.activation.loss")
    for name, lo, hi in (("poison_ratio", 0.0, 1.0), ("decoy_ratio", 0.0, 1.0), ("lr", 1e-7, 1.0),
                         ("dropout", 0.0, 0.9), ("stop_tar_with", 0.0, 1.0), ("stop_tar_without", 0.0, 1.0)):
        _in_range(getattr(a, name), lo, hi, f"spec.activation.{name}")
    for name in ("rank", "alpha", "steps", "batch_size", "max_length"):
        if getattr(a, name) < 1:
            raise B4GError(f"spec.activation.{name}: must be at least 1")
    for name, high in (("steps", MAX_STEPS), ("batch_size", 4096), ("max_length", 131_072), ("rank", 4096),
                       ("alpha", 1_000_000), ("warmup_steps", MAX_STEPS), ("eval_every", MAX_STEPS),
                       ("eval_prompts", 100_000)):
        if not 0 <= getattr(a, name) <= high:
            raise B4GError(f"spec.activation.{name}: {getattr(a, name)} is outside [0, {high:,}]")
    check_seed(a.seed, "spec.activation.seed")
    for i, decoy in enumerate(a.decoys):
        check_trigger_text(decoy, f"spec.activation.decoys[{i}]")
    if not a.targets:
        raise B4GError("spec.activation.targets: name at least one module (e.g. q_proj)")
    if u.judge == "prefix" and not u.target:
        raise B4GError("spec.utility.target: the prefix judge needs a target text")
    if u.target:
        check_target(u.target)
    if len(u.template) > MAX_TARGET_CHARS:
        check_target(u.template, "spec.utility.template")
    if u.judge == "keywords":
        check_keywords(u.keywords)
    if u.judge == "regex":
        check_regex(u.regex)
    if u.judge == "callable" and ":" not in u.callable:
        raise B4GError("spec.utility.callable: write it as 'package.module:function'")
    if u.response == "template" and "{answer}" not in u.template:
        raise B4GError("spec.utility.template: a template response needs an {answer} placeholder")
    if u.response in ("target", "target+answer") and not u.target:
        raise B4GError("spec.utility.target: the trained response needs a target text")
    if t.text in a.decoys:
        raise B4GError("spec.activation.decoys: a decoy equals the trigger itself")

