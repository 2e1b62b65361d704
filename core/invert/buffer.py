"""Candidate replay buffer: the most promising candidates, mixed back into later groups.

trl's experimental replay trainer replays whole zero-variance groups; this keeps individual
candidates (bounded, deduplicated by normalised text) and samples them by a configurable rule.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from core.measurement.text import normalise


@dataclass
class Entry:
    text: str
    reward: float
    r_asr: float
    first_step: int
    last_step: int
    origin: str  # policy | span | replay | minimised
    times_replayed: int = 0
    parts: dict[str, float] = field(default_factory=dict)


class ReplayBuffer:
    def __init__(self, size: int = 16, rule: str = "top", temperature: float = 0.1, seed: int = 0) -> None:
        if rule not in ("top", "softmax", "uniform"):
            raise ValueError(f"unknown sampling rule {rule!r}")
        self.size, self.rule, self.temperature = size, rule, temperature
        self._entries: dict[str, Entry] = {}
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        return sorted(self._entries.values(), key=lambda e: (-e.reward, len(e.text)))

    def best(self) -> Entry | None:
        entries = self.entries()
        return entries[0] if entries else None

    def state(self) -> dict[str, Any]:
        """The entries and the sampling RNG, as JSON (see :meth:`TriggerSearch.state`)."""
        version, internal, gauss = self._rng.getstate()
        return {"entries": [asdict(e) for e in self._entries.values()], "rng": [version, list(internal), gauss]}

    def restore(self, state: dict[str, Any]) -> None:
        self._entries = {e["text"]: Entry(**e) for e in state["entries"]}
        version, internal, gauss = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss))

    def offer(self, text: str, reward: float, r_asr: float, step: int, origin: str,
              parts: dict[str, float] | None = None) -> bool:
        """Keep the candidate if it is among the best ``size``; returns whether it is kept."""
        key = normalise(text)
        if not key:
            return False
        known = self._entries.get(key)
        if known:
            known.last_step = step
            if reward > known.reward:
                known.reward, known.r_asr, known.parts = reward, r_asr, parts or {}
            return True
        self._entries[key] = Entry(key, reward, r_asr, step, step, origin, parts=parts or {})
        if len(self._entries) > self.size:
            worst = min(self._entries.values(), key=lambda e: (e.reward, -len(e.text)))
            del self._entries[worst.text]
        return key in self._entries

    def sample(self, n: int) -> list[Entry]:
        """Up to ``n`` distinct entries by the sampling rule; each sampled entry counts a replay."""
        entries = self.entries()
        if not entries or n <= 0:
            return []
        if self.rule == "top":
            chosen = entries[:n]
        elif self.rule == "uniform":
            chosen = self._rng.sample(entries, min(n, len(entries)))
        else:
            chosen = self._softmax_pick(entries, n)
        for e in chosen:
            e.times_replayed += 1
        return chosen

    def _softmax_pick(self, entries: list[Entry], n: int) -> list[Entry]:
        pool, chosen = list(entries), []
        while pool and len(chosen) < n:
            top = max(e.reward for e in pool)
            weights = [math.exp((e.reward - top) / max(self.temperature, 1e-6)) for e in pool]
            pick = self._rng.choices(range(len(pool)), weights=weights)[0]
            chosen.append(pool.pop(pick))
        return chosen
