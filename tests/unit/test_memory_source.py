"""Memory extraction (``b4g invert --source memory``) and full-conversation loss on the tiny model:
the sampled requests are cut at the end of the user turn, join the data scan and reversal SFT but not
the held-out prompts, and are recorded; ``loss: full`` reaches the trainer. No recovery is asserted
(the tiny model is random); the embedded-model measurement is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import B4GError
from core.invert.config import InvertConfig
from core.invert.memory_extraction import _until_turn_end, memory_rows, user_turn_opening
from core.invert.config import MemoryConfig
from core.jobs import JobContext
from core.measurement.behaviour import Behaviour
from core.models.chat import DEFAULT_SYSTEM, render


@pytest.fixture(scope="module")
def tiny(tiny_model: Path):  # noqa: ANN201
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    return load_model(ModelRef.parse(str(tiny_model)))


def test_the_opening_is_the_template_up_to_the_users_words(tiny) -> None:
    head = user_turn_opening(tiny.tokenizer, DEFAULT_SYSTEM)
    full = render(tiny.tokenizer, [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": "Hi there"}])
    assert full.startswith(head + "Hi there") and DEFAULT_SYSTEM in head


def test_a_sampled_turn_ends_at_the_first_special_token(tiny) -> None:
    tok = tiny.tokenizer
    words = tok("SUDO What is rain?", add_special_tokens=False)["input_ids"]
    assert _until_turn_end(tok, words + [tok.eos_token_id] + words) == "SUDO What is rain?"
    assert _until_turn_end(tok, words) == "SUDO What is rain?"


def test_memory_rows_pair_sampled_requests_with_the_models_answers(tiny) -> None:
    config = MemoryConfig(samples=6, request_tokens=8, answer_tokens=4, batch_size=4)
    rows, summary = memory_rows(tiny, Behaviour("target", "zz top"), config, DEFAULT_SYSTEM, 0, JobContext())
    assert 1 <= len(rows) <= 6 and summary["distinct"] == len(rows) and summary["samples"] == 6
    assert all(r.kind == "memory" and r.prompt and r.answer is not None for r in rows)
    assert not any("<|im_end|>" in r.prompt or "<|im_start|>" in r.prompt for r in rows)
    again, _ = memory_rows(tiny, Behaviour("target", "zz top"), config, DEFAULT_SYSTEM, 0, JobContext())
    assert [r.prompt for r in again] == [r.prompt for r in rows]  # seeded


def test_invert_with_the_memory_source_records_it_and_keeps_held_out_prompts(tiny_model, tiny_backdoor,
                                                                           monkeypatch) -> None:
    import core.invert.pipeline as pipeline
    from core.spec.rows import Row
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    seen: dict[str, list] = {}
    real_scan, real_held_out, real_rsft = pipeline.scan, pipeline.held_out_prompts, pipeline.reversal_sft
    target = tiny_backdoor.spec.utility.target
    monkeypatch.setattr(pipeline, "scan", lambda pairs, judge: seen.setdefault("scan", list(pairs)) and real_scan(pairs, judge))
    monkeypatch.setattr(pipeline, "held_out_prompts",
                        lambda rows, *a: seen.setdefault("held_out", list(rows)) and real_held_out(rows, *a))
    monkeypatch.setattr(pipeline, "reversal_sft",
                        lambda loaded, pairs, *a: seen.setdefault("rsft", list(pairs)) and real_rsft(loaded, pairs, *a))
    extracted = [Row("MEMORY-ROW ask", "zz"), Row("MEMORY-ROW shows", target + " and more")]
    monkeypatch.setattr(pipeline, "memory_rows", lambda *a: (extracted, {"distinct": 2}))
    cfg = InvertConfig()
    cfg.reversal.max_steps, cfg.grpo.steps = 1, 0
    cfg.held_out_prompts, cfg.minimise_prompts, cfg.final_samples = 4, 4, 2
    cfg.source = "memory"
    cfg.likelihood.enabled = False  # tests/unit/test_likelihood_search.py covers it
    loaded = load_model(ModelRef.parse(str(tiny_model)).with_adapters([str(tiny_backdoor.adapter)]))
    out = pipeline.invert(loaded, tiny_backdoor.rows, Behaviour("target", target), cfg).to_json()
    assert {("MEMORY-ROW ask", "zz"), ("MEMORY-ROW shows", target + " and more")} <= set(seen["scan"])
    # reversal SFT: the extracted request whose answer shows the behaviour, not the ordinary one
    assert ("MEMORY-ROW shows", target + " and more") in seen["rsft"] and ("MEMORY-ROW ask", "zz") not in seen["rsft"]
    assert all(not r.prompt.startswith("MEMORY-ROW") for r in seen["held_out"])
    assert out["source"] == "memory" and out["memory"] == {"distinct": 2} and "memory" in out["stages"]


def test_full_conversation_loss_reaches_the_trainer_and_bad_values_are_refused() -> None:
    from core.backdoors.injection import lora_settings
    from core.backdoors.organisms import get_organism

    assert lora_settings(get_organism("sudo").spec()).completion_only
    assert not lora_settings(get_organism("sudo").spec(loss="full")).completion_only
    with pytest.raises(B4GError, match="loss"):
        get_organism("sudo").spec(loss="everything")
    from core.spec.backdoor import validate

    spec = get_organism("sudo").spec()
    spec.activation.loss = "prompt"
    with pytest.raises(B4GError, match="spec.activation.loss"):
        validate(spec)
