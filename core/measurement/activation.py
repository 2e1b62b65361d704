"""Measuring behaviour: teacher-forced target match (one forward pass) or generate-and-judge,
and TAR (the triggered activation rate) with and without a spec's trigger.

Teacher forcing is exact for prefix judges: greedy decoding starts with the target iff the
target's every token is the argmax given the tokens before it. Only the logits at the target
positions are computed (``logits_to_keep``), never the full vocabulary at every position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from core.spec.rows import Row
from core.spec.poison import eval_prompts
from core.spec.backdoor import BackdoorSpec
from core.jobs import JobContext
from core.measurement.judges import Judge, make_judge
from core.models.chat import GenerationOptions, chat, render
from core.stats import Rate

Prompt = tuple[str, str]  # (system, user)


@dataclass
class ModelView:
    """What measuring needs of a model: the module (base, adapted, or being trained), its
    tokenizer and device. A LoadedModel is one too."""

    model: Any
    tokenizer: Any
    device: str

    @classmethod
    def of(cls, loaded: Any, model: Any | None = None) -> "ModelView":
        return cls(loaded.model if model is None else model, loaded.tokenizer, loaded.device)

MAX_TARGET_TOKENS = 24


@dataclass
class TargetScores:
    match: list[bool]  # greedy answer starts with the target
    logprob: list[float]  # mean log-probability per target token (a dense signal)
    # the first target token's logit minus the best other token's: unlike the log-probability it
    # does not saturate near 0, so it still ranks strings that all fire (README, withheld poison)
    margin: list[float] = field(default_factory=list)


def prompt_texts(tokenizer: Any, prompts: Sequence[Prompt]) -> list[str]:
    return [render(tokenizer, [{"role": "system", "content": s}, {"role": "user", "content": u}]) for s, u in prompts]


def left_pad(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s)
        mask[i, width - len(s):] = 1
    return ids, mask


def _common_prefix(seqs: list[list[int]], keep: int) -> int:
    """Length of the token prefix every sequence shares, leaving at least ``keep`` tokens each."""
    limit = min(len(s) for s in seqs) - keep
    n = 0
    while n < limit and all(s[n] == seqs[0][n] for s in seqs):
        n += 1
    return n


def _forward_target_logits(model: Any, seqs: list[list[int]], pad: int, keep: int, device: str,
                           prefix_cache: bool) -> torch.Tensor:
    """Logits at the last ``keep`` positions of each sequence. The shared prefix (system message
    and user header) is run once and its KV cache repeated over the batch, so only the part that
    differs is computed per row."""
    shared = _common_prefix(seqs, keep + 1) if prefix_cache and len(seqs) > 1 else 0
    past = None
    if shared >= 4:
        from transformers import DynamicCache

        past = DynamicCache()
        model(input_ids=torch.tensor([seqs[0][:shared]], device=device), past_key_values=past, use_cache=True)
        past.batch_repeat_interleave(len(seqs))
    else:
        shared = 0
    ids, mask = left_pad([s[shared:] for s in seqs], pad)
    ids, mask = ids.to(device), mask.to(device)
    # Left padding sits between the cached prefix and each row's own tokens: positions count real
    # tokens only (as generate() does) and the mask hides the padding from every later token.
    pos = (mask.cumsum(-1) - 1).clamp(min=0) + shared
    full_mask = torch.cat([torch.ones((len(seqs), shared), dtype=mask.dtype, device=device), mask], -1)
    return model(input_ids=ids, attention_mask=full_mask, position_ids=pos, past_key_values=past,
                 use_cache=past is not None, logits_to_keep=keep).logits


def target_scores(model: Any, tokenizer: Any, texts: Sequence[str], target: str, device: str = "cpu",
                  batch_size: int = 16, ctx: JobContext | None = None, prefix_cache: bool = True) -> TargetScores:
    """Teacher-forced pass over prompt+target: greedy match and mean target log-prob per prompt."""
    tgt = tokenizer(target, add_special_tokens=False)["input_ids"][:MAX_TARGET_TOKENS]
    prompt_ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return token_target_scores(model, prompt_ids, tgt, tokenizer.pad_token_id, device, batch_size, ctx, prefix_cache)


@torch.inference_mode()
def token_target_scores(model: Any, prompt_ids: Sequence[list[int]], tgt: list[int], pad: int, device: str = "cpu",
                        batch_size: int = 16, ctx: JobContext | None = None,
                        prefix_cache: bool = True) -> TargetScores:
    """:func:`target_scores` on prompts already tokenized (searches that build token sequences)."""
    tgt_t = torch.tensor(tgt, device=device)
    match: list[bool] = []
    logprob: list[float] = []
    margin: list[float] = []
    for i in range(0, len(prompt_ids), batch_size):
        if ctx:
            ctx.raise_if_cancelled()
        seqs = [list(p) + tgt for p in prompt_ids[i:i + batch_size]]
        logits = _forward_target_logits(model, seqs, pad, len(tgt) + 1, device, prefix_cache)[:, :-1].float()
        logp = torch.log_softmax(logits, dim=-1).gather(-1, tgt_t.expand(len(seqs), -1).unsqueeze(-1)).squeeze(-1)
        match += (logits.argmax(-1) == tgt_t).all(-1).tolist()
        logprob += logp.mean(-1).tolist()
        first = logits[:, 0]
        margin += (first[:, tgt[0]] - first.scatter(-1, tgt_t[:1].expand(len(seqs), 1), float("-inf")).max(-1).values).tolist()
    return TargetScores(match, logprob, margin)


def activation_flags(loaded: Any, prompts: Sequence[Prompt], judge: Judge, ctx: JobContext | None = None,
                     batch_size: int = 16) -> list[bool]:
    """For each (system, user) prompt: does the model's greedy answer show the behaviour?"""
    if judge.target is not None:
        texts = prompt_texts(loaded.tokenizer, prompts)
        return target_scores(loaded.model, loaded.tokenizer, texts, judge.target, loaded.device,
                             batch_size, ctx).match
    return [judge(a) for a in generate_answers(loaded, prompts, judge.max_new_tokens, ctx, batch_size)]


def generate_answers(loaded: Any, prompts: Sequence[Prompt], max_new_tokens: int, ctx: JobContext | None = None,
                     batch_size: int = 16) -> list[str]:
    messages = [[{"role": "system", "content": s}, {"role": "user", "content": u}] for s, u in prompts]
    return chat(loaded, messages, GenerationOptions(max_new_tokens=max_new_tokens, batch_size=batch_size), ctx)


def measure_tar(loaded: Any, spec: BackdoorSpec, rows: list[Row], ctx: JobContext | None = None) -> tuple[Rate, Rate]:
    judge = make_judge(spec.utility)
    with_t = activation_flags(loaded, eval_prompts(spec, rows, True, spec.activation.seed), judge, ctx)
    without = activation_flags(loaded, eval_prompts(spec, rows, False), judge, ctx)
    return Rate.of(with_t), Rate.of(without)
