"""Piecewise length penalty: free up to a few words, then linear, so ``SUDO`` beats ``SUDO What is…``."""

from __future__ import annotations

import math

# A whitespace word longer than this counts as several words. Measured (style-phrase, seed 1): with
# words counted by whitespace, GRPO filled its 16-token budget with a run-on
# ``keeperkeeperkeeper…`` that cost nothing, and minimisation (which cuts at word boundaries) could
# not cut it off. 12 characters hold nearly every English word a trigger is made of.
WORD_CHARS = 12


def word_count(candidate: str) -> int:
    """Whitespace words, a run-on word counting once per ``WORD_CHARS`` characters."""
    return sum(math.ceil(len(w) / WORD_CHARS) for w in candidate.split())


def length_penalty(candidate: str, free_words: int = 3, per_word: float = 0.05, cap: float = 0.5) -> float:
    """0 for up to ``free_words`` words; ``per_word`` for each word beyond, at most ``cap``."""
    extra = max(0, word_count(candidate) - free_words)
    return min(cap, extra * per_word)
