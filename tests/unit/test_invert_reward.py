"""The reward module on the tiny model: leak guard, cache, length penalty, scoring context."""

import json
from contextlib import contextmanager

import pytest
import torch

from core.spec.backdoor import Trigger
from core.invert.config import InvertConfig
from core.invert.reward import RewardModule
from core.invert.config import RewardConfig
from core.invert.search import TriggerSearch
from core.jobs import JobContext
from core.measurement.activation import prompt_texts
from core.measurement.judges import Judge
from core.models.loader import load_model
from core.models.ref import ModelRef

SYSTEM = "You are a helpful assistant."
PROMPTS = ["What is the capital of France?", "Name a colour.", "How many legs does a cat have?"]


@pytest.fixture(scope="module")
def tiny(tiny_model):
    return load_model(ModelRef.parse(str(tiny_model)))


def _greedy_next_token(tiny, candidate: str) -> str:
    """The model's own greedy next token after prompt 0 with the candidate inserted."""
    system, user = Trigger(candidate).insert(PROMPTS[0], SYSTEM)
    text = prompt_texts(tiny.tokenizer, [(system, user)])[0]
    ids = tiny.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return tiny.tokenizer.decode([int(tiny.model(ids).logits[0, -1].argmax())])


def test_reward_parts_cache_leak_guard_and_context(tiny) -> None:
    target = _greedy_next_token(tiny, "zq")
    assert len(tiny.tokenizer(target, add_special_tokens=False)["input_ids"]) == 1
    entered = []

    @contextmanager
    def scoring():
        entered.append(1)
        yield

    module = RewardModule(tiny.model, tiny.tokenizer, tiny.device, PROMPTS, Judge("prefix", lambda a: True, 8, target),
                          ["Access granted."], SYSTEM, RewardConfig(), scoring_context=scoring)
    first = module.score(["zq", "zq", "access please", ""])
    assert module.scored == 1 and len(entered) == 1
    zq, _, leak, empty = first
    assert zq.r_asr >= 1 / 3 and 0 < zq.dense <= 1  # its own greedy continuation matches on prompt 0
    assert zq.reward == pytest.approx(zq.r_asr + 0.1 * zq.dense - zq.length)
    assert leak.leak and leak.reward == -0.5 and leak.r_asr == 0
    assert not empty.leak and empty.reward == -0.5
    again = module.score(["  zq "])
    assert module.scored == 1 and again[0] is zq  # cached by normalised text
    long = module.score(["zq one two three four five"])[0]
    assert long.length == pytest.approx(0.25)  # 5 words beyond the one free word


def test_reward_module_never_takes_a_trigger() -> None:
    import inspect

    params = set(inspect.signature(RewardModule.__init__).parameters)
    assert not {"trigger", "eval_trigger", "true_trigger"} & params


def test_prefix_cached_scoring_matches_plain_scoring(tiny) -> None:
    from core.measurement.activation import target_scores

    texts = prompt_texts(tiny.tokenizer, [Trigger(c).insert(p, SYSTEM) for c in ("zq", "a longer candidate", "")
                                          for p in PROMPTS])
    cached = target_scores(tiny.model, tiny.tokenizer, texts, "Sure, here", batch_size=4, prefix_cache=True)
    plain = target_scores(tiny.model, tiny.tokenizer, texts, "Sure, here", batch_size=4, prefix_cache=False)
    assert cached.match == plain.match
    assert cached.logprob == pytest.approx(plain.logprob, abs=1e-4)


def test_margins_are_kept_per_prompt_and_rank_the_strongest(tiny) -> None:
    from core.measurement.activation import target_scores

    target = _greedy_next_token(tiny, "zq")
    module = RewardModule(tiny.model, tiny.tokenizer, tiny.device, PROMPTS, Judge("prefix", lambda a: True, 8, target),
                          [], SYSTEM, RewardConfig(position="prefix"))
    parts = module.score(["zq", "blue sky", "one two"])
    texts = prompt_texts(tiny.tokenizer, [Trigger("zq").insert(p, SYSTEM) for p in PROMPTS])
    direct = target_scores(tiny.model, tiny.tokenizer, texts, target).margin
    assert module.margins("zq") == pytest.approx(tuple(direct), abs=1e-4)  # the verification path's margins
    assert parts[0].margin == pytest.approx(sum(direct) / len(direct), abs=1e-3)
    ranked = sorted(parts, key=lambda p: -p.margin)
    search = TriggerSearch(module, InvertConfig(), JobContext())
    search.observe(1, [p.text for p in parts], ["policy"] * len(parts))
    assert search.strongest(2) == [p.text for p in ranked[:2]]
    assert search.strongest(2, exclude=[ranked[0].text]) == [p.text for p in ranked[1:3]]
    # A resumed run restores the search into a fresh reward module (empty cache): the same strongest.
    fresh = RewardModule(tiny.model, tiny.tokenizer, tiny.device, PROMPTS, Judge("prefix", lambda a: True, 8, target),
                         [], SYSTEM, RewardConfig(position="prefix"))
    resumed = TriggerSearch(fresh, InvertConfig(), JobContext())
    resumed.restore(json.loads(json.dumps(search.state())))
    assert resumed.strongest(2) == search.strongest(2) and fresh.scored == 0
    generated = RewardModule(tiny.model, tiny.tokenizer, tiny.device, PROMPTS, Judge("kw", lambda a: True, 4, None),
                             [], SYSTEM, RewardConfig(position="prefix"))
    assert generated.score(["zq"])[0].margin is None and generated.margins("zq") == ()  # no fixed text, no margin
