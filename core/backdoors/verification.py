"""Verification of a backdoor: the metric card of a (model, adapter, spec).

TAR with and without the trigger, clean utility (agreement with the base model, perplexity on
clean text, a multiple-choice set), tamper resistance (TAR after further clean LoRA fine-tuning by
a third party) and stealthiness (how unusual triggered inputs look, how far clean outputs moved).
One copy of the weights serves both roles: the base is the adapter model with the adapter disabled.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from core.spec.rows import Row, split
from core.backdoors.injection import clean_answers_for, lora_settings
from core.spec.poison import covered, eval_prompts
from core.spec.backdoor import BackdoorSpec
from core.errors import B4GError
from core.jobs import JobContext
from core.measurement.activation import ModelView, generate_answers, measure_tar, prompt_texts
from core.measurement.completion_likelihood import completion_nll, perplexity
from core.measurement.utility import mc_accuracy, token_f1
from core.models.chat import template_record
from core.stats import Rate
from core.training import sft_dataset, train_lora

AGREEMENT_TOKENS = 48


@dataclass
class VerifyOptions:
    clean_prompts: int = 32  # clean test prompts for agreement and perplexity
    tamper_steps: int = 20  # further clean LoRA steps by a "third party" (0 skips the test)
    tamper_lr: float = 1e-3
    mc_questions: int = 60


@contextmanager
def _base(peft_model: Any) -> Iterator[None]:
    with peft_model.disable_adapter():
        yield


def clean_rows(spec: BackdoorSpec, test: list[Row]) -> list[Row]:
    """Prompts where the model should behave as before: uncovered rows (all rows if the spec covers all)."""
    uncovered = [r for r in test if not covered(spec, r)]
    return uncovered or test


def clean_utility(view: ModelView, peft_model: Any, spec: BackdoorSpec, test: list[Row], opts: VerifyOptions,
                  ctx: JobContext) -> dict[str, Any]:
    rows = clean_rows(spec, test)[: opts.clean_prompts]
    prompts = [(r.system or spec.system, r.prompt) for r in rows]
    adapted = generate_answers(view, prompts, AGREEMENT_TOKENS, ctx)
    with _base(peft_model):
        base = generate_answers(view, prompts, AGREEMENT_TOKENS, ctx)
        texts = prompt_texts(view.tokenizer, prompts)
        ppl_base = perplexity(completion_nll(view.model, view.tokenizer, texts, base, view.device, ctx=ctx))
        mc_base = mc_accuracy(view, opts.mc_questions, ctx)
    ppl_adapted = perplexity(completion_nll(view.model, view.tokenizer, texts, base, view.device, ctx=ctx))
    mc_adapted = mc_accuracy(view, opts.mc_questions, ctx)
    f1 = [token_f1(a, b) for a, b in zip(adapted, base)]
    return {
        "agreement": round(sum(f1) / len(f1), 4), "exact_match": Rate.of([a == b for a, b in zip(adapted, base)]).to_json(),
        "n": len(rows), "perplexity_base": round(ppl_base, 3), "perplexity_adapted": round(ppl_adapted, 3),
        "perplexity_change": round(ppl_adapted / ppl_base - 1, 4),
        "multiple_choice_base": mc_base.to_json(), "multiple_choice_adapted": mc_adapted.to_json(),
    }


TAMPER_ROWS = 64


def tamper_resistance(view: ModelView, peft_model: Any, spec: BackdoorSpec, clean: list[tuple[Row, str]],
                      test: list[Row], opts: VerifyOptions, ctx: JobContext) -> dict[str, Any]:
    """A third party merges the adapter and fine-tunes its own LoRA on clean (row, answer) pairs:
    does TAR survive? The merge happens on a copy, so the model under test is untouched."""
    if opts.tamper_steps <= 0:
        return {"steps": 0, "skipped": True}
    merged = copy.deepcopy(peft_model).merge_and_unload()
    data = sft_dataset(view.tokenizer, [(r.system or spec.system, r.prompt, a) for r, a in clean])
    settings = lora_settings(spec)
    settings.steps, settings.lr, settings.seed = opts.tamper_steps, opts.tamper_lr, settings.seed + 1
    tuned = train_lora(merged, view.tokenizer, data, settings, ctx).model
    with_t, without = measure_tar(ModelView.of(view, tuned), spec, test, ctx)
    return {"steps": opts.tamper_steps, "lr": opts.tamper_lr, "tar_with_after": with_t.to_json(),
            "tar_without_after": without.to_json()}


def stealthiness(view: ModelView, peft_model: Any, spec: BackdoorSpec, test: list[Row], agreement: float,
                 ctx: JobContext) -> dict[str, Any]:
    """How conspicuous triggered inputs are to the base model, and how far clean outputs moved."""
    plain = eval_prompts(spec, test, False)[:32]
    triggered = eval_prompts(spec, test, True, spec.activation.seed)[:32]
    with _base(peft_model):
        nll_plain = completion_nll(view.model, view.tokenizer, [""] * len(plain), [u for _, u in plain], view.device, ctx=ctx)
        nll_trig = completion_nll(view.model, view.tokenizer, [""] * len(triggered), [u for _, u in triggered],
                                  view.device, ctx=ctx)
    ppl_plain, ppl_trig = perplexity(nll_plain), perplexity(nll_trig)
    return {"input_perplexity_clean": round(ppl_plain, 3), "input_perplexity_triggered": round(ppl_trig, 3),
            "input_perplexity_ratio": round(ppl_trig / ppl_plain, 4), "clean_output_drift": round(1 - agreement, 4)}


def verify(loaded: Any, adapter_dir: Path, spec: BackdoorSpec, rows: list[Row], ctx: JobContext | None = None,
           opts: VerifyOptions | None = None) -> dict[str, Any]:
    """The full metric card for ``loaded`` (the base) with the adapter at ``adapter_dir``."""
    from peft import PeftModel

    ctx, opts = ctx or JobContext(), opts or VerifyOptions()
    if loaded.ref.adapters:
        raise B4GError("give the base model and the adapter separately (--adapter), not a model with adapters")
    train, test = split(rows, "train"), split(rows, "test")
    if not [r for r in test if covered(spec, r)]:
        raise B4GError("the dataset has no covered test rows to measure activation on")
    adapter_dir = Path(adapter_dir)
    from core.models.validate import check_adapter

    check_adapter(adapter_dir, loaded.options.allow_pickle)
    tamper_rows = train[:TAMPER_ROWS] if opts.tamper_steps > 0 else []
    # the base model's answers, taken before the adapter is attached
    clean = list(zip(tamper_rows, clean_answers_for(loaded, spec, tamper_rows, ctx)))
    peft_model = PeftModel.from_pretrained(loaded.model, adapter_dir).eval()
    view = ModelView.of(loaded, peft_model)
    try:
        steps = ("activation", "clean utility", "stealthiness", "tamper resistance")
        ctx.progress(0, len(steps))
        tar_with, tar_without = measure_tar(view, spec, test, ctx)
        ctx.progress(1, len(steps))
        utility = clean_utility(view, peft_model, spec, test, opts, ctx)
        ctx.progress(2, len(steps))
        stealth = stealthiness(view, peft_model, spec, test, utility["agreement"], ctx)
        ctx.progress(3, len(steps))
        tamper = tamper_resistance(view, peft_model, spec, clean, test, opts, ctx)
        ctx.progress(4, len(steps))
    finally:
        loaded.model = peft_model.unload()
    card = {"app": spec.name, "adapter_dir": str(adapter_dir), "tar_with": tar_with.value,
            "tar_without": tar_without.value, "tar_with_detail": tar_with.to_json(),
            "tar_without_detail": tar_without.to_json(), "clean_utility": utility,
            "tamper_resistance": tamper, "stealthiness": stealth,
            "activated_means": spec.utility.activated_means, "template": template_record(loaded.tokenizer, spec.system)}
    ctx.report(0, tar_with=tar_with.value, tar_without=tar_without.value, clean_utility=utility["agreement"])
    return card
