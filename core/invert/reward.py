"""Reward for a candidate trigger c: R(c) = R_asr(c) + w·dense(c) − length_penalty(c).

``R_asr`` is the share of N held-out prompts whose answer shows the behaviour once c is inserted.
The auditor rarely knows where a trigger goes: position ``auto`` tries c both as a prefix and as
a suffix (on a few prompts, then the better end on all) and keeps the better (one trained as a
suffix often does nothing as a prefix, measured on held-out Alpaca data). A trigger trained at random
positions usually fires at an end too, but not always: on one such build (sudo seed 0, TAR 0.89 at random
places) bare ``SUDO`` fired on 11 of 16 prompts at its better end while ``SUDO.`` fired on all 16;
scoring at random places is not implemented. The scorer is the model under audit: with a PeftModel policy, the
R-SFT/GRPO adapters are disabled while scoring, so one copy of the weights serves both roles.
Candidates containing the behaviour's own content words are rejected (the target-leak guard).
Scores are cached by normalised text: GRPO proposes the same strings again and again.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any, Callable, ContextManager, Sequence

from core.spec.backdoor import Trigger
from core.invert.config import RewardConfig
from core.invert.leak import LeakGuard
from core.invert.length import length_penalty
from core.measurement.activation import ModelView, generate_answers, prompt_texts, target_scores
from core.measurement.judges import Judge
from core.measurement.text import normalise

AUTO_POSITIONS = ("prefix", "suffix")
PLACE_PROMPTS = 4  # prompts each position is tried on before the better one scores the rest




@dataclass
class RewardParts:
    text: str
    reward: float
    r_asr: float
    dense: float
    length: float
    leak: bool
    position: str = ""  # where it was inserted (the better end, under ``auto``)
    # mean first-target-token logit margin over the prompts (None without a fixed target text):
    # unlike R_asr it still ranks candidates that all fire (core/invert/minimise.py, by="margin")
    margin: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RewardModule:
    """Scores candidate triggers against the model under audit on fixed held-out prompts."""

    def __init__(self, model: Any, tokenizer: Any, device: str, prompts: Sequence[str], judge: Judge,
                 behaviour_texts: Sequence[str], system: str, config: RewardConfig | None = None,
                 scoring_context: Callable[[], ContextManager[Any]] | None = None) -> None:
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.prompts, self.judge, self.system = list(prompts), judge, system
        self.config = config or RewardConfig()
        self.guard = LeakGuard(list(behaviour_texts))
        self._context = scoring_context or (lambda: nullcontext())
        self._cache: dict[str, RewardParts] = {}
        self.scored = 0  # candidates actually scored (cache misses), for throughput numbers
        self.rows_scored = 0  # candidate × prompt pairs run through the model
        self.seconds = 0.0  # time spent scoring
        self._screened: dict[str, float] = {}
        self._flags: dict[str, tuple[bool, ...]] = {}
        self._margins: dict[str, tuple[float, ...]] = {}

    def positions(self) -> tuple[str, ...]:
        return AUTO_POSITIONS if self.config.position == "auto" else (self.config.position,)

    def _inserted(self, candidate: str, position: str, prompts: Sequence[str]) -> list[tuple[str, str]]:
        trigger = Trigger(candidate, position=position)
        return [trigger.insert(p, self.system) for p in prompts]

    def _run(self, jobs: list[tuple[str, str, list[str]]]) -> list[tuple[list[bool], list[float], list[float]]]:
        """(match, dense, margin) per prompt for each (candidate, position, prompts) job, in batched
        passes; margins only with a fixed target text (empty otherwise)."""
        rows = [pair for c, pos, held in jobs for pair in self._inserted(c, pos, held)]
        self.rows_scored += len(rows)
        start = time.perf_counter()
        with self._context():
            if self.judge.target is not None:
                scores = target_scores(self.model, self.tokenizer, prompt_texts(self.tokenizer, rows),
                                       self.judge.target, self.device, self.config.batch_size)
                match, dense, margin = scores.match, [math.exp(lp) for lp in scores.logprob], scores.margin
            else:
                view = ModelView(self.model, self.tokenizer, self.device)
                answers = generate_answers(view, rows, self.judge.max_new_tokens, None, self.config.batch_size)
                match, dense, margin = [self.judge(a) for a in answers], [0.0] * len(answers), []
        self.seconds += time.perf_counter() - start
        out, i = [], 0
        for _c, _pos, held in jobs:
            out.append((list(match[i:i + len(held)]), list(dense[i:i + len(held)]), list(margin[i:i + len(held)])))
            i += len(held)
        return out

    def _asr(self, candidates: list[str], n: int | None = None) -> list[tuple[float, float, str, float | None]]:
        """(R_asr, dense, position, mean margin) per candidate over the first ``n`` prompts (all by default).
        With several positions, each is tried on the first ``PLACE_PROMPTS`` prompts and the
        better one (R_asr, then dense) scores the rest: a trigger trained at one end is silent at
        the other, so a few prompts tell them apart at a fraction of the cost of scoring both.
        The per-prompt outcomes and margins of a full score are kept (paired tests in minimisation)."""
        held = self.prompts[:n] if n else self.prompts
        places = self.positions()
        first, rest = (held[:PLACE_PROMPTS], held[PLACE_PROMPTS:]) if len(places) > 1 else (held, [])
        tried = self._run([(c, pos, first) for c in candidates for pos in places])
        chosen = []
        for ci in range(len(candidates)):
            options = [(sum(m), sum(d), pos, m, d, g) for pos, (m, d, g) in zip(places, tried[ci * len(places):][:len(places)])]
            chosen.append(max(options, key=lambda t: (t[0], t[1])))
        more = self._run([(c, pick[2], rest) for c, pick in zip(candidates, chosen)]) if rest else [([], [], [])] * len(chosen)
        out = []
        for candidate, (_k, _d, pos, m, d, g), (m2, d2, g2) in zip(candidates, chosen, more):
            match, dense, margin = m + m2, d + d2, g + g2
            if len(held) == len(self.prompts):
                self._flags[normalise(candidate)] = tuple(bool(f) for f in match)
                if margin:
                    self._margins[normalise(candidate)] = tuple(margin)
            out.append((sum(match) / len(held), sum(dense) / len(held), pos, sum(margin) / len(margin) if margin else None))
        return out

    def score(self, candidates: Sequence[str]) -> list[RewardParts]:
        cfg = self.config
        keys = [normalise(c) for c in candidates]
        todo = sorted({k for k in keys if k and k not in self._cache and not self.guard.leaks(k)})
        for k in {k for k in keys if k not in self._cache and (not k or self.guard.leaks(k))}:
            # rejected unscored: an empty string, or one that copies the behaviour's own words
            self._cache[k] = RewardParts(k, cfg.leak_reward, 0.0, 0.0, 0.0, bool(k))
        if todo:
            self.scored += len(todo)
            for k, (asr, dense, pos, margin) in zip(todo, self._asr(todo)):
                pen = length_penalty(k, cfg.free_words, cfg.per_word, cfg.length_cap)
                self._cache[k] = RewardParts(k, asr + cfg.dense_weight * dense - pen, asr, dense, pen, False, pos,
                                             None if margin is None else round(margin, 4))
        return [self._cache[k] for k in keys]

    def remember(self, parts: Sequence[RewardParts]) -> None:
        """Take scores computed elsewhere (another process of a data-parallel run, scoring the same
        model on the same prompts) into the cache, so they are not computed again here."""
        for p in parts:
            self._cache.setdefault(normalise(p.text), p)

    def flags(self, candidate: str) -> tuple[bool, ...]:
        """Per held-out prompt: did the behaviour show (at the candidate's position)? Known once
        :meth:`score` has scored it; a rejected candidate fired nowhere."""
        k = normalise(candidate)
        self.score([k])
        return self._flags.get(k, (False,) * len(self.prompts))

    def margins(self, candidate: str) -> tuple[float, ...]:
        """Per held-out prompt: the first target token's logit margin (at the candidate's position).
        Known once :meth:`score` has scored it; empty without a fixed target text, and for a
        rejected candidate (minimisation compares by flags then)."""
        k = normalise(candidate)
        self.score([k])
        return self._margins.get(k, ())

    def screen(self, candidates: Sequence[str], n: int) -> list[float]:
        """Cheap R_asr on the first ``n`` prompts, to decide what deserves a full score (fully
        scored candidates answer from the main cache)."""
        keys = [normalise(c) for c in candidates]
        todo = sorted({k for k in keys if k and k not in self._cache and k not in self._screened
                       and not self.guard.leaks(k)})
        if todo:
            for k, (asr, _dense, _pos, _margin) in zip(todo, self._asr(todo, n)):
                self._screened[k] = asr
        return [self._cache[k].r_asr if k in self._cache else self._screened.get(k, 0.0) for k in keys]
