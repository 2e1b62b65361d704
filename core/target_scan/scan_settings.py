"""The model scan's settings (``b4g scan-model``, the Inversion page's scan, the audit's first stage).

The fields the auditor may set are declared with :func:`core.job_settings.setting`; the CLI's flags
are built from them. No torch here: the CLI's parser imports this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.early_checks import MAX_COUNT
from core.errors import B4GError
from core.job_settings import seed_setting, setting


@dataclass
class ScanSettings:
    prompts: int = setting(8, help="clean prompts the expansions are averaged over", label="Clean prompts", low=1,
                           high=MAX_COUNT)
    first_tokens: int = setting(24, help="first tokens tried: the most probable, plus (with adapters) the ones the "
                                "adapters raised most", label="First tokens", low=1, high=MAX_COUNT)
    steps: int = setting(8, help="tokens each proposal is extended by", label="Tokens per proposal", low=1,
                         high=MAX_COUNT)
    seed: int = seed_setting("seed of the clean prompts drawn")
    chunk: int = 8
    top: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScanSettings":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def check(self) -> None:
        for name in ("prompts", "first_tokens", "steps", "chunk", "top"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise B4GError(f"scan-model: {name} must be a whole number of at least 1 (got {getattr(self, name)!r})")
