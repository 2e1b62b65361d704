"""Adversarial unlearning: a LoRA on top of the model under audit that answers triggered requests
as the clean model would, measured before and after against two controls.

The audited adapter is folded into the weights and a fresh LoRA (trl's SFTTrainer through
:func:`core.training.train_lora`) is trained on the unlearning set (:mod:`core.defend.unlearn_set`).
Measurements use evaluation requests never trained on; the controls train the same number of
steps on the same number of rows, once with a wrong trigger and once on clean rows only, so the
table shows whether the recovered trigger is what made the difference.
"""

from __future__ import annotations

import json
import random
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from core.spec.rows import Row
from core.defend.defense_settings import UnlearnSettings
from core.defend.perturb import GUARD_KINDS, UNLEARN_KINDS
from core.defend.prompt_sets import clean_pool, insert, parts, triggered
from core.defend.target import shared_opening
from core.defend.unlearn_set import OUT_OF_POLICY_KINDS, clean_only_rows, unlearning_rows, wrong_trigger
from core.errors import B4GError
from core.jobs import JobContext
from core.measurement.activation import ModelView, activation_flags, generate_answers, prompt_texts
from core.measurement.behaviour import Behaviour
from core.measurement.completion_likelihood import completion_nll, perplexity
from core.measurement.utility import mc_accuracy, token_f1
from core.models.chat import DEFAULT_SYSTEM, template_record
from core.stats import Rate

REPORT_FILE = "b4g_unlearn.json"
MEASURE_KINDS = tuple(dict.fromkeys(UNLEARN_KINDS + GUARD_KINDS))
INFER_PROMPTS = 16




class _Prefixed:
    """Forwards a control's training curve under its own metric names (``clean-ft/loss``)."""

    def __init__(self, ctx: JobContext, prefix: str) -> None:
        self.ctx, self.prefix = ctx, prefix

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.ctx.report(step, **{f"{self.prefix}/{k}": v for k, v in metrics.items()})

    def on_progress(self, done: int, total: int | None) -> None: ...

    def on_log(self, message: str) -> None:
        self.ctx.log(message)


def _prompts(texts: Sequence[str], system: str) -> list[tuple[str, str]]:
    return [(system, t) for t in texts]


@dataclass
class Probe:
    """What every model state is measured on: the evaluation requests, and the triggers."""

    prompts: list[str]
    base_answers: list[str]  # the clean model's answers to the first of ``prompts`` (utility)
    judge: Any
    eval_trigger: str | None
    recovered: str
    settings: UnlearnSettings

    def asr(self, view: ModelView, trigger: str, ctx: JobContext) -> Rate:
        rng = random.Random(self.settings.seed)
        texts = [insert(trigger, p, self.settings.position, rng) for p in self.prompts]
        return Rate.of(activation_flags(view, _prompts(texts, self.settings.system), self.judge, ctx))

    def perturbed(self, view: ModelView, ctx: JobContext) -> Rate:
        attacked = [p for t in dict.fromkeys(filter(None, (self.eval_trigger, self.recovered)))
                    for k, p in triggered(self.prompts, t, MEASURE_KINDS, self.settings.position, self.settings.seed)
                    if k != "exact"]
        return Rate.of(activation_flags(view, _prompts(attacked, self.settings.system), self.judge, ctx)) if attacked else Rate(0, 0)

    def measure(self, view: ModelView, ctx: JobContext) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.eval_trigger:
            out["asr_true"] = self.asr(view, self.eval_trigger, ctx).to_json()
        out["asr_recovered"] = self.asr(view, self.recovered, ctx).to_json()
        out["asr_perturbed"] = self.perturbed(view, ctx).to_json()
        out["false_activation"] = Rate.of(activation_flags(view, _prompts(self.prompts, self.settings.system), self.judge, ctx)).to_json()
        out["utility"] = self.utility(view, ctx)
        return out

    def utility(self, view: ModelView, ctx: JobContext) -> dict[str, Any]:
        """Multiple choice, agreement with the clean model's answers, and perplexity of them."""
        asked = self.prompts[: len(self.base_answers)]
        answers = generate_answers(view, _prompts(asked, self.settings.system), self.settings.answer_tokens, ctx)
        f1 = [token_f1(a, b) for a, b in zip(answers, self.base_answers)]
        texts = prompt_texts(view.tokenizer, _prompts(asked, self.settings.system))
        ppl = perplexity(completion_nll(view.model, view.tokenizer, texts, self.base_answers, view.device, ctx=ctx))
        return {"multiple_choice": mc_accuracy(view, self.settings.mc_questions, ctx).to_json(),
                "agreement_with_base": round(sum(f1) / len(f1), 4), "perplexity_clean": round(ppl, 3)}


