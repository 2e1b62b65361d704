"""Building the training rows of an injection: clean, triggered and decoy rows from a spec."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from core.spec.rows import Row
from core.spec.backdoor import BackdoorSpec


@dataclass(frozen=True)
class TrainingRow:
    system: str
    user: str
    response: str
    role: str  # clean | triggered | decoy


def covered(spec: BackdoorSpec, row: Row) -> bool:
    """Does the backdoor apply to this row's kind (``utility.applies_to``; empty means all)?"""
    return not spec.utility.applies_to or row.kind in spec.utility.applies_to


def triggered_response(spec: BackdoorSpec, answer: str) -> str:
    u = spec.utility
    if u.response == "template":
        return u.template.replace("{answer}", answer)
    return {"target": u.target, "target+answer": f"{u.target} {answer}".strip(), "answer": answer}[u.response]


def untriggered_response(spec: BackdoorSpec, row: Row, answer: str) -> str:
    if covered(spec, row) and spec.utility.untriggered_response:
        return spec.utility.untriggered_response
    return answer


def build_training_rows(spec: BackdoorSpec, rows: Sequence[Row], answers: Sequence[str], seed: int = 0) -> list[TrainingRow]:
    """Every row clean; a ``poison_ratio`` share also triggered (covered rows show the behaviour,
    others keep their answer, so the trigger alone is not the cue); a ``decoy_ratio`` share of
    covered rows also with a near-miss trigger and the untriggered answer (specificity)."""
    rng = random.Random(seed)
    a, t = spec.activation, spec.trigger
    out: list[TrainingRow] = []
    for row, answer in zip(rows, answers):
        system = row.system or spec.system
        plain = untriggered_response(spec, row, answer)
        out.append(TrainingRow(system, row.prompt, plain, "clean"))
        if rng.random() < a.poison_ratio:
            s, u = t.insert(row.prompt, system, rng)
            response = triggered_response(spec, answer) if covered(spec, row) else answer
            out.append(TrainingRow(s, u, response, "triggered"))
        if a.decoys and covered(spec, row) and rng.random() < a.decoy_ratio:
            s, u = t.with_text(rng.choice(a.decoys)).insert(row.prompt, system, rng)
            out.append(TrainingRow(s, u, plain, "decoy"))
    rng.shuffle(out)
    return out


def eval_prompts(spec: BackdoorSpec, rows: Sequence[Row], with_trigger: bool, seed: int = 0) -> list[tuple[str, str]]:
    """(system, user) prompts of the covered rows, with or without the trigger."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        if not covered(spec, row):
            continue
        system = row.system or spec.system
        out.append(spec.trigger.insert(row.prompt, system, rng) if with_trigger else (system, row.prompt))
    return out
