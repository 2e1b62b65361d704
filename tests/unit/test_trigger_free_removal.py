"""Trigger-free removal (embedding-space adversarial unlearning, after BEEAR) on the tiny backdoored
Llama: the perturbation search raises the behaviour's likelihood, the trained adapter lowers it
under a perturbation searched with the same budget, and nothing but the evaluation reads the true
trigger."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from core.cli import main
from core.defend.perturbation import Nudge, RequestFrame, SearchTexts, completion_logp, hidden_norm, search
from core.defend.removal import remove
from core.defend.defense_settings import RemoveSettings
from core.measurement.activation import prompt_texts
from core.measurement.behaviour import Behaviour
from core.models.adapters import merge_audited_adapters
from core.models.loader import load_model
from core.models.ref import ModelRef

SYSTEM = "Be brief."
FAST = dict(steps=12, rounds=3, inner_steps=6, lr=3e-3, rank=16, train_prompts=48, eval_prompts=16, utility_prompts=4,
            answer_tokens=8, mc_questions=4, max_length=48, system=SYSTEM, controls=False)


def _loaded(tiny_model: Path, tb: SimpleNamespace):  # noqa: ANN202
    return load_model(ModelRef.parse(str(tiny_model), [str(tb.adapter)]))


def _remove(tiny_model: Path, tb: SimpleNamespace, out: Path, eval_trigger: str | None, **over) -> dict:
    settings = RemoveSettings(**{**FAST, **over})
    return remove(_loaded(tiny_model, tb), tb.rows, Behaviour("target", target=tb.files.target), eval_trigger, out,
                  settings)


def test_the_request_frame_finds_the_users_words(tiny_model) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    frame = RequestFrame.of(tok, SYSTEM)
    texts = prompt_texts(tok, [(SYSTEM, "zqx Describe apple river."), (SYSTEM, "Hi")])
    ids = tok(texts, add_special_tokens=False)["input_ids"]
    width = max(map(len, ids))
    padded = torch.tensor([[tok.pad_token_id] * (width - len(s)) + s for s in ids])  # left padding, as measured
    mask = frame.mask(padded)
    assert [tok.decode(padded[i][mask[i]]) for i in range(2)] == ["zqx Describe apple river.", "Hi"]
    assert not frame.mask(padded[:, -1:]).any()  # a generation step holds no request


def test_the_search_raises_the_behaviours_likelihood(tiny_model, tiny_backdoor) -> None:
    loaded = _loaded(tiny_model, tiny_backdoor)
    merge_audited_adapters(loaded)
    model, tok = loaded.model, loaded.tokenizer
    for p in model.parameters():
        p.requires_grad_(False)
    prompts = [r.prompt for r in tiny_backdoor.rows[:24]]
    ids = tok(prompt_texts(tok, [(SYSTEM, p) for p in prompts]), add_special_tokens=False)["input_ids"]
    target = tok(tiny_backdoor.files.target, add_special_tokens=False)["input_ids"]
    own = [tok(r.answer, add_special_tokens=False)["input_ids"] for r in tiny_backdoor.rows[:24]]
    frame = RequestFrame.of(tok, SYSTEM)
    radius = 1.0 * hidden_norm(model, 0, frame, ids[:8], tok.pad_token_id)
    nudge = Nudge(model, 0, frame, torch.zeros(model.config.hidden_size, requires_grad=True))
    with torch.no_grad():
        plain = float(completion_logp(model, ids, [target] * len(ids), tok.pad_token_id).mean())
    with nudge:
        history = search(model, nudge, SearchTexts(ids, target, own, tok.pad_token_id), 10, radius, 0.25, 8, 0.5,
                         random.Random(0))
        with torch.no_grad():
            pushed = float(completion_logp(model, ids, [target] * len(ids), tok.pad_token_id).mean())
    assert float(nudge.delta.norm()) <= radius * 1.0001  # kept inside the budget
    # the tiny random model's answers are nearly flat over its vocabulary: the trigger itself lifts
    # the target by about 0.25 nats a token
    assert pushed > plain + 0.1 and history[-1] > history[0]


# the tiny model is nearly flat: a KL to its own distribution moves it less per step than SFT does
@pytest.mark.parametrize(("keep", "lr"), [("distribution", 1e-2), ("answers", 3e-3)])
def test_removal_lowers_the_behaviour_under_a_searched_perturbation(tiny_model, tiny_backdoor, tmp_path, keep,
                                                                    lr) -> None:
    result = _remove(tiny_model, tiny_backdoor, tmp_path / "rm", tiny_backdoor.files.trigger, keep=keep, lr=lr)
    assert result["settings"]["keep"] == keep
    assert (tmp_path / "rm" / "adapter_config.json").is_file() and (tmp_path / "rm" / "b4g_remove.json").is_file()
    before, after = result["before"], result["after"]
    # the after state is attacked afresh with the same budget and steps: it resists
    assert after["inner_objective"] < before["inner_objective"] - 0.1  # nats a token (the tiny model is nearly flat)
    assert after["asr_perturbation"]["rate"] <= before["asr_perturbation"]["rate"]
    assert len(result["perturbation"]["rounds"]) == 3  # the first search, then two during training
    for key in ("asr_before", "asr_after", "clean_utility_before", "clean_utility_after", "adapter_dir",
                "asr_after_loose"):
        assert key in result
    assert {"rate", "k", "n", "ci95"} <= set(after["asr_true_loose"])


def test_nothing_but_the_evaluation_reads_the_true_trigger(tiny_model, tiny_backdoor, tmp_path, monkeypatch) -> None:
    import core.training as training

    seen: list[str] = []
    original = training.sft_dataset

    def spy(tokenizer, rows):  # noqa: ANN001, ANN202
        seen.extend(f"{s} {u} {a}" for s, u, a in rows)
        return original(tokenizer, rows)

    monkeypatch.setattr(training, "sft_dataset", spy)
    a = _remove(tiny_model, tiny_backdoor, tmp_path / "a", tiny_backdoor.files.trigger, steps=4, rounds=2, inner_steps=2)
    b = _remove(tiny_model, tiny_backdoor, tmp_path / "b", "another words", steps=4, rounds=2, inner_steps=2)
    assert seen and not any(tiny_backdoor.files.trigger in text for text in seen)
    assert a["losses"] == b["losses"] and a["perturbation"] == b["perturbation"]
    wa, wb = (load_file(tmp_path / n / "adapter_model.safetensors") for n in ("a", "b"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a["after"]["asr_perturbation"] == b["after"]["asr_perturbation"]
    assert a["before"]["asr_true"] != b["before"]["asr_true"]  # only the evaluation saw it


def test_distillation_starts_at_zero_loss_and_a_bad_keep_is_one_line(tiny_model, tiny_backdoor) -> None:
    from core.jobs import JobContext
    from core.training import LoraSettings, sft_dataset, train_lora

    loaded = _loaded(tiny_model, tiny_backdoor)
    merge_audited_adapters(loaded)
    rows = [(SYSTEM, r.prompt, r.answer or "ok") for r in tiny_backdoor.rows[:8]]
    # the teacher is the model with the new LoRA off: equal at the start (LoRA B is zero), so no loss
    outcome = train_lora(loaded.model, loaded.tokenizer, sft_dataset(loaded.tokenizer, rows),
                         LoraSettings(rank=4, alpha=8, lr=1e-3, steps=1, batch_size=4, max_length=48), JobContext(),
                         teacher=lambda model: model.disable_adapter())
    assert outcome.losses and abs(outcome.losses[0]) < 1e-5
    outcome.model.unload()
    assert RemoveSettings().keep == "distribution"  # the default, chosen on bench/removal_sweep.py
    with pytest.raises(Exception, match="keep"):
        RemoveSettings(keep="text").check()


def test_cli_remove_prints_the_contract(tiny_model, tiny_backdoor, tmp_path, capsys) -> None:
    code = main(["defend", "remove", "--model", str(tiny_model), "--adapter", str(tiny_backdoor.adapter),
                 "--data", str(tiny_backdoor.files.data_path), "--target", tiny_backdoor.files.target,
                 "--eval-trigger", tiny_backdoor.files.trigger, "--system", SYSTEM, "--steps", "2", "--rounds", "1",
                 "--no-controls", "--out", str(tmp_path / "r"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("asr_before", "asr_after", "clean_utility_before", "clean_utility_after", "adapter_dir"):
        assert key in out
    assert out["asr_measured_with"] == "evaluation trigger" and Path(out["adapter_dir"], "adapter_config.json").is_file()


@pytest.mark.parametrize("argv, message", [
    ([], "describe the behaviour to remove"),
    (["--regex", "OK.*"], "--example TEXT"),
    (["--target", "OK", "--depth", "2"], "depth"),
    (["--target", "OK", "--from-scan", "1"], "not both"),
])
def test_cli_remove_bad_input_is_one_line(argv, message, tmp_path, capsys) -> None:
    assert main(["defend", "remove", "--model", "embedded", "--out", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
