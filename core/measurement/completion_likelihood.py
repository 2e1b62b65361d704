"""Teacher-forced log-likelihoods of completions given prompts (perplexity, multiple choice)."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from core.jobs import JobContext
from core.measurement.activation import left_pad


@torch.inference_mode()
def completion_nll(model: Any, tokenizer: Any, prompts: Sequence[str], completions: Sequence[str],
                   device: str = "cpu", batch_size: int = 8, ctx: JobContext | None = None) -> list[tuple[float, int]]:
    """(summed NLL, token count) of each completion after its prompt (both plain text, the prompt
    already rendered with the chat template)."""
    p_ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    c_ids = tokenizer(list(completions), add_special_tokens=False)["input_ids"]
    out: list[tuple[float, int]] = []
    for i in range(0, len(p_ids), batch_size):
        if ctx:
            ctx.raise_if_cancelled()
        seqs = [p + c for p, c in zip(p_ids[i:i + batch_size], c_ids[i:i + batch_size])]
        ids, mask = left_pad(seqs, tokenizer.pad_token_id)
        ids, mask = ids.to(device), mask.to(device)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask, position_ids=pos).logits[:, :-1].float(), -1)
        token_logp = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        for row, (p, c) in enumerate(zip(p_ids[i:i + batch_size], c_ids[i:i + batch_size])):
            n = max(1, min(len(c), len(p) + len(c) - 1))  # an empty prompt leaves the first token unscored
            out.append((-float(token_logp[row, -n:].sum()), n))
    return out


def perplexity(nlls: Sequence[tuple[float, int]]) -> float:
    total = sum(n for _, n in nlls)
    return float(torch.exp(torch.tensor(sum(s for s, _ in nlls) / max(1, total))))
