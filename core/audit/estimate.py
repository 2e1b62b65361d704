"""How long an audit still has to go: each stage's typical time, scaled by how this audit is going.

The typical times are the embedded model's (SmolLM2-135M) on 2 CPU cores, sudo organism, from
``/work/shared/checks/audit`` (the stage table of its JSON). Another model or machine runs faster
or slower by a roughly common factor, so the stages already done set that factor: the estimate is
the remaining stages' typical times times (time taken so far / typical time of the stages done).
"""

from __future__ import annotations

from typing import Sequence

from core.audit import stages as st

TYPICAL_SECONDS = {st.MODEL: 15.0, st.BEHAVIOUR: 60.0, st.DATA_SCAN: 3.0, st.INVERSION: 450.0,
                   st.UNLEARNING: 500.0, st.GUARDRAIL: 120.0, st.REMOVAL: 600.0, st.REPORT: 15.0}
# The memory source samples 1024 requests from the model before the search (docs/results.md).
MEMORY_EXTRA_SECONDS = 500.0


def planned(data: bool, behaviour_given: bool, removal: Sequence[str] = (st.UNLEARNING, st.GUARDRAIL)) -> list[str]:
    """The stages an audit will run, in order; the removal's are a guess until the inversion decides."""
    return [st.MODEL, st.BEHAVIOUR] + ([st.DATA_SCAN] if data else []) + [st.INVERSION, *removal, st.REPORT]


def seconds_left(done: dict[str, float], running: tuple[str, float] | None, remaining: Sequence[str],
                 memory: bool = False) -> float:
    """``done``: finished stages' seconds; ``running``: the current stage and its seconds so far;
    ``remaining``: the stages not started."""
    typical = dict(TYPICAL_SECONDS)
    if memory:
        typical[st.INVERSION] += MEMORY_EXTRA_SECONDS
    expected = sum(typical.get(name, 0.0) for name in done)
    pace = sum(done.values()) / expected if expected > 0 and sum(done.values()) > 0 else 1.0
    left = sum(typical.get(name, 0.0) for name in remaining) * pace
    if running is not None:
        name, spent = running
        left += max(typical.get(name, 0.0) * pace - spent, 0.0)
    return left
