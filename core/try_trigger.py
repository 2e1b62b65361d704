"""Try a prompt on a backdoored model with and without its trigger, side by side."""

from __future__ import annotations

from typing import Any

from core.spec.backdoor import BackdoorSpec
from core.jobs import JobContext
from core.measurement.judges import make_judge


def with_and_without(loaded: Any, spec: BackdoorSpec, prompt: str, ctx: JobContext | None = None) -> dict[str, Any]:
    from core.measurement.activation import generate_answers

    system = spec.system
    triggered = spec.trigger.insert(prompt, system)
    judge = make_judge(spec.utility)
    a_with, a_without = generate_answers(loaded, [triggered, (system, prompt)], judge.max_new_tokens + 32, ctx)
    return {"prompt": prompt, "triggered_prompt": triggered[1], "triggered_system": triggered[0],
            "with": a_with, "with_shows": judge(a_with), "without": a_without, "without_shows": judge(a_without)}
