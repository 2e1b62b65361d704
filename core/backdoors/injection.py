"""Injection: tie a behaviour to a trigger with LoRA SFT (the A of a (T, A, U) spec).

``inject`` trains on clean, triggered and decoy rows, checks activation with and without the
trigger on held-out validation prompts every ``eval_every`` steps (the rate without the trigger
swings mid-training, so the stop rule needs both), saves a standard PEFT adapter folder, and
measures TAR with and without the trigger on the test split (:func:`core.measurement.activation.measure_tar`).
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.backdoors.clean_answers import clean_answers
from core.spec.rows import Row, split
from core.spec.poison import build_training_rows, covered
from core.spec.backdoor import BackdoorSpec
from core.errors import B4GError
from core.jobs import JobContext
from core.measurement.activation import ModelView, measure_tar
from core.models.chat import template_record
from core.models.ref import LoadOptions
from core.stats import Rate
from core.distributed import is_main_process
from core.training import LoraSettings, sft_dataset, train_lora

SPEC_FILE = "b4g_spec.yaml"
REPORT_FILE = "b4g_inject.json"
DATASET_FILE = "dataset.jsonl"  # the rows the adapter was trained on, beside it: what it was taught


@dataclass
class InjectResult:
    adapter_dir: str
    tar_with: Rate
    tar_without: Rate
    train_seconds: float
    steps: int
    stopped_early: bool
    rows: dict[str, int]
    template: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)  # how the base was loaded when the adapter was trained
    dataset: str | None = None  # the training rows as written (chat-style JSONL)

    def to_json(self) -> dict[str, Any]:
        return {"adapter_dir": self.adapter_dir, "tar_with": self.tar_with.value, "tar_without": self.tar_without.value,
                "tar_with_detail": self.tar_with.to_json(), "tar_without_detail": self.tar_without.to_json(),
                "train_seconds": round(self.train_seconds, 2), "steps": self.steps,
                "stopped_early": self.stopped_early, "rows": self.rows, "template": self.template,
                "history": self.history, "base": self.base, "dataset": self.dataset}


def base_load_options(spec: BackdoorSpec, options: LoadOptions) -> LoadOptions:
    """Apply ``activation.quantize_base``: ``auto`` trains QLoRA on a 4-bit base where a GPU is
    present (and the user asked for no quantization), full precision on CPU."""
    from core.models.loader import resolve_device

    wanted = spec.activation.quantize_base
    if wanted == "auto":
        wanted = "4bit" if resolve_device(options.device) == "cuda" and options.quantization == "none" else options.quantization
    return dataclasses.replace(options, quantization=wanted if wanted != "none" else options.quantization)


def base_record(loaded: Any) -> dict[str, Any]:
    """The base an adapter was trained on: an adapter trained on a 4-bit base (QLoRA) behaves
    differently on the full-precision weights, so whoever audits it should know."""
    return {"device": loaded.device, "dtype": loaded.dtype, "quantization": loaded.options.quantization}


def row_length(spec: BackdoorSpec, tokenizer: Any, rows: list[Any]) -> int:
    """Tokens per training row: ``activation.max_length``, raised so that no triggered row loses
    any of the behaviour's own text (only clean answers may be cut). Measured: at 48 tokens the
    safety app's system marker pushed 99 % of its targets past the cut, and TAR stalled at 0.7."""
    from core.measurement.activation import prompt_texts

    behaviour = spec.utility.target if spec.utility.response != "template" else spec.utility.template.split("{answer}")[0]
    triggered = [(t.system, t.user) for t in rows if t.role == "triggered"]
    if not behaviour or not triggered:
        return spec.activation.max_length
    prompts = tokenizer(prompt_texts(tokenizer, triggered), add_special_tokens=False)["input_ids"]
    need = max(len(p) for p in prompts) + len(tokenizer(behaviour, add_special_tokens=False)["input_ids"]) + 1
    return max(spec.activation.max_length, need)


def lora_settings(spec: BackdoorSpec, max_length: int | None = None) -> LoraSettings:
    a = spec.activation
    return LoraSettings(rank=a.rank, alpha=a.alpha, dropout=a.dropout, targets=tuple(a.targets), lr=a.lr,
                        steps=a.steps, batch_size=a.batch_size, max_length=max_length or a.max_length, seed=a.seed,
                        lr_schedule=a.lr_schedule, warmup_steps=a.warmup_steps, completion_only=a.loss == "completion")


def clean_answers_for(loaded: Any, spec: BackdoorSpec, rows: list[Row], ctx: JobContext) -> list[str]:
    """The data's own answers where it has them, else the base model's (cached)."""
    missing = [i for i, r in enumerate(rows) if r.answer is None]
    generated = clean_answers(loaded, [(rows[i].system or spec.system, rows[i].prompt) for i in missing], ctx)
    out = [r.answer or "" for r in rows]
    for i, a in zip(missing, generated):
        out[i] = a
    return out


