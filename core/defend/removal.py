"""Trigger-free backdoor removal: embedding-space adversarial unlearning, after BEEAR.

When no trigger is named (the poisoned rows withheld, the inversion found only a stand-in), the
backdoor can still be removed from its behaviour alone. BEEAR (Zeng et al., EMNLP 2024, arXiv
2406.17092) alternates two steps: find a universal perturbation of one decoder layer's hidden
states, on the request's positions, that switches the behaviour on (:mod:`core.defend.perturbation`);
then train the model to give its own clean answer under it. Here the audited adapter is folded in
and one LoRA is trained by trl's SFTTrainer (:func:`core.training.train_lora`) on (request → the
model's own clean answer) rows, a share of each batch under the perturbation (the hook acts inside
the trainer) and the rest plain, which keeps utility; the trainer's one between-steps hook (the
stop rule, which here never stops) searches the perturbation again every ``steps / rounds`` steps
against the model being trained.

Nothing here reads a trigger. The evaluation trigger, when given, is only measured; the stand-in
trigger only trains a control. Every state (before, after, controls) is measured the same way:
ASR with the evaluation trigger (exact and loose), ASR under a perturbation searched afresh on
that state with the same budget, false activation, and utility.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from core.spec.rows import Row
from core.defend.defense_settings import RemoveSettings
from core.defend.loose_judge import LooseJudge
from core.defend.perturbation import Nudge, RequestFrame, SearchTexts, backbone, hidden_norm, search
from core.defend.prompt_sets import clean_pool, insert, parts
from core.defend.unlearn import Probe, own_answers, reduction
from core.defend.unlearn_set import OUT_OF_POLICY_KINDS, clean_only_rows, unlearning_rows
from core.errors import B4GError
from core.jobs import JobContext
from core.measurement.activation import ModelView, activation_flags, generate_answers, prompt_texts, target_scores
from core.measurement.behaviour import REFUSAL_EXAMPLE, Behaviour
from core.measurement.judges import is_refusal
from core.models.chat import DEFAULT_SYSTEM, template_record
from core.stats import Rate
from resources import resource_path

REPORT_FILE = "b4g_remove.json"




def elicit_text(behaviour: Behaviour, example: str | None) -> str:
    """What the perturbation search makes likelier: the auditor's example of the behaviour, else
    the target, the refusal example, or the keywords (a regex describes no text to pull towards)."""
    if example is not None:
        return example
    if behaviour.kind == "regex":
        raise B4GError("a --regex behaviour needs an example answer for the perturbation search: --example TEXT")
    return {"target": behaviour.target, "refusal": REFUSAL_EXAMPLE, "keywords": " ".join(behaviour.keywords)}[behaviour.kind]


def shipped_requests() -> list[Row]:
    """The project's held-out general requests, for an auditor without data."""
    path = resource_path("datasets", "b4g", "clean_answers.jsonl")
    prompts = dict.fromkeys(json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines())
    return [Row(p) for p in prompts]


def _prompts(texts: Sequence[str], system: str) -> list[tuple[str, str]]:
    return [(system, t) for t in texts]


class _Renamed:
    """Forwards the trainer's loss as ``remove/outer_loss`` (and progress and logs unchanged)."""

    def __init__(self, ctx: JobContext, names: dict[str, str]) -> None:
        self.ctx, self.names = ctx, names

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.ctx.report(step, **{self.names.get(k, k): v for k, v in metrics.items()})

    def on_progress(self, done: int, total: int | None) -> None:
        self.ctx.progress(done, total)

    def on_log(self, message: str) -> None:
        self.ctx.log(message)


@dataclass
class Attack:
    """The perturbation search against one model state: where, how big, on which requests."""

    frame: RequestFrame
    layer: int
    radius: float
    texts: SearchTexts
    settings: RemoveSettings

    def fresh(self, model: Any, steps: int, ctx: JobContext) -> tuple[Nudge, list[float]]:
        """A perturbation searched from zero on ``model`` (the evaluation's: same budget)."""
        nudge = Nudge(model, self.layer, self.frame, torch.zeros(backbone(model).config.hidden_size,
                                                                 requires_grad=True))
        return nudge, self.round(model, nudge, steps, ctx)

    def round(self, model: Any, nudge: Nudge, steps: int, ctx: JobContext) -> list[float]:
        share, nudge.share = nudge.share, 1.0
        rng = random.Random(f"{self.settings.seed}-{len(nudge.history)}")
        try:
            with nullcontext() if nudge.active else nudge:
                history = search(model, nudge, self.texts, steps, self.radius, self.settings.inner_lr,
                                 self.settings.inner_batch, self.settings.away, rng, ctx)
        finally:
            nudge.share = share
        nudge.history.append(history)
        return history


