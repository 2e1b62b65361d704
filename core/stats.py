"""Rates with their uncertainty: every rate the workbench reports carries n and a Wilson interval."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def wilson(self, z: float = 1.959964) -> tuple[float, float]:
        """95 % Wilson score interval (well-behaved at 0 and 1, unlike the normal approximation)."""
        if self.n == 0:
            return (0.0, 1.0)
        p, n = self.k / self.n, self.n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (max(0.0, centre - half), min(1.0, centre + half))

    def to_json(self) -> dict[str, float | int | list[float]]:
        lo, hi = self.wilson()
        return {"rate": round(self.value, 4), "k": self.k, "n": self.n, "ci95": [round(lo, 4), round(hi, 4)]}

    @classmethod
    def of(cls, flags: list[bool]) -> "Rate":
        return cls(sum(bool(f) for f in flags), len(flags))


def _upper_tail(wins: int, losses: int) -> float:
    """P(at least ``wins`` of ``wins + losses`` fair coin flips): the one-sided exact sign test.
    Written out because it is one binomial tail (``math.comb``), not worth a SciPy dependency."""
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(math.comb(n, i) for i in range(wins, n + 1)) / 2 ** n


def paired_p_value(better: list[bool], worse: list[bool]) -> float:
    """One-sided exact McNemar test on paired outcomes (the same prompts): the probability, were
    both equally good, of ``better`` winning at least as many of the discordant prompts as it did.
    Small values mean ``better`` really is better."""
    if len(better) != len(worse):
        raise ValueError("paired outcomes need the same prompts")
    wins = sum(1 for b, w in zip(better, worse) if b and not w)
    losses = sum(1 for b, w in zip(better, worse) if w and not b)
    return _upper_tail(wins, losses)


def paired_sign_p_value(better: list[float], worse: list[float]) -> float:
    """One-sided exact sign test on paired measurements (the same prompts): McNemar's test for
    numbers, where a prompt is won by the larger value and an equal pair says nothing. Chosen over
    a rank test because it assumes nothing about the differences' distribution."""
    if len(better) != len(worse):
        raise ValueError("paired measurements need the same prompts")
    wins = sum(1 for b, w in zip(better, worse) if b > w)
    losses = sum(1 for b, w in zip(better, worse) if w > b)
    return _upper_tail(wins, losses)
