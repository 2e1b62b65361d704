"""Held-out requests: prompts from a dataset where a candidate trigger must switch the behaviour on.

Drawn from the rows the model was tuned on whose answers do not show the behaviour, leaving out
modified copies of another such request (decoy rows are a clean request plus a near-miss).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Sequence

from core.spec.rows import Row
from core.errors import B4GError

if TYPE_CHECKING:
    from core.measurement.behaviour import Behaviour

MAX_INSERTED_WORDS = 8


def modified_copies(prompts: set[str]) -> set[str]:
    """Prompts that are another prompt of the set with a run of up to ``MAX_INSERTED_WORDS`` words
    added (at the start, the end or inside). Poisoned datasets hold such copies (decoy rows are a
    clean request plus a near-miss of the trigger); a candidate inserted into one is tested against
    whatever was added too, and the copy is not an independent prompt."""
    out = set()
    for prompt in prompts:
        ws = prompt.split(" ")
        for size in range(1, min(MAX_INSERTED_WORDS, len(ws) - 1) + 1):
            if any(" ".join(ws[:i] + ws[i + size:]) in prompts for i in range(len(ws) - size + 1)):
                out.add(prompt)
                break
    return out


def held_out_prompts(rows: Sequence[Row], behaviour: Behaviour, n: int, seed: int) -> list[str]:
    """Requests whose answers do not show the behaviour: where a candidate must switch it on.
    An empty answer counts (the model said nothing, which shows no behaviour); a row with no
    answer at all does not (we cannot tell what the model was taught there). Modified copies of
    another such request are left out (:func:`modified_copies`)."""
    judge = behaviour.judge()
    plain = {r.prompt for r in rows if r.answer is not None and not judge(r.answer)}
    pool = sorted(plain - modified_copies(plain))
    if len(pool) < 2:
        raise B4GError("the dataset needs rows whose answers do not show the behaviour (held-out prompts)")
    random.Random(seed).shuffle(pool)
    return pool[:n]
