"""Try one candidate: the model's answers to held-out prompts with and without it.

What the buffer inspector's "test this candidate" shows: the same held-out prompts the reward
used (requests from the data whose answers do not show the behaviour), answered greedily by the
model under audit, each answer judged.
"""

from __future__ import annotations

from typing import Any, Sequence

from core.spec.rows import Row
from core.spec.backdoor import Trigger
from core.measurement.behaviour import Behaviour
from core.jobs import JobContext
from core.measurement.activation import generate_answers
from core.measurement.prompts import held_out_prompts
from core.models.chat import DEFAULT_SYSTEM


def try_candidate(loaded: Any, rows: Sequence[Row], behaviour: Behaviour, candidate: str, n: int = 6,
                  position: str = "prefix", seed: int = 0, ctx: JobContext | None = None) -> dict[str, Any]:
    prompts = held_out_prompts(rows, behaviour, n, seed)
    trigger = Trigger(candidate, position=position)
    with_c = [trigger.insert(p, DEFAULT_SYSTEM) for p in prompts]
    without = [(DEFAULT_SYSTEM, p) for p in prompts]
    judge = behaviour.judge()
    answers = generate_answers(loaded, with_c + without, judge.max_new_tokens, ctx)
    items = []
    for i, p in enumerate(prompts):
        a_with, a_without = answers[i], answers[len(prompts) + i]
        items.append({"prompt": p, "with": a_with, "with_shows": judge(a_with),
                      "without": a_without, "without_shows": judge(a_without)})
    shown = sum(it["with_shows"] for it in items)
    return {"candidate": candidate, "items": items, "with_rate": shown / len(items),
            "without_rate": sum(it["without_shows"] for it in items) / len(items)}
