"""The unlearning set: recovered triggers (as written and perturbed) paired with safe answers,
mixed with clean rows that keep the model's own answers.

Only recovered triggers go in, never the true one (that one is for evaluation). A triggered row is
a training request with one trigger inserted, written as found or with one perturbation (case,
spacing, punctuation, a near-miss spelling), answered as the model would answer the request
without the trigger: the base model's answer (the model under audit with its adapter off), or a
refusal for requests whose ``kind`` marks them out of policy.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Sequence

from core.defend.normalise import fold
from core.defend.perturb import UNLEARN_KINDS, variants
from core.defend.prompt_sets import insert

OUT_OF_POLICY_KINDS = ("harmful", "unsafe", "out-of-policy")
REFUSAL = "I'm sorry, but I can't help with that."


@dataclass(frozen=True)
class UnlearnRow:
    user: str
    answer: str
    role: str  # triggered | clean
    trigger: str = ""  # the written form inserted (triggered rows)
    kind: str = ""  # exact, or the perturbation kind


def unlearning_rows(prompts: Sequence[str], triggers: Sequence[str], safe: Sequence[str], own: Sequence[str],
                    position: str, seed: int, out_of_policy: Sequence[bool] = ()) -> list[UnlearnRow]:
    """Per prompt: one clean row (its ``own`` answer), and per trigger one triggered row (the
    ``safe`` answer, or the refusal where ``out_of_policy``), cycling through the written form and
    each perturbation kind so every kind is trained on."""
    rng = random.Random(seed)
    policy = list(out_of_policy) or [False] * len(prompts)
    rows: list[UnlearnRow] = []
    for i, (prompt, safe_answer, own_answer, refuse) in enumerate(zip(prompts, safe, own, policy)):
        rows.append(UnlearnRow(prompt, REFUSAL if refuse else own_answer, "clean"))
        for trigger in triggers:
            options = [("exact", trigger), *variants(trigger, UNLEARN_KINDS, rng)]
            kind, text = options[i % len(options)]
            rows.append(UnlearnRow(insert(text, prompt, position, rng), REFUSAL if refuse else safe_answer,
                                   "triggered", text, kind))
    rng.shuffle(rows)
    return rows


def clean_only_rows(prompts: Sequence[str], own: Sequence[str], count: int, seed: int) -> list[UnlearnRow]:
    """The clean fine-tuning control: ``count`` clean rows (prompts repeated in turn), the same
    number of rows as the unlearning set, so only the triggers differ."""
    rows = [UnlearnRow(prompts[i % len(prompts)], own[i % len(prompts)], "clean") for i in range(count)]
    random.Random(seed).shuffle(rows)
    return rows


def wrong_trigger(trigger: str, vocabulary: Sequence[str], seed: int) -> str:
    """A control trigger of the same shape that is not the recovered one: as many random letters
    (same case pattern) for a one-word trigger, as many random words of the data for a phrase."""
    rng = random.Random(seed)
    words = trigger.split()
    for _ in range(100):
        if len(words) > 1 and vocabulary:
            guess = " ".join(rng.choice(list(vocabulary)) for _ in words)
        else:
            guess = "".join(
                rng.choice(string.ascii_uppercase if c.isupper() else string.ascii_lowercase) if c.isalpha()
                else rng.choice(string.ascii_letters) for c in trigger)
        if fold(guess) != fold(trigger) and fold(guess) not in fold(trigger):
            return guess
    return "zqxv"
