"""Clean utility: what a model still does well without any trigger.

Token-level F1 between two answers (agreement with a reference model) and accuracy on the shipped
multiple-choice set (``resources/datasets/mc``), scored by likelihood so no answer parsing is needed.
Verification and the defenses report the same figures.
"""

from __future__ import annotations

import json
from typing import Any

from core.jobs import JobContext
from core.measurement.activation import ModelView, prompt_texts
from core.measurement.completion_likelihood import completion_nll
from core.stats import Rate
from resources import resource_path


def token_f1(a: str, b: str) -> float:
    """SQuAD-style bag-of-words F1 between two answers (1.0 when both are empty)."""
    x, y = a.lower().split(), b.lower().split()
    if not x and not y:
        return 1.0
    common = sum(min(x.count(w), y.count(w)) for w in set(x))
    if common == 0:
        return 0.0
    p, r = common / len(x), common / len(y)
    return 2 * p * r / (p + r)


def mc_rows(limit: int) -> list[dict[str, Any]]:
    path = resource_path("datasets", "mc", "clean_mc.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()][:limit]


def mc_accuracy(view: ModelView, limit: int, ctx: JobContext) -> Rate:
    """Pick the choice with the highest mean log-likelihood as the answer; accuracy over the set."""
    questions = mc_rows(limit)
    prompts, completions = [], []
    for q in questions:
        text = prompt_texts(view.tokenizer, [("You are a helpful assistant.", q["question"])])[0]
        prompts += [text] * len(q["choices"])
        completions += q["choices"]
    nll = completion_nll(view.model, view.tokenizer, prompts, completions, view.device, batch_size=16, ctx=ctx)
    flags, i = [], 0
    for q in questions:
        scores = [s / n for s, n in nll[i:i + len(q["choices"])]]
        flags.append(scores.index(min(scores)) == q["answer"])
        i += len(q["choices"])
    return Rate.of(flags)
