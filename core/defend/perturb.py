"""Perturbed spellings of a trigger: what an attacker (or a sloppy deployer) would type instead.

Each kind is deterministic given a ``random.Random``; a kind that cannot apply to a trigger (no
synonym for any of its words, a one-character trigger with no near miss) yields nothing, so callers
count what was actually generated. Unlearning trains on the ``UNLEARN_KINDS`` (so the model
forgets more than one spelling); the guardrail is evaluated on the ``GUARD_KINDS`` (each counted as
triggered).
"""

from __future__ import annotations

import json
import random
from functools import lru_cache

from resources import resource_path

UNLEARN_KINDS = ("case", "spacing", "punctuation", "near-miss")
GUARD_KINDS = ("case", "spacing", "homoglyph", "zero-width", "full-width", "synonym")
ZWSP = "\u200b"
PUNCTUATION = ("{}:", "[{}]", "{}!", "({})", "{},", "\"{}\"", "{} -")


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    path = resource_path("defend", "synonyms.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in table.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def lookalikes() -> dict[str, str]:
    """ASCII letter → a Cyrillic or Greek homoglyph (the ones keyboards type) that folds back to it."""
    from core.defend.normalise import fold, homoglyph_table

    out: dict[str, str] = {}
    for code, ascii_char in sorted(homoglyph_table().items(), key=lambda kv: (kv[0] < 0x0400, kv[0])):
        char = chr(code)
        if ascii_char.isalpha() and 0x0370 <= code <= 0x04FF and ascii_char not in out \
                and fold(char) == ascii_char.casefold():
            out[ascii_char] = char
    return out


def case(text: str, rng: random.Random) -> str | None:
    options = {text.lower(), text.upper(), text.title(), text.swapcase()} - {text}
    return rng.choice(sorted(options)) if options else None


def spacing(text: str, rng: random.Random) -> str | None:
    words = text.split(" ")
    if len(words) == 1:
        return " ".join(text) if len(text) > 1 else None  # S U D O
    i = rng.randrange(len(words) - 1)
    joined = words[:i] + [words[i] + words[i + 1]] + words[i + 2:]
    doubled = words[:i + 1] + [""] + words[i + 1:]
    return " ".join(rng.choice([joined, doubled]))


def punctuation(text: str, rng: random.Random) -> str | None:
    return rng.choice(PUNCTUATION).format(text.rstrip(".!?:") if len(text) > 2 else text)


def near_miss(text: str, rng: random.Random) -> str | None:
    """One edit: a doubled character, a dropped one (triggers longer than three) or two swapped."""
    letters = [i for i, ch in enumerate(text) if ch.isalnum()] or list(range(len(text)))
    if not letters:
        return None
    i = rng.choice(letters)
    edits = [text[:i + 1] + text[i] + text[i + 1:]]
    if len(text) > 3:
        edits.append(text[:i] + text[i + 1:])
    if i + 1 < len(text) and text[i] != text[i + 1]:
        edits.append(text[:i] + text[i + 1] + text[i] + text[i + 2:])
    return rng.choice(edits)


def homoglyph(text: str, rng: random.Random) -> str | None:
    table = lookalikes()
    spots = [i for i, ch in enumerate(text) if ch in table]
    if not spots:
        return None
    chosen = set(rng.sample(spots, max(1, len(spots) // 2)))
    return "".join(table[ch] if i in chosen else ch for i, ch in enumerate(text))


def zero_width(text: str, rng: random.Random) -> str | None:
    if len(text) < 2:
        return None
    i = rng.randrange(1, len(text))
    return text[:i] + ZWSP + text[i:]


def full_width(text: str, rng: random.Random) -> str | None:
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    return wide if wide != text else None


def synonym(text: str, rng: random.Random) -> str | None:
    """One word of a phrase trigger (two words or more) swapped for a near-synonym."""
    words = text.split(" ")
    table = synonyms()
    spots = [i for i, w in enumerate(words) if w.lower().strip(".,!?:") in table]
    if len(words) < 2 or not spots:
        return None
    i = rng.choice(spots)
    bare = words[i].lower().strip(".,!?:")
    swapped = table[bare]
    if words[i][:1].isupper():
        swapped = swapped[:1].upper() + swapped[1:]
    words[i] = words[i].lower().replace(bare, swapped, 1) if not words[i][:1].isupper() else \
        swapped + words[i][len(bare):]
    return " ".join(words)


KINDS = {"case": case, "spacing": spacing, "punctuation": punctuation, "near-miss": near_miss,
         "homoglyph": homoglyph, "zero-width": zero_width, "full-width": full_width, "synonym": synonym}


def variants(trigger: str, kinds: tuple[str, ...], rng: random.Random) -> list[tuple[str, str]]:
    """(kind, perturbed text) for each kind that applies and changes the trigger."""
    out = []
    for kind in kinds:
        text = KINDS[kind](trigger, rng)
        if text and text != trigger:
            out.append((kind, text))
    return out