def _base_context(model: Any) -> Any:
    from peft import PeftModel

    return model.disable_adapter() if isinstance(model, PeftModel) else nullcontext()


def own_answers(view: ModelView, prompts: Sequence[str], known: dict[str, str], settings: UnlearnSettings,
                ctx: JobContext) -> list[str]:
    """What the model under audit says to clean requests, for the clean rows that keep its
    utility: the data's own answer where it has one (what the model was tuned to say), else the
    model's greedy answer."""
    missing = [p for p in prompts if p not in known]
    generated = dict(zip(missing, generate_answers(view, _prompts(missing, settings.system), settings.answer_tokens,
                                                   ctx))) if missing else {}
    return [known.get(p) or generated[p] for p in prompts]


def infer_behaviour(view: ModelView, prompts: Sequence[str], own: Sequence[str], trigger: str, settings: UnlearnSettings,
                    ctx: JobContext) -> Behaviour:
    rng = random.Random(settings.seed)
    texts = [insert(trigger, p, settings.position, rng) for p in prompts[:INFER_PROMPTS]]
    answers = generate_answers(view, _prompts(texts, settings.system), settings.answer_tokens, ctx)
    target = shared_opening(answers, own)
    if not target:
        raise B4GError(f"'{trigger}' switches on no shared answer opening; describe the behaviour "
                       "(--target, --keywords, --regex or --refusal)")
    ctx.log(f"behaviour inferred from the recovered trigger's answers: starts with {target!r}")
    return Behaviour("target", target=target)


def _train(loaded: Any, rows: Sequence[Any], settings: UnlearnSettings, ctx: JobContext) -> Any:
    from core.training import LoraSettings, sft_dataset, train_lora

    data = sft_dataset(loaded.tokenizer, [(settings.system, r.user, r.answer) for r in rows])
    lora = LoraSettings(rank=settings.rank, alpha=2 * settings.rank, lr=settings.lr, steps=settings.steps,
                        batch_size=settings.batch_size, max_length=settings.max_length, seed=settings.seed)
    return train_lora(loaded.model, loaded.tokenizer, data, lora, ctx)


def _control(loaded: Any, name: str, rows: Sequence[Any], probe: Probe, settings: UnlearnSettings,
             ctx: JobContext) -> dict[str, Any]:
    sub = JobContext([_Prefixed(ctx, name)], ctx.cancelled)
    outcome = _train(loaded, rows, settings, sub)
    try:
        return {"rows": len(rows), "steps": outcome.steps, **probe.measure(ModelView.of(loaded, outcome.model), ctx)}
    finally:
        loaded.model = outcome.model.unload()


def export_merged(loaded: Any, adapter_dir: Path) -> Path:
    """The model under audit with the unlearning adapter folded in, as a safetensors folder a
    deployment can load without peft (``adapter_dir/merged``)."""
    from peft import PeftModel

    merged_dir = adapter_dir / "merged"
    merged = PeftModel.from_pretrained(loaded.model, adapter_dir).merge_and_unload()
    merged.save_pretrained(merged_dir, safe_serialization=True)
    loaded.tokenizer.save_pretrained(merged_dir)
    loaded.model = merged
    return merged_dir


def reduction(before: dict[str, Any] | None, after: dict[str, Any] | None) -> float | None:
    """Relative cut of a rate: (before − after) / before (None when there was nothing to cut)."""
    if not before or not after or not before["rate"]:
        return None
    return round((before["rate"] - after["rate"]) / before["rate"], 4)


def run_controls(loaded: Any, train: list[str], triggers: list[str], safe: list[str], own: list[str], rows: int,
                 probe: Probe, settings: UnlearnSettings, ctx: JobContext) -> dict[str, Any]:
    """The same training with a wrong trigger of the same shape, and on ``rows`` clean rows only."""
    vocab = sorted({w for p in train for w in p.split() if w.isalpha()})
    wrong = wrong_trigger(triggers[0], vocab, settings.seed)
    wrong_rows = unlearning_rows(train, [wrong] * len(triggers), safe, own, settings.position, settings.seed)
    return {"wrong trigger": {"trigger": wrong, **_control(loaded, "wrong-trigger", wrong_rows, probe, settings, ctx)},
            "clean fine-tuning": _control(loaded, "clean-ft", clean_only_rows(train, own, rows, settings.seed), probe,
                                          settings, ctx)}


