"""The model under audit as one value: what to load (``ModelRef``) and how (``LoadOptions``).

The window's Models page owns one ``ModelChoice``; the CLI's model flags build the same pair.
Every job request carries it, so a 4-bit choice made once reaches every job and its record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import B4GError
from core.models.ref import LoadOptions, ModelRef


@dataclass(frozen=True)
class ModelChoice:
    ref: ModelRef = field(default_factory=lambda: ModelRef("embedded"))
    options: LoadOptions = field(default_factory=LoadOptions)

    def with_adapters(self, adapters: list[str] | tuple[str, ...]) -> "ModelChoice":
        """The same base and options with exactly ``adapters`` (like ``ModelRef.with_adapters``)."""
        return replace(self, ref=self.ref.with_adapters(adapters))

    def plus_adapters(self, extra: list[str] | tuple[str, ...]) -> "ModelChoice":
        """The same base and options with ``extra`` adapters stacked after the chosen ones."""
        return self.with_adapters([*self.ref.adapters, *[a for a in extra if a]])

    def with_options(self, options: LoadOptions) -> "ModelChoice":
        return replace(self, options=options)

    def describe(self) -> str:
        """One line for a page header: the model, then every load option that is not the default."""
        o, default = self.options, LoadOptions()
        parts = [self.ref.describe()]
        parts += [f"{label} {getattr(o, name)}" for name, label in (
            ("quantization", "quantization"), ("device", "device"), ("dtype", "dtype"), ("template", "template"))
            if getattr(o, name) != getattr(default, name)]
        return " · ".join(parts) if len(parts) > 1 else f"{parts[0]} · default load options"

    def to_json(self) -> dict[str, Any]:
        return {"model": self.ref.to_json(), "options": self.options.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelChoice":
        """From ``{"model": {...}, "options": {...}}``; a bad field is one line naming it."""
        m = data.get("model")
        if not isinstance(m, dict) or m.get("kind") not in ("embedded", "hf", "gguf"):
            raise B4GError("request: 'model' must name a kind (embedded, hf or gguf)")
        ref = ModelRef(m["kind"], m.get("path"), tuple(m.get("adapters", ())))
        try:
            options = LoadOptions(**(data.get("options") or {}))
        except TypeError as exc:
            raise B4GError(f"request: bad load options ({exc})") from None
        return cls(ref, options.validate())
