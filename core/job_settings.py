"""Settings fields that carry their own help, limits and flag, and what is built from them.

As trl's config dataclasses do (``GRPOConfig`` fields hold their help in ``field(metadata=…)`` and
its CLI parser is generated from them), a job's settings dataclass declares each field the auditor
may set with :func:`setting`. From those declarations, and nowhere else, come:

- the CLI flags (:func:`add_flags`) and the values the user gave (:func:`given`);
- the limits checked before any model loads (:func:`check`), which a page also uses for its widgets;
- presets, a named set of field values applied in one place (:func:`with_preset`);
- the page's widgets' defaults, tooltips and limits (``app/widgets/settings_form.py``).

A setting's value is addressed by its path (``"grpo.steps"`` in an ``InvertConfig``). Callers never
rebuild a settings object field by field: they start from the defaults (or a preset), then apply
the values the user changed (:func:`with_values`), so a page's widget overrides a field only when the
user changed it, and a flag only when it was given.

argparse and dataclasses have no such bridge (trl's ``HfArgumentParser`` exposes every field and
takes no paths into nested settings), so the few lines below are written here.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
from dataclasses import MISSING, dataclass
from typing import Any, Callable, TypeVar

from core.errors import B4GError
from core.early_checks import MAX_SEED, check_count, check_seed

KEY = "b4g_setting"
S = TypeVar("S")


def setting(default: Any = MISSING, *, help: str, label: str = "", low: float | None = None,  # noqa: A002
            high: float | None = None, choices: tuple[str, ...] | None = None, flag: str | None = None,
            check: Callable[[Any, str], None] | None = None) -> Any:
    """A field the auditor may set: ``help`` (the flag's help and the widget's tooltip), ``label`` (the
    form's row), its limits (``low``/``high``, or ``choices``), ``flag`` (default ``--name``; a field
    that is on by default gets ``--no-name``) and an own ``check(value, flag)`` for odd ones."""
    meta = {"help": help, "label": label, "low": low, "high": high, "choices": choices, "flag": flag, "check": check}
    return dataclasses.field(default=default, metadata={KEY: meta})


def seed_setting(help: str = "seed of everything the job draws and trains") -> Any:  # noqa: A002
    return setting(0, help=help, label="Seed", low=0, high=MAX_SEED, check=check_seed)


@dataclass(frozen=True)
class Knob:
    """One settable field: where it is (``path``), its flag, type, default, help and limits."""

    path: str
    flag: str
    kind: type
    default: Any
    help: str
    label: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    own_check: Callable[[Any, str], None] | None = None

    @property
    def dest(self) -> str:
        return "setting__" + self.path.replace(".", "__")

    def check(self, value: Any) -> None:
        """One line naming the flag when ``value`` is outside the field's limits."""
        if self.own_check is not None:
            self.own_check(value, self.flag)
            if self.kind is float and (self.low is not None or self.high is not None):
                self._check_float(value)
        elif self.kind is bool:
            if not isinstance(value, bool):
                raise B4GError(f"{self.flag} is on or off (got {value!r})")
        elif self.kind is int:
            check_count(value, self.flag, int(self.low if self.low is not None else 0),
                        int(self.high if self.high is not None else 2**63))
        elif self.kind is float:
            self._check_float(value)
        if self.choices is not None and value not in self.choices:
            raise B4GError(f"{self.flag} must be one of {', '.join(self.choices)} (got {value!r})")

    def _check_float(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise B4GError(f"{self.flag} must be a number (got {value!r})")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise B4GError(f"{self.flag} must be from {self.low} to {self.high} (got {value})")


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not MISSING else f.default  # type: ignore[misc]


def knobs(cls: type, prefix: str = "") -> dict[str, Knob]:
    """Every field of ``cls`` declared with :func:`setting`, nested settings included, by path."""
    found: dict[str, Knob] = {}
    for f in dataclasses.fields(cls):
        default = _default(f)
        if dataclasses.is_dataclass(default):
            found.update(knobs(type(default), f"{prefix}{f.name}."))
            continue
        meta = f.metadata.get(KEY)
        if meta is None:
            continue  # an internal knob: saved with the run, not offered
        on = isinstance(default, bool) and default
        flag = meta["flag"] or ("--no-" if on else "--") + f.name.replace("_", "-")
        found[prefix + f.name] = Knob(prefix + f.name, flag, type(default), default, meta["help"],
                                      meta["label"] or f.name.replace("_", " ").capitalize(), meta["low"],
                                      meta["high"], meta["choices"], meta["check"])
    return found


def knob(cls: type, path: str) -> Knob:
    return knobs(cls)[path]


def add_flags(parser: argparse.ArgumentParser | Any, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One flag per knob of ``cls`` (but ``skip``'s paths); a flag left out reads as None."""
    for k in knobs(cls).values():
        if k.path in skip:
            continue
        if k.kind is bool:
            parser.add_argument(k.flag, dest=k.dest, action="store_const", const=not k.default, default=None,
                                help=k.help)
        else:
            shown = f"{k.default:g}" if k.kind is float else k.default
            told = "(default" in k.help  # the help says its own default (a run's position)
            metavar = None if k.choices else {int: "N", float: "X"}.get(k.kind, "TEXT")
            parser.add_argument(k.flag, dest=k.dest, type=k.kind, choices=k.choices, default=None, metavar=metavar,
                                help=k.help if told else f"{k.help} (default {shown})")


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The values of the flags the user gave, by path."""
    return {k.path: getattr(args, k.dest) for k in knobs(cls).values() if getattr(args, k.dest, None) is not None}


def value_at(settings: Any, path: str) -> Any:
    for part in path.split("."):
        settings = getattr(settings, part)
    return settings


def with_values(settings: S, values: dict[str, Any]) -> S:
    """A copy of ``settings`` with ``values`` (by path) set; the original is left as it was."""
    out = copy.deepcopy(settings)
    for path, value in values.items():
        *parents, name = path.split(".")
        holder = out
        for part in parents:
            holder = getattr(holder, part)
        if not hasattr(holder, name):
            raise B4GError(f"no setting {path!r} in {type(settings).__name__}")
        setattr(holder, name, value)
    return out


def with_preset(settings: S, presets: dict[str, dict[str, Any]], name: str) -> S:
    """``settings`` with the named preset's values; one line naming the presets otherwise."""
    if name not in presets:
        raise B4GError(f"unknown preset {name!r} ({' or '.join(presets)})")
    return with_values(settings, presets[name])


def check(settings: Any) -> None:
    """Every knob's value within its limits (one line naming the flag)."""
    for k in knobs(type(settings)).values():
        k.check(value_at(settings, k.path))


def paths_of(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"grpo": {"steps": 2}}`` as ``{"grpo.steps": 2}``: a recorded settings override, by path."""
    flat: dict[str, Any] = {}
    for name, value in nested.items():
        if isinstance(value, dict):
            flat.update(paths_of(value, f"{prefix}{name}."))
        else:
            flat[prefix + name] = value
    return flat
