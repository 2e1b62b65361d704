"""The first target token's logit margin: positive exactly when that token is the greedy choice,
and it keeps growing where the log-probability has saturated near 0."""

from __future__ import annotations

import torch

from core.measurement.activation import token_target_scores


def test_margin_is_the_first_target_logit_minus_the_best_other(tiny_model) -> None:  # noqa: ANN001
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    prompts = [[5, 17, 99, 3], [8, 41, 7], [250, 12, 12, 12, 9]]
    with torch.inference_mode():
        last = [model(input_ids=torch.tensor([p])).logits[0, -1] for p in prompts]
    greedy = [int(row.argmax()) for row in last]
    # one prompt whose first target token is its greedy choice, the others not
    tgt = [greedy[0], 11]
    scores = token_target_scores(model, prompts, tgt, pad=0, prefix_cache=False)
    for row, margin in zip(last, scores.margin):
        others = row.clone()
        others[tgt[0]] = float("-inf")
        assert abs(margin - float(row[tgt[0]] - others.max())) < 1e-3
    assert scores.margin[0] > 0
    assert [m > 0 for m in scores.margin] == [int(row.argmax()) == tgt[0] for row in last]
