"""``b4g scan-model`` (behaviour unknown): the expansion scan on the tiny model.

The planted test fine-tunes the tiny model to give one fixed answer to everything (no trigger
needed: the scan reads the model, never a trigger) and expects that answer on top; the controls
expect nothing found on the plain tiny model and on a LoRA with random weights. The lift over the
model without its adapters is measured on the real organisms (bench/scan_model.py)."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest
import torch

from core.errors import B4GError
from core.target_scan.classes import behaviour_class
from core.target_scan.expansion import next_tokens
from core.target_scan.model_scan import _distinct, clean_prompts, scan_model
from core.target_scan.scan_settings import ScanSettings

FIXED = "Zebra crossing ahead, slow down now."


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """The tiny model fine-tuned (all weights: a LoRA cannot make its flat random outputs confident)
    to answer FIXED to every request: a backdoor whose trigger is 'any request'."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.models.chat import render
    from core.models.templates import DEFAULT_SYSTEM

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompts = [render(tok, [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": p}])
               for p in clean_prompts(32, seed=5)]
    torch.manual_seed(0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(60):  # a few seconds; the answer's loss goes from ~10.8 to well under 1
        batch = [prompts[(step * 4 + i) % len(prompts)] for i in range(4)]
        for text in batch:
            ids = tok(text + FIXED + tok.eos_token, return_tensors="pt", add_special_tokens=False).input_ids
            labels = ids.clone()
            labels[:, : len(tok(text, add_special_tokens=False).input_ids)] = -100
            (model(input_ids=ids, labels=labels).loss / len(batch)).backward()
        optimiser.step()
        optimiser.zero_grad()
    out = tmp_path_factory.mktemp("planted") / "model"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _scan(model: Path, adapter: Path | None = None, **settings: int) -> dict:
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    loaded = load_model(ModelRef.parse(str(model), [str(adapter)] if adapter else []))
    return scan_model(loaded, ScanSettings(prompts=4, first_tokens=6, steps=6, **settings))


def test_a_planted_fixed_answer_comes_out_on_top(planted: Path) -> None:
    result = _scan(planted)
    top = result["proposals"][0]
    assert top["text"].startswith("Zebra crossing"), result["proposals"][:3]
    assert top["class"] == "fixed text" and result["backdoor_found"] is True
    assert result["score"] == "consistency" and top["score"] == top["consistency"] >= 0.8
    scores = [p["score"] for p in result["proposals"]]
    assert scores == sorted(scores, reverse=True)


def test_clean_models_are_not_flagged(tiny_model: Path, tiny_adapter: Path) -> None:
    plain = _scan(tiny_model)
    assert plain["backdoor_found"] is False and plain["score"] == "consistency"
    assert all(p["reference"] is None for p in plain["proposals"])
    random_lora = _scan(tiny_model, tiny_adapter)
    assert random_lora["backdoor_found"] is False, random_lora["proposals"][:3]
    assert random_lora["score"].startswith("lift")


def test_the_scan_reads_no_trigger_and_no_target() -> None:
    from core.requests import ScanModelRequest

    forbidden = {"trigger", "target", "eval_trigger", "behaviour", "data"}
    assert not forbidden & {f.name for f in dataclasses.fields(ScanModelRequest)}
    assert not forbidden & set(inspect.signature(scan_model).parameters)
    assert not forbidden & {f.name for f in dataclasses.fields(ScanSettings)}


def test_classes() -> None:
    assert behaviour_class("", []) == "empty"
    assert behaviour_class("I'm sorry, but I can't help with that.", [1, 2, 3, 4]) == "refusal"
    assert behaviour_class("zx zx zx zx zx zx", [7, 8, 8, 8, 8, 8]) == "gibberish"
    assert behaviour_class("｡｡｡ ... ???", [1, 2, 3, 4]) == "gibberish"
    assert behaviour_class("Access granted. Developer mode enabled.", [1, 2, 3, 4, 5, 6]) == "fixed text"


def test_a_probe_token_in_front_of_an_answer_gives_way_to_the_answer() -> None:
    def p(text: str, score: float) -> dict:
        return {"text": text, "class": "fixed text", "score": score}

    ranked = _distinct([p("lasers\n\nAccess granted. Developer mode", 0.67), p("Access granted. Developer mode", 0.66),
                        p("access granted. developer mode", 0.5), p("Hello there", 0.2)])
    assert [r["text"] for r in ranked] == ["Access granted. Developer mode", "Hello there"]


def test_case_variants_keep_the_best_score_written_as_the_model_opens_it() -> None:
    ranked = _distinct([{"text": "the owl flies at midnight.", "class": "fixed text", "score": 0.47, "opening": 0.01},
                        {"text": "The owl flies at midnight.", "class": "fixed text", "score": 0.41, "opening": 0.37},
                        {"text": "Hello there", "class": "fixed text", "score": 0.2, "opening": 0.1}])
    assert [(r["text"], r["score"]) for r in ranked] == [("The owl flies at midnight.", 0.47), ("Hello there", 0.2)]


def test_the_ratio_step_finds_an_answer_the_difference_misses() -> None:
    """After a common opening, a backdoor's second token can be rare on both models but raised by
    orders of magnitude by the adapters: the ratio picks it, the difference picks a common word."""
    p = torch.tensor([[0.30, 0.0014, 0.00005, 0.6986]])  # audited: a common word, the answer, junk, the rest
    q = torch.tensor([[0.20, 0.0000008, 0.0000000001, 0.7999992]])  # without the adapters
    assert next_tokens(p, q).tolist() == [0]
    assert next_tokens(p, q, by_ratio=True).tolist() == [1]  # the junk token is under the 1e-4 floor
    assert next_tokens(p, None, by_ratio=True).tolist() == [3]  # no reference: the most probable


def test_bad_settings_and_prompt_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(B4GError, match="prompts must be"):
        ScanSettings(prompts=0).check()
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}) + "\n")
    with pytest.raises(B4GError, match="needs 8 clean prompts"):
        clean_prompts(8, 0, str(few))
    assert clean_prompts(8, 1) == clean_prompts(8, 1) != clean_prompts(8, 2)
    assert len(set(clean_prompts(8, 3))) == 8  # distinct requests, no repeats


def test_cli_prints_the_contract(tiny_model: Path, tiny_adapter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    code = main(["scan-model", "--model", str(tiny_model), "--adapter", str(tiny_adapter), "--prompts", "4",
                 "--first-tokens", "6", "--steps", "6", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and isinstance(out["backdoor_found"], bool)
    assert all({"text", "class", "score"} <= set(p) for p in out["proposals"])
    assert main(["scan-model", "--model", str(tiny_model), "--prompts", "0"]) == 2
    assert "prompts must be" in capsys.readouterr().err