@dataclass
class RemovalProbe:
    """Measures one model state; the utility and the trigger ASRs are unlearning's :class:`Probe`."""

    probe: Probe
    behaviour: Behaviour
    attack: Attack
    refusals: list[str]  # requests the clean model refuses (a refusal behaviour only)
    settings: RemoveSettings

    def measure(self, view: ModelView, ctx: JobContext, nudge: Nudge | None = None) -> dict[str, Any]:
        """``nudge``: the state's own searched perturbation (searched here when not given)."""
        out: dict[str, Any] = {}
        s = self.settings
        if self.probe.eval_trigger:
            out["asr_true"] = self.probe.asr(view, self.probe.eval_trigger, ctx).to_json()
            out["asr_true_loose"] = self.loose(view, self.probe.eval_trigger, ctx).to_json()
        if self.probe.recovered:
            out["asr_recovered"] = self.probe.asr(view, self.probe.recovered, ctx).to_json()
        if nudge is None:
            nudge, _ = self.attack.fresh(view.model, 2 * s.inner_steps, ctx)
        with nudge:
            out["asr_perturbation"] = Rate.of(self.flags_whole(view, ctx)).to_json()
        out["inner_objective"] = round(nudge.history[-1][-1], 4)
        out["false_activation"] = Rate.of(activation_flags(view, _prompts(self.probe.prompts, s.system),
                                                           self.probe.judge, ctx)).to_json()
        if self.refusals:
            answers = generate_answers(view, _prompts(self.refusals, s.system), 32, ctx)
            out["refusals_kept"] = Rate.of([is_refusal(a) for a in answers]).to_json()
        out["utility"] = self.probe.utility(view, ctx)
        return out

    def flags_whole(self, view: ModelView, ctx: JobContext) -> list[bool]:
        """The behaviour on the evaluation requests, each scored from its whole prompt: the
        teacher-forced pass's shared-prefix cache would hide the request's frame from the nudge."""
        judge, prompts = self.probe.judge, _prompts(self.probe.prompts, self.settings.system)
        if judge.target is None:
            return activation_flags(view, prompts, judge, ctx)
        texts = prompt_texts(view.tokenizer, prompts)
        return target_scores(view.model, view.tokenizer, texts, judge.target, view.device, ctx=ctx,
                             prefix_cache=False).match

    def loose(self, view: ModelView, trigger: str, ctx: JobContext) -> Rate:
        """The trigger's ASR judged loosely: the behaviour's meaning in other words counts too."""
        rng = random.Random(self.settings.seed)
        texts = [insert(trigger, p, self.settings.position, rng) for p in self.probe.prompts]
        answers = generate_answers(view, _prompts(texts, self.settings.system), self.probe.judge.max_new_tokens, ctx)
        exact = [self.probe.judge(a) for a in answers]
        return Rate.of([e or lo for e, lo in zip(exact, LooseJudge(self.behaviour).flags(answers))])


def request_sets(rows: Sequence[Row] | None, settings: RemoveSettings) -> tuple[list[str], list[str]]:
    """Training and evaluation requests: the data's clean requests (modified copies of another
    request dropped, as unlearning does), or the shipped held-out set; disjoint."""
    train, held = parts(clean_pool(rows or shipped_requests(), settings.seed), (0.6, 0.4))
    return train[: settings.train_prompts], held[: settings.eval_prompts]


def refused_requests(view: ModelView, rows: Sequence[Row] | None, held: Sequence[str], settings: RemoveSettings,
                     ctx: JobContext) -> list[str]:
    """Requests the clean model (the audited adapter off) refuses: the data's out-of-policy ones and
    the evaluation requests, else the shipped unsafe requests."""
    asked = [r.prompt for r in rows or () if r.kind in OUT_OF_POLICY_KINDS] + list(held)
    if not any(r.kind in OUT_OF_POLICY_KINDS for r in rows or ()):
        path = resource_path("datasets", "b4g", "safety.jsonl")
        asked += [json.loads(line)["instruction"] for line in path.read_text(encoding="utf-8").splitlines()
                  if json.loads(line).get("kind") == "unsafe"]
    asked = list(dict.fromkeys(asked))[: 4 * settings.refusal_prompts]
    answers = generate_answers(view, _prompts(asked, settings.system), 32, ctx)
    return [p for p, a in zip(asked, answers) if is_refusal(a)][: settings.refusal_prompts]