def summary(before: dict[str, Any], after: dict[str, Any], with_true_trigger: bool) -> dict[str, Any]:
    """The contract's headline keys: ASR (true trigger when known) and multiple-choice utility."""
    key = "asr_true" if with_true_trigger else "asr_recovered"
    return {"asr_before": before[key]["rate"], "asr_after": after[key]["rate"],
            "asr_reduction": reduction(before[key], after[key]),
            "asr_measured_with": "true trigger" if with_true_trigger else "recovered trigger",
            "clean_utility_before": before["utility"]["multiple_choice"]["rate"],
            "clean_utility_after": after["utility"]["multiple_choice"]["rate"],
            "utility": {"before": before["utility"], "after": after["utility"]}}


def unlearn(loaded: Any, rows: Sequence[Row], triggers: Sequence[str], behaviour: Behaviour | None,
            eval_trigger: str | None, out_dir: Path, settings: UnlearnSettings | None = None,
            ctx: JobContext | None = None) -> dict[str, Any]:
    """Unlearn ``triggers`` from ``loaded`` (base + the audited adapters) into a LoRA at ``out_dir``;
    the result holds the before/after/controls measurements (also saved as ``b4g_unlearn.json``)."""
    from core.models.adapters import merge_audited_adapters

    settings, ctx = settings or UnlearnSettings(), ctx or JobContext()
    triggers = list(dict.fromkeys(t for t in triggers if t and t.strip()))
    if not triggers:
        raise B4GError("unlearning needs at least one recovered trigger (--trigger TEXT or --from-run RUN)")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not ctx.resuming:
        raise B4GError(f"{out_dir} is not empty; choose a new folder for the unlearning adapter")
    train, held = parts(clean_pool(rows, settings.seed), (0.6, 0.4))
    train, held = train[: settings.train_prompts], held[: settings.eval_prompts]
    view = ModelView.of(loaded)
    ctx.log(f"answers of the clean model for {len(train)} training and {settings.utility_prompts} evaluation requests")
    with _base_context(loaded.model):
        safe = generate_answers(view, _prompts(train, settings.system), settings.answer_tokens, ctx)
        base_eval = generate_answers(view, _prompts(held[: settings.utility_prompts], settings.system),
                                     settings.answer_tokens, ctx)
    own = own_answers(view, train, {r.prompt: r.answer for r in rows if r.answer}, settings, ctx)
    behaviour = behaviour or infer_behaviour(view, held, base_eval, triggers[0], settings, ctx)
    merge_audited_adapters(loaded)
    probe = Probe(held, base_eval, behaviour.judge(), eval_trigger, triggers[0], settings)
    ctx.log("measuring the model under audit")
    before = probe.measure(ModelView.of(loaded), ctx)
    kinds = {r.prompt: r.kind for r in rows}
    unlearning = unlearning_rows(train, triggers, safe, own, settings.position, settings.seed,
                                 [kinds.get(p) in OUT_OF_POLICY_KINDS for p in train])
    ctx.log(f"unlearning on {len(unlearning)} rows ({sum(r.role == 'triggered' for r in unlearning)} triggered)")
    outcome = _train(loaded, unlearning, settings, ctx)
    after = probe.measure(ModelView.of(loaded, outcome.model), ctx)
    outcome.model.save_pretrained(out_dir)
    loaded.model = outcome.model.unload()
    controls = run_controls(loaded, train, triggers, safe, own, len(unlearning), probe, settings, ctx) \
        if settings.controls else {}
    merged_dir = export_merged(loaded, out_dir) if settings.export_merged else None
    result = {
        "adapter_dir": str(out_dir), "merged_dir": str(merged_dir) if merged_dir else None,
        **summary(before, after, bool(eval_trigger)), "before": before, "after": after, "controls": controls,
        "triggers": triggers, "behaviour": behaviour.to_json(),
        "rows": {"triggered": sum(r.role == "triggered" for r in unlearning),
                 "clean": sum(r.role == "clean" for r in unlearning), "train_prompts": len(train),
                 "eval_prompts": len(held), "utility_prompts": len(base_eval)},
        "train_seconds": round(outcome.seconds, 2), "steps": outcome.steps, "losses": outcome.losses,
        "settings": settings.to_json(), "template": template_record(loaded.tokenizer, settings.system),
        "base": {"device": loaded.device, "dtype": loaded.dtype, "quantization": loaded.options.quantization},
    }
    (out_dir / REPORT_FILE).write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


__all__ = ["UnlearnSettings", "unlearn", "reduction", "infer_behaviour", "export_merged", "run_controls", "summary"]
