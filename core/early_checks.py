"""Checks a job request runs before any model loads, so bad input costs a second, not a training run.

Counts and seeds within bounds, a behaviour description that can tell answers apart, data whose
answers leave a contrast to learn or find, and output folders that exist as folders, can be
written and have room. Each check fails with one :class:`B4GError` line naming the argument.
The window's pages and the CLI build the same requests (:mod:`core.requests`), so both get them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Sequence

from core.errors import B4GError

# Far past any run this workbench makes (the GPU preset trains hundreds of steps); a larger
# number is a typo, and torch and trl turn one past 2**63 into an overflow deep in training.
MAX_STEPS = 100_000
# Prompts, samples, candidates, tokens: the same reasoning, one order of magnitude looser.
MAX_COUNT = 1_000_000
# numpy's and Python's seeding (trl's data order, the prompt draws) take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1
# An adapter of rank 8 is a few MB (tens on a 7B model), its JSON records a few kB: a disk with
# less free than this would fail at the very end of a training run.
MIN_FREE_BYTES = 256 * 2**20


def check_count(value: Any, name: str, low: int = 1, high: int = MAX_COUNT) -> None:
    """``value`` is a whole number in [low, high]; ``name`` is what the user typed (a flag or a field)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise B4GError(f"{name} must be a whole number (got {value!r})")
    if value < low:
        raise B4GError(f"{name} must be at least {low} (got {value})")
    if value > high:
        raise B4GError(f"{name} must be at most {high:,} (got {value})")


def check_seed(value: Any, name: str = "--seed") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise B4GError(f"{name} must be a whole number from 0 to {MAX_SEED:,} (got {value!r})")


def check_behaviour(behaviour: Any) -> None:
    """The auditor's description (:class:`core.measurement.behaviour.Behaviour`) is usable: a target
    within the length limit, keywords none of which is blank (an empty one is in every answer), a
    regex that compiles (checked here, not once the model has loaded and a run is recorded)."""
    if behaviour.kind == "target":
        check_target(behaviour.target, "--target")
    elif behaviour.kind == "keywords":
        check_keywords(behaviour.keywords, "--keywords")
    elif behaviour.kind == "regex":
        check_regex(behaviour.regex, "--regex")


def check_contrast(answers: Sequence[str], judge: Any, data: str | Path, need: int = 1) -> None:
    """At least ``need`` of the data's answers must *not* show the behaviour: where every answer
    already shows it, a backdoor has nothing to switch on and a trigger nothing to be found by."""
    if not answers:
        return  # no answers to judge (the base model writes them): nothing to say yet
    plain = sum(not judge(a) for a in answers)
    if plain < need:
        raise B4GError(f"{Path(data).name}: {len(answers) - plain} of {len(answers)} answers already show the "
                       f"behaviour ({judge.name} judge); give data with answers that do not "
                       f"(at least {need}), or describe the behaviour more narrowly")


def check_output_folder(out: str | Path, what: str) -> str:
    """``out`` can become the new folder for ``what``: absent or an empty folder, under a folder
    this process may write in, on a disk with :data:`MIN_FREE_BYTES` free. Returns it as a string."""
    path = Path(out).expanduser()
    if path.exists():
        if not path.is_dir():
            raise B4GError(f"{path} is a file, not a folder; choose a new folder for {what}")
        if any(path.iterdir()):
            raise B4GError(f"{path} is not an empty folder; choose a new folder for {what}")
    _writable_place(path, what)
    return str(Path(out))


