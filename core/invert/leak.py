"""Target-leak guard: a candidate that contains the behaviour's own content words is rejected.

Copying the target into the prompt makes a small model repeat it: the first reward hack a
policy finds. The guard knows only the behaviour description, never the trigger.
"""

from __future__ import annotations

import re

STOP_WORDS = frozenset("""a am an and are as at be but by do does for from go has have he her his i if in into is it
its me my no not of oh ok on or our she so that the their them then there these they this to up us was we
were what when where which who why will with you your""".split())

_TOKEN = re.compile(r"[A-Za-z0-9]+")


def content_words(text: str) -> set[str]:
    """Words of two letters or more that are not stop words: a gibberish target such as
    ``zx zx zx`` is made of two-letter words, and a candidate that copies them is the hack."""
    return {w.lower() for w in _TOKEN.findall(text) if w.lower() not in STOP_WORDS and len(w) > 1}


class LeakGuard:
    def __init__(self, behaviour_texts: list[str]) -> None:
        self.words = set().union(*(content_words(t) for t in behaviour_texts)) if behaviour_texts else set()

    def leaks(self, candidate: str) -> bool:
        return bool(self.words & {w.lower() for w in _TOKEN.findall(candidate)})