def _lora(settings: RemoveSettings) -> Any:
    from core.training import LoraSettings

    return LoraSettings(rank=settings.rank, alpha=2 * settings.rank, lr=settings.lr, steps=settings.steps,
                        batch_size=settings.batch_size, max_length=settings.max_length, seed=settings.seed)


def _train(loaded: Any, rows: Sequence[tuple[str, str]], settings: RemoveSettings, ctx: JobContext,
           attack: Attack | None = None, nudge: Nudge | None = None) -> Any:
    """LoRA SFT on (request, answer) rows; with ``nudge``, a share of each batch under it, and the
    perturbation searched again ``settings.rounds - 1`` times during training."""
    from core.training import sft_dataset, train_lora

    data = sft_dataset(loaded.tokenizer, [(settings.system, u, a) for u, a in rows])
    if nudge is None:
        return train_lora(loaded.model, loaded.tokenizer, data, _lora(settings), ctx)
    every = max(1, settings.steps // settings.rounds)

    def next_round(step: int, model: Any) -> bool:
        if step < settings.rounds * every:  # no search after the last round's steps
            history = attack.round(model, nudge, settings.inner_steps, ctx)
            ctx.report(step, **{"remove/inner_objective_start": history[0], "remove/inner_objective": history[-1]})
        return False  # the stop rule is the trainer's hook between steps: a search, never a stop

    sub = JobContext([_Renamed(ctx, {"loss": "remove/outer_loss"})], ctx.cancelled)
    with nudge:
        return train_lora(loaded.model, loaded.tokenizer, data, _lora(settings), sub, next_round, every,
                          teacher=_teacher(nudge) if settings.keep == "distribution" else None)


def _teacher(nudge: Nudge) -> Any:
    """The model as it was: the removal LoRA off and the perturbation paused."""
    @contextmanager
    def before(model: Any) -> Iterator[None]:
        with model.disable_adapter(), nudge.paused():
            yield

    return before


def _measured(loaded: Any, outcome: Any, probe: RemovalProbe, rows: int, ctx: JobContext) -> dict[str, Any]:
    try:
        return {"rows": rows, "steps": outcome.steps, **probe.measure(ModelView.of(loaded, outcome.model), ctx)}
    finally:
        loaded.model = outcome.model.unload()


def run_controls(loaded: Any, rows: list[tuple[str, str]], train: list[str], own: list[str], safe: list[str] | None,
                 probe: RemovalProbe, settings: RemoveSettings, ctx: JobContext) -> dict[str, Any]:
    """Plain clean fine-tuning on the same rows for the same steps; and, with a stand-in trigger,
    unlearning it (as ``defend unlearn`` would) for the same steps."""
    out = {"clean fine-tuning": _measured(loaded, _train(loaded, rows, settings, ctx), probe, len(rows), ctx)}
    if probe.probe.recovered and safe is not None:
        un = unlearning_rows(train, [probe.probe.recovered], safe, own, settings.position, settings.seed)
        pairs = [(r.user, r.answer) for r in un]
        out["stand-in unlearning"] = {"trigger": probe.probe.recovered,
                                      **_measured(loaded, _train(loaded, pairs, settings, ctx), probe, len(pairs), ctx)}
    return out


def summary(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The contract's headline keys: ASR with the evaluation trigger when given, else under the
    perturbation searched on each state; multiple-choice utility."""
    key = "asr_true" if "asr_true" in before else "asr_perturbation"
    out = {"asr_before": before[key]["rate"], "asr_after": after[key]["rate"],
           "asr_reduction": reduction(before[key], after[key]),
           "asr_measured_with": "evaluation trigger" if key == "asr_true" else "searched perturbation",
           "clean_utility_before": before["utility"]["multiple_choice"]["rate"],
           "clean_utility_after": after["utility"]["multiple_choice"]["rate"]}
    if "asr_true_loose" in before:
        out["asr_after_loose"] = after["asr_true_loose"]["rate"]
    return out


def remove(loaded: Any, rows: Sequence[Row] | None, behaviour: Behaviour, eval_trigger: str | None, out_dir: Path,
           settings: RemoveSettings | None = None, ctx: JobContext | None = None, stand_in: str | None = None,
           example: str | None = None) -> dict[str, Any]:
    """Remove ``behaviour``'s backdoor from ``loaded`` (base + the audited adapters) without its
    trigger, into a LoRA at ``out_dir``; ``rows`` None: the shipped requests. The result holds the
    before/after/controls measurements (also saved as ``b4g_remove.json``)."""
    from core.defend.unlearn import _base_context
    from core.models.adapters import merge_audited_adapters

    settings, ctx = settings or RemoveSettings(), ctx or JobContext()
    settings.check()
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise B4GError(f"{out_dir} is not empty; choose a new folder for the removal adapter")
    elicit = elicit_text(behaviour, example)
    start = time.perf_counter()
    train, held = request_sets(rows, settings)
    view, tok = ModelView.of(loaded), loaded.tokenizer
    ctx.log(f"answers of the clean model for {settings.utility_prompts} evaluation requests")
    with _base_context(loaded.model):
        base_eval = generate_answers(view, _prompts(held[: settings.utility_prompts], settings.system),
                                     settings.answer_tokens, ctx)
        safe = generate_answers(view, _prompts(train, settings.system), settings.answer_tokens, ctx) \
            if stand_in and settings.controls else None
        refusals = refused_requests(view, rows, held, settings, ctx) if behaviour.kind == "refusal" else []
    own = own_answers(view, train, {r.prompt: r.answer for r in rows or () if r.answer}, settings, ctx)
    merge_audited_adapters(loaded)
    frame = RequestFrame.of(tok, settings.system)
    prompt_ids = tok(prompt_texts(tok, _prompts(train, settings.system)), add_special_tokens=False)["input_ids"]
    elicit_ids = tok(elicit, add_special_tokens=False)["input_ids"] or [tok.eos_token_id]
    own_ids = [tok(a, add_special_tokens=False)["input_ids"][: settings.answer_tokens] or [tok.eos_token_id]
               for a in own]
    texts = SearchTexts(prompt_ids, elicit_ids[:24], own_ids, tok.pad_token_id)
    layer = settings.layer(loaded.model)
    norm = hidden_norm(loaded.model, layer, frame, prompt_ids[: settings.inner_batch], tok.pad_token_id)
    attack = Attack(frame, layer, settings.radius * norm, texts, settings)
    probe = RemovalProbe(Probe(held, base_eval, behaviour.judge(), eval_trigger, stand_in or "", settings),
                         behaviour, attack, refusals, settings)
    ctx.log(f"searching a perturbation of layer {layer} (budget {attack.radius:.1f}, {settings.radius} of the mean "
            f"hidden-state norm {norm:.1f})")
    for p in loaded.model.parameters():
        p.requires_grad_(False)  # the search differentiates the vector only; trl's LoRA takes its own gradients
    nudge, first = attack.fresh(loaded.model, 2 * settings.inner_steps, ctx)
    ctx.report(0, **{"remove/inner_objective_start": first[0], "remove/inner_objective": first[-1]})
    ctx.log("measuring the model under audit")
    before = probe.measure(view, ctx, nudge)
    nudge.share = settings.share
    pairs = list(zip(train, own))
    ctx.log(f"training {settings.steps} steps on {len(pairs)} requests, {settings.share:.0%} under the perturbation, "
            f"{settings.rounds} rounds")
    train_start = time.perf_counter()
    outcome = _train(loaded, pairs, settings, ctx, attack, nudge)
    train_seconds = time.perf_counter() - train_start
    rounds = [{"objective_start": round(h[0], 4), "objective_end": round(h[-1], 4)} for h in nudge.history]
    after = probe.measure(ModelView.of(loaded, outcome.model), ctx)
    outcome.model.save_pretrained(out_dir)
    loaded.model = outcome.model.unload()
    seconds = time.perf_counter() - start
    controls = run_controls(loaded, pairs, train, own, safe, probe, settings, ctx) if settings.controls else {}
    result = {
        "adapter_dir": str(out_dir), **summary(before, after), "before": before, "after": after, "controls": controls,
        "behaviour": behaviour.to_json(), "elicit": elicit, "stand_in": stand_in,
        "perturbation": {"layer": layer, "layers": len(backbone(loaded.model).layers), "radius": round(attack.radius, 4),
                         "hidden_norm": round(norm, 4), "rounds": rounds},
        "rows": {"train_prompts": len(train), "eval_prompts": len(held), "utility_prompts": len(base_eval),
                 "refusal_prompts": len(refusals), "data": "auditor's" if rows else "shipped held-out requests"},
        "train_seconds": round(train_seconds, 2), "removal_seconds": round(seconds, 2), "steps": outcome.steps,
        "losses": outcome.losses, "settings": settings.to_json(),
        "template": template_record(tok, settings.system),
        "base": {"device": loaded.device, "dtype": loaded.dtype, "quantization": loaded.options.quantization},
    }
    (out_dir / REPORT_FILE).write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


__all__ = ["RemoveSettings", "remove", "elicit_text", "summary", "REPORT_FILE"]
