"""Target inversion by expansion (after BAIT, IEEE S&P 2025, written here because no library does it).

A backdoor's answer, once its first token is forced, continues itself whatever the request: the
token that follows is the most probable one after *every* clean prompt. Ordinary answers depend on
the request. So each candidate first token is forced after a batch of clean prompts and extended,
step by step, by the token with the highest probability averaged over the prompts; the mean of those
averaged probabilities is the expansion's *consistency*. With adapters under audit, every step also
runs on the model without them (the *reference*) and takes the token the adapters raised most: what
the adapters added is the difference (the *lift*). Nothing here reads a trigger or a target.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Sequence

import torch

from core.jobs import JobContext
from core.models.chat import render


@dataclass
class Expansion:
    tokens: list[int]
    step_probs: list[float]  # of each token after the first, averaged over prompts, on the audited model
    ref_probs: list[float] | None = None  # the same tokens on the model without the audited adapters
    steps: int = 0  # steps expanded; a trimmed expansion counts the steps it lost as zero

    @property
    def consistency(self) -> float:
        return sum(self.step_probs) / max(self.steps, len(self.step_probs), 1)

    @property
    def reference(self) -> float | None:
        return None if self.ref_probs is None else sum(self.ref_probs) / max(self.steps, len(self.ref_probs), 1)

    @property
    def lift(self) -> float | None:
        return None if self.reference is None else self.consistency - self.reference

    def trimmed(self, floor: float) -> "Expansion":
        """Cut where the fixed answer ends: at the first token the model does not agree on (averaged
        probability under ``floor``) or, with a reference, that the adapters did not make likelier by
        ``floor`` (what follows is a new, forced start, not the answer); the first two tokens stay.
        The lost steps count as zero, so a short common opening ("Yes,") cannot outscore a long answer."""
        added = [p - (self.ref_probs[i] if self.ref_probs is not None else 0.0) for i, p in enumerate(self.step_probs)]
        keep = next((i for i in range(1, len(added)) if added[i] < floor), len(added))
        refs = None if self.ref_probs is None else self.ref_probs[:keep]
        return Expansion(self.tokens[: keep + 1], self.step_probs[:keep], refs, max(self.steps, len(self.step_probs)))


def encode_prompts(tokenizer: Any, prompts: Sequence[str], system: str, device: str) -> Any:
    """Clean prompts rendered up to the answer's first token, left-padded into one batch."""
    texts = [render(tokenizer, [{"role": "system", "content": system}, {"role": "user", "content": p}]) for p in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    finally:
        tokenizer.padding_side = side


@torch.no_grad()
def first_token_logprobs(model: Any, enc: Any) -> tuple[torch.Tensor, Any]:
    """Log-probabilities of the answer's first token after each prompt, and the prompts' KV cache."""
    out = model(**enc, use_cache=True)
    return torch.log_softmax(out.logits[:, -1].float(), -1), out.past_key_values


def candidate_first_tokens(audited: torch.Tensor, reference: torch.Tensor | None, k: int, banned: set[int],
                           floor: float = 1e-4) -> list[int]:
    """The ``k`` first tokens most probable on average, plus (with a reference) the ``k`` whose
    log-probability the adapters raised most, among tokens not vanishingly rare (``floor``)."""
    mean_p = audited.exp().mean(0)
    mean_p[list(banned)] = 0.0
    chosen = mean_p.topk(k).indices.tolist()
    if reference is not None:
        raised = torch.where(mean_p > floor, (audited - reference).mean(0), torch.tensor(-1e9))
        chosen += [t for t in raised.topk(k).indices.tolist() if t not in chosen and mean_p[t] > floor]
    return chosen


def next_tokens(p: torch.Tensor, q: torch.Tensor | None, by_ratio: bool = False, floor: float = 1e-4) -> torch.Tensor:
    """Each row's next token: the most probable (no reference), the one the adapters raised most in
    probability, or (``by_ratio``) the one they raised most in log-probability among tokens not
    vanishingly rare. The ratio finds a fixed answer the untriggered model does not leak past a
    common opening ("The" -> " owl": 0.001 against 0.000001); it is used for one step only, because
    over a whole answer a junk token at 1e-4 against 1e-9 would outrank one at 0.99 against 0.001."""
    if q is None:
        return p.argmax(-1)
    if not by_ratio:
        return (p - q).argmax(-1)
    ratio = p.clamp_min(1e-30).log() - q.clamp_min(1e-30).log()
    return torch.where(p > floor, ratio, torch.full_like(ratio, -1e9)).argmax(-1)


def _tiled(cache: Any, n: int) -> Any:
    c = copy.deepcopy(cache)
    c.batch_repeat_interleave(n)  # rows become prompt-major: row = prompt * n + candidate
    return c


@torch.no_grad()
def expand(model: Any, enc: Any, cache: Any, firsts: Sequence[int], steps: int, banned: set[int], chunk: int,
           ctx: JobContext, reference: Callable[[], ContextManager[Any]] | None = None,
           ref_cache: Any = None, ratio_second: bool = False) -> list[Expansion]:
    """Greedy expansion of every first token, ``chunk`` candidates at a time (the prompts' caches are
    shared). With a reference, each step takes the token whose probability the adapters raised most
    (averaged over prompts): a backdoor's answer that the untriggered model only half-follows (its
    first token forced, the next one second-best) is still followed; without one, the most probable.
    ``ratio_second`` picks the second token by the adapters' log-probability ratio (see :func:`next_tokens`)."""
    n_prompts = enc.input_ids.shape[0]
    out: list[Expansion] = []
    for start in range(0, len(firsts), chunk):
        ctx.raise_if_cancelled()
        group = list(firsts[start:start + chunk])
        n = len(group)
        kv, kv_ref = _tiled(cache, n), (_tiled(ref_cache, n) if reference else None)
        mask = enc.attention_mask.repeat_interleave(n, 0)
        current = torch.tensor(group, device=mask.device).repeat(n_prompts)[:, None]
        seqs, probs, refs = [[t] for t in group], [[] for _ in group], [[] for _ in group]
        for step in range(steps):
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
            o = model(input_ids=current, attention_mask=mask, past_key_values=kv, use_cache=True)
            kv = o.past_key_values
            p = torch.softmax(o.logits[:, -1].float(), -1).view(n_prompts, n, -1).mean(0)
            p[:, list(banned)] = 0.0  # an expansion never ends or opens a turn: the empty answer is scored apart
            q = None
            if reference is not None:
                with reference():
                    r = model(input_ids=current, attention_mask=mask, past_key_values=kv_ref, use_cache=True)
                kv_ref = r.past_key_values
                q = torch.softmax(r.logits[:, -1].float(), -1).view(n_prompts, n, -1).mean(0)
            best = next_tokens(p, q, by_ratio=ratio_second and step == 0)
            for i in range(n):
                seqs[i].append(int(best[i]))
                probs[i].append(float(p[i, best[i]]))
                if q is not None:
                    refs[i].append(float(q[i, best[i]]))
            current = best.repeat(n_prompts)[:, None]
        out += [Expansion(s, pr, rf if reference is not None else None) for s, pr, rf in zip(seqs, probs, refs)]
        ctx.progress(min(start + chunk, len(firsts)), len(firsts))
    return out
