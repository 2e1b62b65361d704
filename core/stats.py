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
