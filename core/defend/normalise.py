"""Text as the guardrail compares it: one spelling for the many ways a trigger can be written.

NFKC folds compatibility forms (full-width ``ＳＵＤＯ``, ligatures, the ideographic full stop's
half-width twin); casefold removes case; format and control characters (zero-width spaces and
joiners, bidi marks, soft hyphens) are dropped; homoglyphs (Cyrillic ``Ѕ``, Greek ``Ο``) fold to the
ASCII letter they imitate, from the Unicode confusables table shipped by ``confusable-homoglyphs``;
whitespace runs collapse to one space.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # the ones an attacker reaches for (all category Cf)


@lru_cache(maxsize=1)
def homoglyph_table() -> dict[int, str]:
    """Non-ASCII characters whose confusable is one ASCII letter or digit, mapped to it.

    Built from ``confusable_homoglyphs``' data (Unicode's confusables.txt): its public
    ``is_confusable`` answers per string, but folding needs the whole table once, so the module's
    ``confusables_data`` dict (public, no underscore) is read directly."""
    from confusable_homoglyphs import confusables

    table: dict[int, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_forms = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalnum()]
        if ascii_forms:
            table[ord(char)] = ascii_forms[0]
    return table


def strip_invisible(text: str) -> str:
    """Drop format (Cf) and control (Cc) characters; tabs and newlines become spaces."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r":
            out.append(" ")
        elif cat not in ("Cf", "Cc"):
            out.append(ch)
    return "".join(out)


def fold(text: str) -> str:
    """The guardrail's canonical form of ``text`` (see the module docstring for each step)."""
    table = homoglyph_table()
    # Folded before and after NFKC and casefold: each may turn one confusable into another
    # (NFKC maps the lunate sigma symbol to a Greek final sigma, casefold maps capitals to small).
    text = unicodedata.normalize("NFKC", text.translate(table))
    text = strip_invisible(text).translate(table)
    return " ".join(text.casefold().translate(table).split())
