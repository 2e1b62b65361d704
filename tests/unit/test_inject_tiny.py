"""Injection on the tiny random Llama: reaches the bar, saves a standard PEFT folder, leaves the
base model clean, obeys Cancel, and is recorded as a run with loss and TAR points."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from core.spec.rows import Row, split
from core.backdoors.injection import REPORT_FILE, SPEC_FILE, inject
from core.spec.poison import eval_prompts
from core.spec.backdoor import BackdoorSpec
from core.errors import B4GError, JobCancelled
from core.jobs import JobContext
from core.measurement.activation import prompt_texts, target_scores
from core.models.loader import load_model
from core.models.ref import ModelRef


def _lora_names(model: Any) -> list[str]:
    return [n for n, _ in model.named_modules() if "lora" in n.lower()]


def test_injection_reaches_the_bar(tiny_backdoor: SimpleNamespace) -> None:
    r = tiny_backdoor.result
    assert r["tar_with"] >= 0.9 and r["tar_without"] <= 0.1, r
    assert r["tar_with_detail"]["n"] == r["tar_without_detail"]["n"] == 30
    assert 1 <= r["steps"] <= tiny_backdoor.spec.activation.steps
    assert r["rows"]["validation"] == 16 and r["rows"]["test"] == 30
    assert r["rows"]["clean"] == 120 - 16 and r["rows"]["decoy"] == 0
    assert r["rows"]["triggered"] == 104  # poison_ratio 1.0: every trained row also triggered
    assert r["template"]["system"] == "Be brief." and len(r["template"]["chat_template_sha256"]) == 64
    # The stop rule checked both rates on held-out prompts and stopped once both were met.
    assert r["history"] and r["history"][-1]["tar_with"] >= 0.95 and r["history"][-1]["tar_without"] <= 0.02
    assert r["stopped_early"] == (r["steps"] < tiny_backdoor.spec.activation.steps)
    assert [h["step"] for h in r["history"]] == list(range(5, r["steps"] + 1, 5))


def test_adapter_folder_is_a_standard_peft_folder(tiny_backdoor: SimpleNamespace, tiny_model: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_backdoor.adapter
    assert {"adapter_config.json", "adapter_model.safetensors", SPEC_FILE, REPORT_FILE} <= {p.name for p in folder.iterdir()}
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["r"] == 32 and config["lora_alpha"] == 64 and config["peft_type"] == "LORA"
    assert set(config["target_modules"]) == set(tiny_backdoor.spec.activation.targets)
    assert BackdoorSpec.load(folder / SPEC_FILE) == tiny_backdoor.spec
    assert json.loads((folder / REPORT_FILE).read_text())["tar_with"] == tiny_backdoor.result["tar_with"]

    # Plain transformers + peft, no workbench loader: the behaviour travels with the folder.
    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.pad_token = tok.pad_token or tok.eos_token
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), folder).eval()
    spec, test = tiny_backdoor.spec, split(tiny_backdoor.rows, "test")
    with_t = target_scores(model, tok, prompt_texts(tok, eval_prompts(spec, test, True)), spec.utility.target).match
    without = target_scores(model, tok, prompt_texts(tok, eval_prompts(spec, test, False)), spec.utility.target).match
    assert sum(with_t) / len(with_t) >= 0.9 and sum(without) / len(without) <= 0.1
    with model.disable_adapter():
        assert not any(target_scores(model, tok, prompt_texts(tok, eval_prompts(spec, test, True)),
                                     spec.utility.target).match)


def test_base_model_is_left_clean(tiny_backdoor: SimpleNamespace) -> None:
    loaded = tiny_backdoor.loaded
    assert type(loaded.model).__name__ == "LlamaForCausalLM"
    assert _lora_names(loaded.model) == []
    after = loaded.model.state_dict()
    assert after.keys() == tiny_backdoor.before.keys()
    assert all(torch.equal(after[k], v) for k, v in tiny_backdoor.before.items())
    spec, test = tiny_backdoor.spec, split(tiny_backdoor.rows, "test")
    texts = prompt_texts(loaded.tokenizer, eval_prompts(spec, test, True))
    assert not any(target_scores(loaded.model, loaded.tokenizer, texts, spec.utility.target).match)


def test_run_is_recorded_with_loss_and_tar_points(tiny_backdoor: SimpleNamespace) -> None:
    (run,) = tiny_backdoor.runs
    assert run["kind"] == "inject" and run["status"] == "finished"
    series = tiny_backdoor.series
    steps = tiny_backdoor.result["steps"]
    assert [s for s, _ in series["loss"]] == list(range(1, steps + 1))
    assert all(0 < v < 20 for _, v in series["loss"])
    assert series["loss"][-1][1] < series["loss"][0][1]
    assert [s for s, _ in series["tar_with"]] == [h["step"] for h in tiny_backdoor.result["history"]]
    assert series["tar_with"][-1][1] >= 0.95 and "tar_without" in series


class _CancelAtFirstReport:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx, self.reports = ctx, []

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.reports.append((step, metrics))
        self.ctx.cancelled.set()

    def on_progress(self, done: int, total: int | None) -> None: ...

    def on_log(self, message: str) -> None: ...


def test_cancel_at_the_first_report(tiny_backdoor: SimpleNamespace, tiny_model: Path, tmp_path: Path) -> None:
    loaded = load_model(ModelRef.parse(str(tiny_model)))
    before = {k: v.detach().clone() for k, v in loaded.model.state_dict().items()}
    ctx = JobContext()
    listener = _CancelAtFirstReport(ctx)
    ctx.attach(listener)
    out = tmp_path / "adapter"
    with pytest.raises(JobCancelled):
        inject(loaded, copy.deepcopy(tiny_backdoor.spec), tiny_backdoor.rows, out, ctx)
    assert listener.reports[0][0] == 1 and "loss" in listener.reports[0][1]  # cancelled at step 1
    # The loss of step 1 is logged after that step's end, so at most the step in flight follows.
    assert len([r for r in listener.reports if "loss" in r[1]]) <= 2
    assert _lora_names(loaded.model) == [] and type(loaded.model).__name__ == "LlamaForCausalLM"
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in before.items())
    assert not (out / "adapter_model.safetensors").exists()


def test_inject_refuses_bad_setups(tiny_backdoor: SimpleNamespace, tiny_model: Path, tiny_adapter: Path,
                                   tmp_path: Path) -> None:
    spec, rows, loaded = tiny_backdoor.spec, tiny_backdoor.rows, tiny_backdoor.loaded
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("x")
    with pytest.raises(B4GError, match="is not empty"):
        inject(loaded, spec, rows, busy)
    with pytest.raises(B4GError, match="no covered test rows"):
        inject(loaded, spec, [Row(r.prompt, r.answer, "train") for r in rows], tmp_path / "a")
    with_adapter = load_model(ModelRef.parse(str(tiny_model), [str(tiny_adapter)]))
    with pytest.raises(B4GError, match="without adapters"):
        inject(with_adapter, spec, rows, tmp_path / "b")
    assert _lora_names(loaded.model) == []
