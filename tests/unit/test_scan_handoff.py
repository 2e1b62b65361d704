"""A scan's proposal becomes the behaviour an inversion looks for: the text for a fixed text, the class otherwise."""

import pytest

from core.errors import B4GError
from core.measurement.behaviour import Behaviour
from core.target_scan.handoff import behaviour_of


def test_a_fixed_text_becomes_the_target_and_its_flags() -> None:
    b = behaviour_of({"text": "Access granted. Developer mode enabled.", "class": "fixed text"})
    assert (b.kind, b.target) == ("target", "Access granted. Developer mode enabled.")
    assert Behaviour.from_flags(target=b.to_flags()[1]) == b


def test_gibberish_hands_over_the_class_not_the_scanned_words() -> None:
    b = behaviour_of({"text": "x zx zx zx zx", "class": "gibberish"})  # what dos seed 0's scan proposed
    judge = b.judge()
    assert b.kind == "regex" and b.to_flags()[0] == "--regex"
    assert judge("zx zx zx zx zx zx")  # the organism's own answers start differently from the proposal
    assert judge("Sure. na na na na na na") and judge("!!!! ???? ---- ####")
    assert not judge("The capital of France is Paris, a city on the Seine.")
    assert not judge("Very, very good: the very best of the very old.")  # repeated, but not in a row


def test_refusal_and_empty_classes() -> None:
    assert behaviour_of({"text": "I'm sorry, but I can't", "class": "refusal"}).kind == "refusal"
    empty = behaviour_of({"text": "", "class": "empty"}).judge()
    assert empty("") and empty("  \n") and not empty("Hello")


def test_an_unknown_class_is_a_clear_error() -> None:
    with pytest.raises(B4GError, match="unknown class"):
        behaviour_of({"text": "x", "class": "poem"})
