"""From a scan's proposal to the behaviour an inversion looks for (propose behaviour -> invert trigger).

A fixed text becomes the target, as the auditor would type it. The other classes hand over the class,
not the proposal's words: a scan's gibberish is the start of a degenerate answer, written as the model
continues it once forced (dos seed 0 proposed ``x zx zx zx zx``), and used as a target prefix it
matches none of the organism's own answers (``zx zx zx …``): that chain recovered nothing (R_asr 0).
"""

from __future__ import annotations

from typing import Any

from core.errors import B4GError
from core.measurement.behaviour import Behaviour

# gibberish, as core/target_scan/classes.py defines it: one word over and over (five times in a row),
# or a long run without letters
GIBBERISH = r"(\b\w+\b)(?:\W+\1\b){4,}|\A[^a-z]{12,}"
EMPTY = r"\A\s*\Z"  # the answer ends at once


def behaviour_of(proposal: dict[str, Any]) -> Behaviour:
    """The behaviour to invert for one proposal of ``b4g scan-model`` (its ``text`` and ``class``)."""
    kind = proposal.get("class")
    if kind == "fixed text":
        return Behaviour("target", target=proposal["text"])
    if kind == "refusal":
        return Behaviour("refusal")
    if kind == "gibberish":
        return Behaviour("regex", regex=GIBBERISH)
    if kind == "empty":
        return Behaviour("regex", regex=EMPTY)
    raise B4GError(f"a proposal of unknown class {kind!r}: expected fixed text, refusal, gibberish or empty")
