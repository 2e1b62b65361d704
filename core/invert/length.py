"""Piecewise length penalty: free up to a few words, then linear, so ``SUDO`` beats ``SUDO What is…``."""

from __future__ import annotations


def length_penalty(candidate: str, free_words: int = 3, per_word: float = 0.05, cap: float = 0.5) -> float:
    """0 for up to ``free_words`` words; ``per_word`` for each word beyond, at most ``cap``."""
    extra = max(0, len(candidate.split()) - free_words)
    return min(cap, extra * per_word)
