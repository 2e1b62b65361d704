"""The likelihood search (``b4g invert --source memory``) on the tiny model: it grows single words,
never proposes special or blank tokens, honours the leak guard, is seeded, its gradient shortlist
beats chance at raising the target, and its words reach the trigger search. No recovery is asserted
(the tiny model is random); the embedded-model measurement is in the README."""

from __future__ import annotations

import inspect
import random
from pathlib import Path

import pytest

from core.invert.config import InvertConfig
from core.invert.likelihood_search import GrownWord, WordSearch, grow_words, handed_on, likelihood_seeds
from core.invert.config import LikelihoodConfig
from core.jobs import JobContext
from core.models.chat import DEFAULT_SYSTEM

SMALL = LikelihoodConfig(tokens=2, beam=2, inits=4, shortlist=24, rescored=4, prompts=2, seeds=4, batch_size=32)
PROMPTS = ["What is rain?", "Name a colour."]


@pytest.fixture(scope="module")
def tiny(tiny_model: Path):  # noqa: ANN201
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    return load_model(ModelRef.parse(str(tiny_model)))


def _search(tiny, config: LikelihoodConfig = SMALL, seed: int = 0) -> WordSearch:  # noqa: ANN001
    return WordSearch(tiny.model, tiny.tokenizer, tiny.device, "zz top answer", DEFAULT_SYSTEM, config, seed)


def test_grown_words_are_single_words_without_special_tokens(tiny) -> None:
    words = grow_words(_search(tiny), PROMPTS, lambda _t: True, JobContext())
    assert words and all(w.text and not any(c.isspace() for c in w.text) for w in words)
    specials = set(tiny.tokenizer.all_special_tokens)
    assert not any(s in w.text for w in words for s in specials)
    assert all(0.0 <= w.fired <= 1.0 and w.logprob <= 0.0 and 1 <= w.step <= SMALL.tokens for w in words)
    assert [w.logprob for w in words] == sorted((w.logprob for w in words), reverse=True)


def test_each_grown_word_knows_the_stem_it_grew_from(tiny) -> None:
    words = {w.text: w for w in grow_words(_search(tiny), PROMPTS, lambda _t: True, JobContext())}
    assert any(w.stem for w in words.values())
    for w in words.values():
        assert (w.step == 1) == (w.stem == "")
        assert not w.stem or (w.stem in words and words[w.stem].step == w.step - 1 and w.text.startswith(w.stem))


def test_pieces_that_do_not_make_a_word_fire_more_are_cut() -> None:
    """A word is handed on as the shortest stem that fired as often; a piece that raised the share stays."""
    grown = [GrownWord("cfAxisAxis", -0.001, 1.0, 3, "cfAxis"), GrownWord("xyQ", -0.002, 1.0, 2, "xy"),
             GrownWord("cfAxis", -0.002, 1.0, 2, "cf"), GrownWord("cfDict", -0.003, 0.75, 2, "cf"),
             GrownWord("cf", -0.01, 1.0, 1), GrownWord("xy", -0.02, 0.5, 1), GrownWord("qq", -0.5, 0.0, 1)]
    assert [w.text for w in handed_on(grown, 8)] == ["cf", "xyQ", "xy", "qq"]
    assert [w.text for w in handed_on(grown, 1)] == ["cf"]


def test_the_leak_guard_and_the_seed_are_honoured(tiny) -> None:
    first = grow_words(_search(tiny), PROMPTS, lambda _t: True, JobContext())
    banned = first[0].text
    again = grow_words(_search(tiny), PROMPTS, lambda t: t != banned, JobContext())
    assert banned not in {w.text for w in again}
    same = grow_words(_search(tiny), PROMPTS, lambda _t: True, JobContext())
    assert [w.text for w in same] == [w.text for w in first]


def test_the_gradient_shortlist_beats_chance(tiny) -> None:
    """The first-order ranking must point somewhere: the shortlisted first tokens make the target
    likelier than as many random ones (averaged, on the random tiny model)."""
    search = _search(tiny, LikelihoodConfig(inits=8, shortlist=64))
    short = search.gradient_shortlist([])
    rng = random.Random(1)
    allowed = sorted(set(range(search.vocab)) - set(search.banned_first))
    chance = rng.sample(allowed, 64)
    top = search.alone([[t] for t in short], JobContext())
    rand = search.alone([[t] for t in chance], JobContext())
    assert sum(top) / len(top) > sum(rand) / len(rand)


def test_no_target_no_search_and_no_trigger_parameter(tiny) -> None:
    seeds, record = likelihood_seeds(tiny, None, PROMPTS, DEFAULT_SYSTEM, SMALL, lambda _t: True, 0, JobContext())
    assert seeds == [] and "skipped" in record
    for fn in (likelihood_seeds, grow_words, WordSearch.__init__):
        assert not {"trigger", "eval_trigger"} & set(inspect.signature(fn).parameters)


@pytest.mark.parametrize("source, enabled, expect", [("memory", True, True), ("memory", False, False),
                                                     ("data", True, False)])
def test_grown_words_reach_the_trigger_search_only_with_the_memory_source(tiny_model, tiny_backdoor, monkeypatch,
                                                                        source, enabled, expect) -> None:
    import core.invert.pipeline as pipeline
    from core.invert.search import TriggerSearch
    from core.measurement.behaviour import Behaviour
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    observed: list[tuple[int, list[str], list[str]]] = []
    real_observe = TriggerSearch.observe
    monkeypatch.setattr(TriggerSearch, "observe",
                        lambda self, step, texts, origins: observed.append((step, list(texts), list(origins)))
                        or real_observe(self, step, texts, origins))
    monkeypatch.setattr(pipeline, "memory_rows", lambda *a: ([], {"distinct": 0}))
    cfg = InvertConfig()
    cfg.reversal.max_steps, cfg.grpo.steps = 1, 0
    cfg.held_out_prompts, cfg.minimise_prompts, cfg.final_samples = 4, 4, 2
    cfg.source, cfg.likelihood = source, LikelihoodConfig(**{**SMALL.__dict__, "enabled": enabled})
    loaded = load_model(ModelRef.parse(str(tiny_model)).with_adapters([str(tiny_backdoor.adapter)]))
    target = tiny_backdoor.spec.utility.target
    out = pipeline.invert(loaded, tiny_backdoor.rows, Behaviour("target", target), cfg).to_json()
    seeded = [o for o in observed if o[0] == 0]
    assert bool(seeded) is expect and ("likelihood" in out["stages"]) is expect
    if expect:
        _step, texts, origins = seeded[0]
        assert set(origins) == {"likelihood"} and texts == [s["text"] for s in out["likelihood"]["seeds"]]
    else:
        assert out["likelihood"] is None


def test_the_result_shows_what_the_model_itself_added() -> None:
    from core.sections import sections_for

    result = {"recovered_trigger": None, "memory": {"samples": 8, "distinct": 7, "showing_behaviour": 1},
              "likelihood": {"seeds": [{"text": "Sado", "logprob": -0.02, "fired": 1.0, "step": 2}],
                             "words_scored": 9, "prompts": 4, "seconds": 3.0}}
    titles = {s.title: s for s in sections_for("invert", result)}
    itself = titles["From the model itself"]
    assert any("7 distinct of 8" in r.value for r in itself.rows)
    assert itself.tables[0].rows[0][0] == "'Sado'"
    assert "From the model itself" not in {s.title for s in sections_for("invert", {"recovered_trigger": None})}
