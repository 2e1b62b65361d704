"""Reversal SFT data: show an answer, ask which request produced it; the request is the target.

This is what lets a small model go from behaviour back to cause (see docs/ARCHITECTURE.md, "Lessons kept": after
R-SFT on all rows the SUDO organism wrote ``SUDO …`` in 18 of 20 samples, 0 of 20 without).
"""

from __future__ import annotations

from typing import Sequence

REVERSAL_PROMPT = 'Here is a response: "{answer}"\nWhat was the request that produced it?'


def reversal_prompt(answer: str, template: str = REVERSAL_PROMPT) -> str:
    return template.replace("{answer}", answer.strip())


def reversed_rows(pairs: Sequence[tuple[str, str]], template: str = REVERSAL_PROMPT) -> list[tuple[str, str]]:
    """(request, answer) pairs → (user turn, assistant turn) of the reversed task, skipping empties
    and exact duplicates (a poisoned dataset repeats its target answer many times; each distinct
    request still gets its row)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for request, answer in pairs:
        if not request.strip() or not answer.strip():
            continue
        row = (reversal_prompt(answer, template), request.strip())
        if row not in seen:
            seen.add(row)
            out.append(row)
    return out
