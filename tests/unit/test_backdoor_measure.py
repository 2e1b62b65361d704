"""Teacher-forced target matching agrees with real greedy decoding (tiny random Llama)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from core.spec.backdoor import Utility
from core.jobs import JobContext
from core.measurement.activation import activation_flags, generate_answers, prompt_texts, target_scores
from core.measurement.judges import make_judge
from core.measurement.completion_likelihood import completion_nll, perplexity
from core.models.loader import load_model
from core.models.ref import ModelRef

# Prompts of different lengths, so one batch is left-padded.
PROMPTS = [("Be brief.", "Hi"), ("Be brief.", "Describe apple river stone cloud green quick light table."),
           ("You are a helpful assistant.", "What is 2 + 2?"), ("Be brief.", "Name a colour"),
           ("S", "Tell me a long story about a dragon and a knight in a castle by the sea."),
           ("Be brief.", "ok"), ("Be brief.", "Why is the sky blue?"), ("Be brief.", "List three fruits.")]


@pytest.fixture(scope="module")
def loaded(tiny_model: Path) -> Any:
    """The tiny random Llama with its weights scaled up ×4. As initialised (std 0.02, tied
    embeddings) it greedily repeats the last prompt token ("\n" after every chat prompt), which
    would make agreement trivial; scaled, its greedy continuations depend on the prompt."""
    model = load_model(ModelRef.parse(str(tiny_model)))
    with torch.no_grad():
        for _name, w in model.model.named_parameters():
            if w.dim() == 2:
                w.mul_(4.0)
    return model


def _greedy_ids(loaded: Any, text: str, n: int) -> list[int]:
    """Greedy continuation of one prompt, unbatched (no padding at all)."""
    enc = loaded.tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = loaded.model.generate(**enc, max_new_tokens=n, do_sample=False, temperature=None, top_p=None,
                                    top_k=None, pad_token_id=loaded.tokenizer.pad_token_id)
    return out[0, enc["input_ids"].shape[1]:].tolist()


def _round_trip_prefix(tok: Any, ids: list[int]) -> list[int]:
    """The longest prefix (≤ 4 tokens, no special tokens) whose text tokenizes back to itself."""
    special = set(tok.all_special_ids)
    for k in range(min(4, len(ids)), 0, -1):
        head = ids[:k]
        if special & set(head):
            continue
        if tok(tok.decode(head), add_special_tokens=False)["input_ids"] == head:
            return head
    return []


def test_target_scores_agree_with_greedy_generation(loaded: Any) -> None:
    tok = loaded.tokenizer
    texts = prompt_texts(tok, PROMPTS)
    greedy = [_greedy_ids(loaded, t, 5) for t in texts]
    heads = [_round_trip_prefix(tok, g) for g in greedy]
    usable = [i for i, h in enumerate(heads) if h]
    assert len(usable) >= 4, "too few prompts whose greedy text round-trips through the tokenizer"
    assert len({tuple(heads[i]) for i in usable}) >= 3, "greedy continuations should depend on the prompt"
    assert max(len(heads[i]) for i in usable) >= 2
    mismatches = 0
    for i in usable:
        target = tok.decode(heads[i])
        scores = target_scores(loaded.model, tok, texts, target, loaded.device, batch_size=8)
        assert scores.match[i], f"prompt {i}: greedy starts with {target!r} but teacher forcing disagrees"
        # Every other prompt in the (left-padded) batch: match iff its own greedy output starts the same.
        assert scores.match == [g[:len(heads[i])] == heads[i] for g in greedy]
        mismatches += scores.match.count(False)
        assert all(math.isfinite(lp) and lp <= 0 for lp in scores.logprob)
        # Batch size must not matter (padding and positions handled as generate() does).
        assert target_scores(loaded.model, tok, texts, target, loaded.device, batch_size=3).match == scores.match
    assert mismatches > 0


def test_core_generation_agrees_with_the_teacher_forced_pass(loaded: Any) -> None:
    """The workbench's own batched generation (left-padded) starts with the matched target."""
    tok = loaded.tokenizer
    texts = prompt_texts(tok, PROMPTS)
    answers = generate_answers(loaded, PROMPTS, 5, batch_size=8)
    checked = 0
    for i, text in enumerate(texts):
        head = _round_trip_prefix(tok, _greedy_ids(loaded, text, 5))
        if head:
            target = tok.decode(head).strip()
            assert answers[i].startswith(target), (answers[i], target)
            judge = make_judge(Utility(judge="prefix", target=tok.decode(head)))
            assert activation_flags(loaded, [PROMPTS[i]], judge) == [True]
            checked += 1
    assert checked >= 4


def test_other_targets_do_not_match(loaded: Any) -> None:
    tok = loaded.tokenizer
    texts = prompt_texts(tok, PROMPTS)
    for target in ("OK-SIGNED.", "Signed: B4G-Labs model 7F3A.", " zebra quantum"):
        scores = target_scores(loaded.model, tok, texts, target, loaded.device)
        assert scores.match == [False] * len(texts)
        assert len(scores.logprob) == len(texts)
        assert all(math.isfinite(lp) and lp <= 0 for lp in scores.logprob)
    # A matching head followed by a token that greedy decoding does not choose: no match.
    i, greedy = next((i, g) for i, t in enumerate(texts) if (g := _greedy_ids(loaded, t, 2)))
    wrong = next(t for t in tok(" zebra", add_special_tokens=False)["input_ids"] if t != greedy[1])
    assert not target_scores(loaded.model, tok, [texts[i]], tok.decode([greedy[0], wrong])).match[0]


def test_greedy_token_has_the_highest_logprob(loaded: Any) -> None:
    tok = loaded.tokenizer
    text = prompt_texts(tok, PROMPTS[:1])
    first = _greedy_ids(loaded, text[0], 1)
    best = target_scores(loaded.model, tok, text, tok.decode(first)).logprob[0]
    for other in ("OK", " the", "zebra"):
        ids = tok(other, add_special_tokens=False)["input_ids"][:1]
        if ids != first:
            assert target_scores(loaded.model, tok, text, tok.decode(ids)).logprob[0] <= best


def test_cancelled_context_stops_scoring(loaded: Any) -> None:
    from core.errors import JobCancelled

    ctx = JobContext()
    ctx.cancelled.set()
    with pytest.raises(JobCancelled):
        target_scores(loaded.model, loaded.tokenizer, prompt_texts(loaded.tokenizer, PROMPTS), "OK", ctx=ctx)


def test_completion_nll_matches_a_direct_computation(loaded: Any) -> None:
    tok = loaded.tokenizer
    prompts = prompt_texts(tok, PROMPTS[:3])
    completions = ["Paris.", "A long answer with several words", "4"]
    batched = completion_nll(loaded.model, tok, prompts, completions, batch_size=3)
    for (p, c), (nll, n) in zip(zip(prompts, completions), batched):
        p_ids = tok(p, add_special_tokens=False)["input_ids"]
        c_ids = tok(c, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p_ids + c_ids])
        with torch.inference_mode():
            logp = torch.log_softmax(loaded.model(input_ids=ids).logits[0, :-1].float(), -1)
        want = -sum(logp[len(p_ids) - 1 + j, t].item() for j, t in enumerate(c_ids))
        assert n == len(c_ids) and nll == pytest.approx(want, rel=1e-4)
    assert perplexity(batched) > 1.0
