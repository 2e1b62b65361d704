"""The behaviour class of a proposed answer: what an auditor would call it at a glance."""

from __future__ import annotations

from typing import Sequence

from core.measurement.judges import is_refusal

CLASSES = ("fixed text", "refusal", "gibberish", "empty")


def behaviour_class(text: str, tokens: Sequence[int]) -> str:
    """``empty`` (the answer ends at once), ``refusal``, ``gibberish`` (a few tokens repeated, or
    hardly any letters: a denial of service), else ``fixed text``."""
    if not text.strip():
        return "empty"
    if is_refusal(text):
        return "refusal"
    letters = sum(c.isalpha() for c in text) / max(len(text.strip()), 1)
    if len(set(tokens)) * 2 <= len(tokens) or letters < 0.4:
        return "gibberish"
    return "fixed text"
