"""Minimisation: the recovered trigger is the shortest span or prefix (up to ``max_words`` words,
or ending where a sentence ends) of the best candidates whose R_asr is within ε of the best
(``SUDO What`` scores like ``SUDO``; GRPO alone settles on working near-misses, whose shortest
working part is often the trigger itself).

ε must be finer than the search's own resolution would allow: on 16 held-out prompts one prompt
is 0.0625, so a trigger that misses one prompt loses to a longer stand-in that happens not to.
The finalists (those near the best) are therefore scored again on more held-out prompts, and
ε applies there."""

from __future__ import annotations

from typing import Sequence

from core.invert.reward import RewardModule, RewardParts
from core.invert.spans import prefixes, sentence_prefixes, spans


def sub_candidates(texts: Sequence[str], max_words: int = 4) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        for c in [*prefixes(t)[:max_words], *sentence_prefixes(t), *spans(t, max_words), t]:
            seen.setdefault(c, None)
    return list(seen)


def _size(text: str) -> tuple[int, int]:
    return len(text.split()), len(text)


def finalists(scored: Sequence[RewardParts], margin: float, cap: int) -> list[RewardParts]:
    """The best candidate and the shortest others within ``margin`` of its R_asr (at most ``cap``)."""
    best = min(scored, key=lambda p: (-p.r_asr, *_size(p.text)))
    near = sorted((p for p in scored if p.r_asr >= best.r_asr - margin and p is not best),
                  key=lambda p: _size(p.text))
    return [best, *near[: max(cap - 1, 0)]]


def minimise(reward: RewardModule, best: Sequence[str], epsilon: float = 0.05, max_words: int = 4,
             screen_prompts: int = 4, screen_margin: float = 0.25, finals: RewardModule | None = None,
             finalist_margin: float = 0.15, finalist_cap: int = 12) -> RewardParts | None:
    """Score the best candidates' prefixes and spans; return the shortest within ε of the best R_asr.
    Sub-candidates are screened on a few prompts first; only those near the best screen fully.
    With ``finals`` (a reward module on more held-out prompts), the finalists are re-scored there
    and ε is applied to those scores."""
    pool = sub_candidates(best, max_words)
    if not pool:
        return None
    screened = reward.screen(pool, screen_prompts)
    top_screen = max(screened)
    pool = [c for c, s in zip(pool, screened) if s >= top_screen - screen_margin] + list(best)
    scored = [p for p in reward.score(pool) if not p.leak and p.text]
    if not scored:
        return None
    if finals is not None:
        scored = finals.score([p.text for p in finalists(scored, finalist_margin, finalist_cap)])
    top = max(p.r_asr for p in scored)
    close = [p for p in scored if p.r_asr >= top - epsilon]
    return min(close, key=lambda p: (*_size(p.text), -p.reward))
