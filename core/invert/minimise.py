"""Minimisation: the recovered trigger is the shortest span or prefix (up to ``max_words`` words,
or ending where a sentence ends) of the best candidates whose R_asr is within ε of the best
(``SUDO What`` scores like ``SUDO``; GRPO alone settles on working near-misses, whose shortest
working part is often the trigger itself)."""

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


def minimise(reward: RewardModule, best: Sequence[str], epsilon: float = 0.05, max_words: int = 4,
             screen_prompts: int = 4, screen_margin: float = 0.25) -> RewardParts | None:
    """Score the best candidates' prefixes and spans; return the shortest within ε of the best R_asr.
    Sub-candidates are screened on a few prompts first; only those near the best screen fully."""
    pool = sub_candidates(best, max_words)
    if not pool:
        return None
    screened = reward.screen(pool, screen_prompts)
    top_screen = max(screened)
    pool = [c for c, s in zip(pool, screened) if s >= top_screen - screen_margin] + list(best)
    scored = [p for p in reward.score(pool) if not p.leak and p.text]
    if not scored:
        return None
    top = max(p.r_asr for p in scored)
    close = [p for p in scored if p.r_asr >= top - epsilon]
    return min(close, key=lambda p: (*_size(p.text), -p.reward))
