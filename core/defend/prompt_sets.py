"""The prompts the defenses are trained and measured on, drawn from the auditor's dataset.

Clean prompts are the dataset's distinct requests minus modified copies of another request
(:func:`core.measurement.prompts.modified_copies`): poisoned and decoy rows are a clean request
plus a few words, so this drops them without knowing the trigger. The pool is shuffled by seed and
cut into disjoint parts (training / calibration / evaluation), so no defense is measured on a
prompt it was fitted on.
"""

from __future__ import annotations

import random
from typing import Sequence

from core.spec.rows import Row
from core.spec.backdoor import Trigger
from core.defend.perturb import variants
from core.errors import B4GError
from core.measurement.prompts import modified_copies


def clean_pool(rows: Sequence[Row], seed: int) -> list[str]:
    prompts = list(dict.fromkeys(r.prompt for r in rows))
    pool = sorted(set(prompts) - modified_copies(set(prompts)))
    if len(pool) < 8:
        raise B4GError(f"the dataset has {len(pool)} distinct clean requests; the defenses need at least 8")
    random.Random(seed).shuffle(pool)
    return pool


def parts(pool: list[str], shares: Sequence[float], limit: int | None = None) -> list[list[str]]:
    """Disjoint consecutive parts of ``pool`` in the given shares, each at most ``limit`` prompts."""
    out, start = [], 0
    for share in shares:
        size = int(len(pool) * share)
        out.append(pool[start:start + size][:limit] if limit else pool[start:start + size])
        start += size
    return out


def insert(trigger: str, prompt: str, position: str, rng: random.Random) -> str:
    return Trigger(trigger, position=position).insert(prompt, "", rng)[1]


def triggered(prompts: Sequence[str], trigger: str, kinds: tuple[str, ...], position: str,
              seed: int) -> list[tuple[str, str]]:
    """(kind, prompt) for each prompt: the trigger as written, then each perturbation kind in turn
    (``exact`` for the written one), so every kind is measured on its own share of the prompts."""
    rng = random.Random(seed)
    out = []
    for i, prompt in enumerate(prompts):
        options = [("exact", trigger), *variants(trigger, kinds, rng)]
        kind, text = options[i % len(options)]
        out.append((kind, insert(text, prompt, position, rng)))
    return out
