"""What the guardrail is compared with, on the same prompts and calibration.

- **keyword list**: the data scan's top spans (no inversion, no model), matched as a plain keyword
  filter does: case-insensitive whole words, without the guardrail's Unicode folding or spacing
  tolerance. It shows what the data alone and a simple filter achieve.
- **ONION-style perplexity filter** (Qi et al., 2021), with the model under audit as the language
  model: a word is suspicious when deleting it makes the prompt much more likely; a prompt's score
  is the largest such drop in log-perplexity over its words.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from core.jobs import JobContext

MAX_ONION_WORDS = 40  # longer prompts are scored on their first words (cost grows with each word)


class KeywordList:
    def __init__(self, keywords: Sequence[str]) -> None:
        self.keywords = [k for k in dict.fromkeys(keywords) if k and k.strip()]
        self._patterns = [re.compile(r"(?<!\w)" + re.escape(k.casefold()) + r"(?!\w)") for k in self.keywords]

    def score(self, prompt: str) -> float:
        text = prompt.casefold()
        return 1.0 if any(p.search(text) for p in self._patterns) else 0.0

    def scores(self, prompts: Sequence[str]) -> list[float]:
        return [self.score(p) for p in prompts]


def onion_scores(model: Any, tokenizer: Any, device: str, prompts: Sequence[str],
                 ctx: JobContext | None = None) -> list[float]:
    """Per prompt: max over its words of log-ppl(prompt) − log-ppl(prompt without that word)."""
    from core.measurement.completion_likelihood import completion_nll

    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for prompt in prompts:
        words = prompt.split()[:MAX_ONION_WORDS]
        start = len(texts)
        texts.append(" ".join(words))
        texts += [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))] if len(words) > 1 else []
        spans.append((start, len(texts)))
    nll = completion_nll(model, tokenizer, [""] * len(texts), texts, device, batch_size=32, ctx=ctx)
    log_ppl = [s / n for s, n in nll]
    return [max((log_ppl[a] - v for v in log_ppl[a + 1:b]), default=0.0) for a, b in spans]
