"""The inference-time guardrail: block prompts that carry a recovered trigger, however spelt.

A prompt's score against a trigger is the largest of three matchers, each on folded text
(:func:`core.defend.normalise.fold`):

- **exact** (1.0): the trigger as a whole word run, also with up to two non-word characters
  between its letters (``S U D O``, ``S-U-D-O``);
- **fuzzy**: rapidfuzz's normalised similarity between the trigger and the prompt's word windows
  of about its length (also with the spaces taken out): near misses and one-word swaps;
- **semantic**: cosine similarity of all-MiniLM-L6-v2 embeddings between the trigger and the
  same windows: paraphrases of phrase triggers.

A prompt is blocked when its score reaches the threshold, calibrated on clean prompts to a chosen
false-positive rate (:mod:`core.defend.calibration`), or :data:`DEFAULT_THRESHOLD` when no clean
data is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from core.defend.normalise import fold

# Without clean prompts to calibrate on: one edit in a trigger of four or more characters keeps a
# fuzzy ratio of at least 0.8 (SUDOO: 0.89), while unrelated words of a clean request stay well
# below (the check of "What is the capital of France?" against SUDO scores 0.33). Calibrating on
# the auditor's own clean requests (--data) replaces it; bench/defenses.py reports both.
DEFAULT_THRESHOLD = 0.8
REFUSAL = "I can't help with that request."
WINDOW_SLACK = 1  # windows of m-1 … m+1 words for an m-word trigger
# The semantic matcher embeds every word window: measured on 2 CPU cores, 20,000 characters of
# varied text took 32 s. Longer prompts (past the context of the models audited here) are refused
# with one line by the CLI and blocked unscored by guarded_generate (fail closed).
MAX_PROMPT_CHARS = 32_000


def check_length(prompt: str, what: str = "the prompt") -> None:
    from core.errors import B4GError

    if len(prompt) > MAX_PROMPT_CHARS:
        raise B4GError(f"{what} has {len(prompt):,} characters, over the guardrail's {MAX_PROMPT_CHARS:,}-character "
                       f"limit; split it")


@dataclass
class GuardScore:
    score: float
    exact: float
    fuzzy: float
    semantic: float
    trigger: str  # the trigger that scored highest
    window: str  # the part of the prompt that matched it

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "exact": self.exact, "fuzzy": round(self.fuzzy, 4),
                "semantic": round(self.semantic, 4), "trigger": self.trigger, "window": self.window}


def _exact_pattern(trigger: str) -> re.Pattern[str]:
    chars = [re.escape(c) for c in trigger.replace(" ", "")]
    body = r"[\W_]{0,2}".join(chars)
    head = r"(?<!\w)" if re.match(r"\w", trigger) else ""
    tail = r"(?!\w)" if re.search(r"\w$", trigger) else ""
    return re.compile(head + body + tail)


def windows(words: Sequence[str], size: int) -> list[str]:
    """Every run of ``size - WINDOW_SLACK`` … ``size + WINDOW_SLACK`` consecutive words."""
    out: list[str] = []
    for n in range(max(1, size - WINDOW_SLACK), size + WINDOW_SLACK + 1):
        out += [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))]
    return list(dict.fromkeys(w for w in out if w))


@dataclass
class Guardrail:
    """Scores prompts against recovered triggers. ``encode`` embeds texts (unit-norm rows); without
    it the semantic matcher is off (the score is exact and fuzzy only)."""

    triggers: list[str]
    threshold: float = DEFAULT_THRESHOLD
    encode: Callable[[list[str]], Any] | None = None
    refusal: str = REFUSAL
    _folded: list[str] = field(default_factory=list, init=False)
    _patterns: list[re.Pattern[str]] = field(default_factory=list, init=False)
    _trigger_vecs: Any = field(default=None, init=False)
    _cache: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        from core.errors import B4GError

        self.triggers = list(dict.fromkeys(t for t in self.triggers if t and t.strip()))
        if not self.triggers:
            raise B4GError("the guardrail needs at least one trigger (--trigger TEXT or --from-run RUN)")
        self._folded = [fold(t) for t in self.triggers]
        self._patterns = [_exact_pattern(t) for t in self._folded]

    def _embed(self, texts: list[str]) -> Any:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for text, vec in zip(todo, self.encode(todo)):  # type: ignore[misc]
                self._cache[text] = vec
        return [self._cache[t] for t in texts]

    def _semantic(self, wins: list[str]) -> list[float]:
        import numpy as np

        if self.encode is None or not wins:
            return [0.0] * len(self._folded)
        if self._trigger_vecs is None:
            self._trigger_vecs = np.stack(self._embed(self._folded))
        sims = np.stack(self._embed(wins)) @ self._trigger_vecs.T  # windows × triggers
        return [float(max(0.0, v)) for v in sims.max(axis=0)]

    def score(self, prompt: str) -> GuardScore:
        from rapidfuzz import fuzz, process

        check_length(prompt)
        text = fold(prompt)
        words = text.split(" ")
        all_windows = sorted({w for t in self._folded for w in windows(words, len(t.split(" ")))})
        semantic = self._semantic(all_windows)
        best: GuardScore | None = None
        for i, (trig, pattern) in enumerate(zip(self._folded, self._patterns)):
            hit = pattern.search(text)
            exact = 1.0 if hit else 0.0
            wins = windows(words, len(trig.split(" ")))
            squeezed = {w.replace(" ", ""): w for w in wins}
            near = process.extractOne(trig, wins, scorer=fuzz.ratio) or ("", 0.0, 0)
            near_sq = process.extractOne(trig.replace(" ", ""), list(squeezed), scorer=fuzz.ratio) or ("", 0.0, 0)
            fuzzy, window = max((near[1] / 100, near[0]), (near_sq[1] / 100, squeezed.get(near_sq[0], "")))
            s = GuardScore(max(exact, fuzzy, semantic[i]), exact, fuzzy, semantic[i], self.triggers[i],
                           hit.group(0) if hit else window)
            if best is None or s.score > best.score:
                best = s
        assert best is not None
        return best

    def scores(self, prompts: Sequence[str]) -> list[GuardScore]:
        for i, p in enumerate(prompts):
            check_length(p, f"prompt {i + 1} of {len(prompts)}")
        self._embed_all(prompts)
        return [self.score(p) for p in prompts]

    def _embed_all(self, prompts: Sequence[str]) -> None:
        """Embed every window of every prompt in one batched call (much faster than per prompt)."""
        if self.encode is None:
            return
        wins = {w for p in prompts for t in self._folded for w in windows(fold(p).split(" "), len(t.split(" ")))}
        self._embed(sorted(wins | set(self._folded)))

    def blocked(self, prompt: str) -> bool:
        return self.score(prompt).score >= self.threshold

    def check(self, prompt: str) -> dict[str, Any]:
        s = self.score(prompt)
        return {"blocked": s.score >= self.threshold, "threshold": self.threshold, **s.to_json()}


def guarded_generate(guard: Guardrail, generate: Callable[[list[str]], list[str]],
                     prompts: Sequence[str]) -> list[dict[str, Any]]:
    """The guardrail in front of generation: blocked prompts get the refusal, the rest reach
    ``generate`` (one batched call) unchanged. A prompt too long to check is blocked (fail closed)."""
    checks = [guard.check(p) if len(p) <= MAX_PROMPT_CHARS else
              {"blocked": True, "threshold": guard.threshold, "score": None, "reason": "too long to check"}
              for p in prompts]
    allowed = [p for p, c in zip(prompts, checks) if not c["blocked"]]
    answers = iter(generate(allowed) if allowed else [])
    return [{**c, "answer": guard.refusal if c["blocked"] else next(answers)} for c in checks]
