"""Adapters on a loaded model: folding the ones under audit into the weights."""

from __future__ import annotations

from typing import Any


def merge_audited_adapters(loaded: Any) -> None:
    """Fold the adapters under audit into the weights: the policy's own LoRA then sits on top,
    and disabling it (peft's ``disable_adapter``) gives back exactly the model under audit."""
    from peft import PeftModel

    if isinstance(loaded.model, PeftModel):
        loaded.model = loaded.model.merge_and_unload()