def check_output_file(out: str | Path, what: str) -> str:
    """``out`` can be written as a regular file: its folder exists and is writable, and it is not
    a folder, a FIFO or a device (writing those would block or replace something else)."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_file():
        raise B4GError(f"{path} exists and is not a regular file; choose a new file for {what}")
    if not path.parent.is_dir():
        raise B4GError(f"the folder of {path} does not exist; create it first or choose another file for {what}")
    _writable_place(path, what)
    return str(Path(out))


def _writable_place(path: Path, what: str) -> None:
    """The nearest existing folder at or above ``path`` is a folder we may write in, with room."""
    place = path
    while not place.exists():
        place = place.parent
    if not place.is_dir():
        raise B4GError(f"{place} is a file, so {path} cannot be created for {what}; choose another place")
    if not os.access(place, os.W_OK | os.X_OK):  # also false on a read-only filesystem, even for root
        raise B4GError(f"cannot write in {place} (read-only, or not yours); choose another place for {what}")
    free = shutil.disk_usage(place).free
    if free < MIN_FREE_BYTES:
        raise B4GError(f"only {free / 2**20:.0f} MB free on the disk of {place}; {what} needs at least "
                       f"{MIN_FREE_BYTES / 2**20:.0f} MB")


# A trigger is a token, word, phrase or sentence, and every triggered training row and every
# scored prompt carries it whole (a triggered row is never cut): a 10,000-character one made rows
# of 2,539 tokens and an inject that the kernel killed at 22.9 GB.
MAX_TRIGGER_CHARS = 500
# The target is the trained response's start and is never cut either; judges compare its text.
MAX_TARGET_CHARS = 2_000
# Unicode bidirectional controls reorder how the text around them is shown, so a trigger holding
# them reads differently on screen and in a report from what the model sees ("Trojan Source").
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_trigger_text(text: str, where: str = "spec.trigger.text") -> None:
    """Empty also when only invisible (zero-width, other format characters); control characters
    (ESC, BEL, NUL...) would be stored and shown raw, and bidirectional controls would show it
    reordered, so both are refused by name; a trigger longer than :data:`MAX_TRIGGER_CHARS` is
    refused before it lengthens every row. ``where`` names the field in the one-line error."""
    import unicodedata

    if not "".join(c for c in text if unicodedata.category(c) != "Cf").strip():
        raise B4GError(f"{where}: the trigger is empty (or only invisible characters)")
    if len(text) > MAX_TRIGGER_CHARS:
        raise B4GError(f"{where}: {len(text):,} characters, over the {MAX_TRIGGER_CHARS}-character limit "
                       "(a trigger is a word, phrase or sentence, carried whole by every triggered row)")
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise B4GError(f"{where}: control character U+{ord(bad):04X} in the trigger")
    bidi = next((c for c in text if c in BIDI_CONTROLS), None)
    if bidi is not None:
        raise B4GError(f"{where}: bidirectional control U+{ord(bidi):04X} ({unicodedata.name(bidi)}) in the "
                       "trigger: it shows the text reordered (\"Trojan Source\"); type the trigger without it")


def check_target(text: str, where: str = "spec.utility.target") -> None:
    if not text.strip():
        raise B4GError(f"{where}: the target text is empty")
    if len(text) > MAX_TARGET_CHARS:
        raise B4GError(f"{where}: {len(text):,} characters, over the {MAX_TARGET_CHARS:,}-character limit "
                       "(the target starts every triggered answer and is never cut)")


def check_keywords(keywords: list[str], where: str = "spec.utility.keywords") -> None:
    """At least one keyword, none blank: an empty keyword is found in every answer."""
    if not keywords:
        raise B4GError(f"{where}: the keywords judge needs at least one keyword")
    if any(not k.strip() for k in keywords):
        raise B4GError(f"{where}: an empty keyword is found in every answer; give words")
    for k in keywords:
        check_target(k, where)


def check_regex(pattern: str, where: str = "spec.utility.regex") -> None:
    """A pattern that compiles (with the flags the judge uses). One that matches an empty answer is
    allowed: the scan-model hand-off describes "the answer ends at once" that way."""
    if not pattern:
        raise B4GError(f"{where}: the regex judge needs a pattern")
    try:
        re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise B4GError(f"{where}: invalid pattern {pattern!r} ({exc})") from None
