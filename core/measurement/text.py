"""Text as candidates and answers are compared: whitespace runs collapsed, ends stripped."""

from __future__ import annotations


def normalise(text: str) -> str:
    return " ".join(text.split())