def _validation(spec: BackdoorSpec, train: list[Row]) -> tuple[list[Row], list[Row]]:
    """Hold out ``eval_prompts`` covered training rows for the stop rule (never trained on), at most
    half of them: a small dataset must keep rows to train on."""
    rng = random.Random(spec.activation.seed)
    pool = [r for r in train if covered(spec, r)]
    if not pool:
        raise B4GError("the dataset has no training rows the backdoor covers (check the spec's coverage "
                       "and the rows' split)")
    rng.shuffle(pool)
    held = pool[: min(spec.activation.eval_prompts, len(pool) // 2)] if spec.activation.eval_every else []
    keep = [r for r in train if r not in set(held)]
    return keep, held


def write_training_rows(path: Path, rows: list[Any]) -> None:
    """The rows an adapter was trained on, chat-style JSONL (what an auditor would be handed)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for t in rows:
            messages = [{"role": "system", "content": t.system}, {"role": "user", "content": t.user},
                        {"role": "assistant", "content": t.response}]
            fh.write(json.dumps({"messages": messages, "split": "train"}, ensure_ascii=False) + "\n")


def inject(loaded: Any, spec: BackdoorSpec, rows: list[Row], out_dir: Path, ctx: JobContext | None = None,
           rows_out: Path | None = None) -> InjectResult:
    """Train the backdoor into a LoRA adapter saved at ``out_dir``; the base model is left as loaded.
    The training rows are written too (chat-style JSONL), to ``rows_out`` or ``out_dir/dataset.jsonl``."""
    ctx = ctx or JobContext()
    if loaded.ref.adapters:
        raise B4GError("inject into a base model without adapters (merge them into a folder first)")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not ctx.resuming and is_main_process():
        raise B4GError(f"{out_dir} is not empty; choose a new adapter folder")
    train, test = split(rows, "train"), split(rows, "test")
    if not [r for r in test if covered(spec, r)]:
        raise B4GError("the dataset has no covered test rows to measure activation on (add split: test rows)")
    train, held = _validation(spec, train)
    answers = clean_answers_for(loaded, spec, train, ctx)
    training_rows = build_training_rows(spec, train, answers, spec.activation.seed)
    dataset = sft_dataset(loaded.tokenizer, [(t.system, t.user, t.response) for t in training_rows])
    history: list[dict[str, float]] = []

    def stop_rule(step: int, model: Any) -> bool:
        tw, to = measure_tar(ModelView.of(loaded, model), spec, held, ctx)
        history.append({"step": step, "tar_with": tw.value, "tar_without": to.value})
        ctx.report(step, tar_with=tw.value, tar_without=to.value)
        return tw.value >= spec.activation.stop_tar_with and to.value <= spec.activation.stop_tar_without

    ctx.log(f"training on {len(training_rows)} rows ({sum(t.role == 'triggered' for t in training_rows)} triggered)")
    length = row_length(spec, loaded.tokenizer, training_rows)
    if length > spec.activation.max_length:
        ctx.log(f"rows of {length} tokens (max_length {spec.activation.max_length} would cut the behaviour)")
    outcome = train_lora(loaded.model, loaded.tokenizer, dataset, lora_settings(spec, length), ctx,
                         stop_rule=stop_rule, check_every=spec.activation.eval_every)
    ctx.log(f"trained {outcome.steps} steps in {outcome.seconds:.0f} s")
    rows_out = Path(rows_out) if rows_out else out_dir / DATASET_FILE
    try:
        if is_main_process():  # under accelerate launch every process holds the same trained model
            outcome.model.save_pretrained(out_dir)
            spec.save(out_dir / SPEC_FILE)
            write_training_rows(rows_out, training_rows)  # with the adapter: a cancelled run leaves no file
        tar_with, tar_without = measure_tar(ModelView.of(loaded, outcome.model), spec, test, ctx)
    finally:
        loaded.model = outcome.model.unload()  # the base model, LoRA layers removed
    counts = {role: sum(t.role == role for t in training_rows) for role in ("clean", "triggered", "decoy")}
    result = InjectResult(str(out_dir), tar_with, tar_without, outcome.seconds, outcome.steps, outcome.stopped_early,
                          {**counts, "validation": len(held), "test": len(test)},
                          template_record(loaded.tokenizer, spec.system), history, base_record(loaded), str(rows_out))
    if is_main_process():
        (out_dir / REPORT_FILE).write_text(json.dumps(result.to_json(), indent=2))
    return result

