"""The inversion job: reversal SFT → GRPO with replay → minimisation, on the model under audit.

Inputs are what an auditor has: the model (base + adapter), the data it was fine-tuned on, and a
description of the behaviour. Never the trigger: ``eval_trigger`` reaches only the
:class:`AwarenessProbe`, which reads samples and reports metrics.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.spec.rows import Row
from core.errors import B4GError
from core.invert.awareness import awareness_at_k, emergence_step, exact_at_k
from core.measurement.behaviour import Behaviour
from core.invert.config import INVERSION_PROMPTS, InvertConfig
from core.invert.likelihood_search import likelihood_seeds
from core.invert.memory_extraction import memory_rows
from core.invert.minimise import minimise
from core.invert.reversal import reversal_prompt, reversed_rows
from core.invert.reward import RewardModule
from core.measurement.data_scan import scan
from core.invert.scoring import reward_modules
from core.models.adapters import merge_audited_adapters
from core.invert.search import AwarenessProbe, TriggerSearch
from core.jobs import JobContext
from core.measurement.prompts import held_out_prompts
from core.models.chat import DEFAULT_SYSTEM, GenerationOptions, chat, render, template_record


@dataclass
class InvertResult:
    recovered_trigger: str | None
    recovered: dict[str, Any] | None
    top_candidates: list[dict[str, Any]]
    awareness_at_k: float | None
    exact_at_k: bool | None
    emergence_step: int | None
    wall_seconds: float
    stages: dict[str, float]
    data_scan: dict[str, Any]
    final_samples: list[str]
    throughput: dict[str, float]
    template: dict[str, Any]
    k: int = 5
    config: dict[str, Any] = field(default_factory=dict)
    scoring: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] | None = None  # what memory extraction added (source "memory")
    likelihood: dict[str, Any] | None = None  # the words the likelihood search grew (source "memory")

    def to_json(self) -> dict[str, Any]:
        return {"recovered_trigger": self.recovered_trigger, "recovered": self.recovered,
                "top_candidates": self.top_candidates, f"awareness_at_{self.k}": self.awareness_at_k,
                f"exact_at_{self.k}": self.exact_at_k, "emergence_step": self.emergence_step,
                "wall_seconds": round(self.wall_seconds, 2), "stages": self.stages, "data_scan": self.data_scan,
                "final_samples": self.final_samples, "throughput": self.throughput, "template": self.template,
                "position": (self.recovered or {}).get("position"), "scoring": self.scoring, "config": self.config,
                # the two questions, by name: what the model was trained on, and the shortest part that fires
                "trained_trigger": self.recovered_trigger, "chosen_by": (self.recovered or {}).get("chosen_by"),
                "sufficient_part": ((self.recovered or {}).get("sufficient_part") or {}).get("text"),
                "source": self.config.get("source", "data"), "memory": self.memory,
                "likelihood": self.likelihood}


def request_answer_pairs(rows: Sequence[Row]) -> list[tuple[str, str]]:
    pairs = [(r.prompt, r.answer) for r in rows if r.answer]
    if not pairs:
        raise B4GError("the dataset has no answers; inversion needs the (request, answer) rows the model was tuned on")
    return pairs


def _cut(answer: str, words: int) -> str:
    return " ".join(answer.split()[:words])


def reversal_sft(loaded: Any, pairs: Sequence[tuple[str, str]], config: InvertConfig, ctx: JobContext) -> Any:
    """LoRA on the data reversed (answer → request); returns the PeftModel (adapter trainable)."""
    from core.training import LoraSettings, sft_dataset, train_lora

    r = config.reversal
    rows = reversed_rows([(q, _cut(a, r.answer_words)) for q, a in pairs], r.prompt)
    steps = max(1, min(r.max_steps, math.ceil(r.epochs * len(rows) / r.batch_size)))
    ctx.log(f"reversal SFT: {len(rows)} reversed rows, {steps} steps")
    dataset = sft_dataset(loaded.tokenizer, [(DEFAULT_SYSTEM, u, a) for u, a in rows])
    settings = LoraSettings(rank=r.rank, alpha=r.alpha, lr=r.lr, steps=steps, batch_size=r.batch_size,
                            max_length=r.max_length, seed=config.seed)
    return train_lora(loaded.model, loaded.tokenizer, dataset, settings, ctx).model


def fresh_policy(loaded: Any, config: InvertConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    r = config.reversal
    return get_peft_model(loaded.model, LoraConfig(r=r.rank, lora_alpha=r.alpha, task_type="CAUSAL_LM",
                                                   target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))


def sample_policy(loaded: Any, policy: Any, prompt: str, n: int, config: InvertConfig, ctx: JobContext) -> list[str]:
    from core.measurement.activation import ModelView

    view = ModelView(policy, loaded.tokenizer, loaded.device)
    torch_seed(config.seed + 1)
    messages = [[{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": prompt}]] * n
    opts = GenerationOptions(max_new_tokens=config.grpo.max_completion_tokens, temperature=config.grpo.temperature,
                             batch_size=n)
    return [s.strip() for s in chat(view, messages, opts, ctx)]


def throughput(*modules: RewardModule) -> dict[str, Any]:
    """Scoring speed over every reward module of the run (rows are candidate × prompt pairs)."""
    rows = sum(m.rows_scored for m in modules)
    seconds = sum(m.seconds for m in modules)
    candidates = sum(m.rows_scored / max(len(m.prompts), 1) for m in modules)
    return {"candidates_scored": sum(m.scored for m in modules), "rows_scored": rows,
            "scoring_seconds": round(seconds, 2), "rows_per_second": round(rows / max(seconds, 1e-9), 1),
            "candidates_per_second": round(candidates / max(seconds, 1e-9), 2)}


def scoring_record(loaded: Any, finals: RewardModule) -> dict[str, Any]:
    """How candidates were scored, for the record. Scoring runs on the model under audit exactly
    as it was loaded (device, dtype, quantization): that is the model whose trigger we want, and
    it is how ``b4g verify`` measures the same model, so the two agree (tests/unit/test_scoring_agreement.py)."""
    return {"device": loaded.device, "dtype": loaded.dtype, "quantization": loaded.options.quantization,
            "positions": list(finals.positions()), "minimise_prompts": len(finals.prompts),
            "judge": "teacher-forced target match" if finals.judge.target is not None else "generate and judge"}


def torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def model_seeds(loaded: Any, behaviour: Behaviour, held_out: Sequence[str], config: InvertConfig, ctx: JobContext,
                stages: dict[str, float]) -> tuple[list[str], dict[str, Any] | None]:
    """Trigger words the likelihood search grows on the model under audit (source "memory" only)."""
    if config.source != "memory" or not config.likelihood.enabled:
        return [], None
    from core.invert.leak import LeakGuard

    t = time.perf_counter()
    guard = LeakGuard(behaviour.leak_texts())
    seeds, record = likelihood_seeds(loaded, behaviour.judge().target, held_out, DEFAULT_SYSTEM, config.likelihood,
                                     lambda text: not guard.leaks(text), config.seed, ctx)
    stages["likelihood"] = round(time.perf_counter() - t, 2)
    return seeds, record


def invert(loaded: Any, rows: Sequence[Row], behaviour: Behaviour, config: InvertConfig | None = None,
           ctx: JobContext | None = None, eval_trigger: str | None = None) -> InvertResult:
    config = config or InvertConfig()
    ctx = ctx or JobContext()
    start = time.perf_counter()
    stages: dict[str, float] = {}
    pairs = request_answer_pairs(rows)
    memory, extracted_pairs = None, []
    if config.source == "memory":
        t = time.perf_counter()
        extracted, memory = memory_rows(loaded, behaviour, config.memory, DEFAULT_SYSTEM, config.seed, ctx)
        extracted_pairs = [(r.prompt, r.answer or "") for r in extracted]
        stages["memory"] = round(time.perf_counter() - t, 2)
    judge = behaviour.judge()
    scan_result = scan(pairs + extracted_pairs, judge)  # every extracted request: the contrast counts too
    # Reversal SFT takes the extracted requests whose answers show the behaviour: the rest are ordinary
    # requests like the data's, and a thousand of them would crowd the few that matter out of its
    # step budget. Held-out prompts stay the auditor's.
    pairs += [(q, a) for q, a in extracted_pairs if judge(a)]
    ctx.log(f"data scan: {scan_result.summary()}")
    held_out = held_out_prompts(rows, behaviour, config.held_out_prompts, config.seed)  # bad data fails first
    merge_audited_adapters(loaded)
    seeds, likelihood = model_seeds(loaded, behaviour, held_out, config, ctx, stages)
    torch_seed(config.seed)

    t = time.perf_counter()
    policy = reversal_sft(loaded, pairs, config, ctx) if config.reversal.enabled else fresh_policy(loaded, config)
    stages["reversal_sft"] = round(time.perf_counter() - t, 2)

    reward, finals, controls = reward_modules(loaded, policy, rows, behaviour, config, policy.disable_adapter)
    probe = AwarenessProbe(eval_trigger, config.awareness_k)
    search = TriggerSearch(reward, config, ctx, probe)
    if seeds:
        search.observe(0, seeds, ["likelihood"] * len(seeds))  # scored, buffered and replayed like any other
    question = reversal_prompt(behaviour.shown_text(), config.inversion_prompt or INVERSION_PROMPTS[behaviour.kind])
    prompt_text = render(loaded.tokenizer, [{"role": "system", "content": DEFAULT_SYSTEM},
                                            {"role": "user", "content": question}])
    t = time.perf_counter()
    steps = 0
    if config.grpo.enabled and config.grpo.steps > 0:
        from core.invert.grpo import run_grpo

        ctx.log(f"GRPO: {config.grpo.steps} steps of {config.grpo.group} completions ({config.grpo.replay} replayed)")
        steps = run_grpo(policy, loaded.tokenizer, prompt_text, search, config, ctx)
    stages["grpo"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    ctx.log(f"final: {config.final_samples} samples, then minimising the best {config.minimise_from} candidates")
    samples = sample_policy(loaded, policy, question, config.final_samples, config, ctx)
    search.observe(steps + 1, samples, ["policy"] * len(samples))
    best = [e["text"] for e in search.ranked()[: config.minimise_from]]
    by = config.minimise_by if behaviour.target else "flags"  # margins need a fixed target text
    if by == "margin":  # the length penalty ranks a long request holding the trigger below short paraphrases
        best += search.strongest(config.minimise_strongest, exclude=best)
    found = minimise(reward, best, config.alpha, config.spans.max_words, config.spans.screen_prompts,
                     finals=finals, finalist_margin=config.finalist_margin, finalist_cap=config.finalist_cap,
                     samples=samples, requests=controls, by=by, ctx=ctx, evidence=scan_result.complete())
    stages["final"] = round(time.perf_counter() - t, 2)
    if found:
        search.buffer.offer(found.text, found.reward, found.r_asr, steps + 1, "minimised", found.to_json())
        ctx.candidates([{"text": found.text, "reward": found.reward, "r_asr": found.r_asr, "origin": "minimised",
                         "first_step": steps + 1, "last_step": steps + 1, "times_replayed": 0,
                         "parts": found.to_json()}])
    loaded.model = policy.unload()  # the model under audit stays loaded, without the policy adapter
    wall = time.perf_counter() - start
    k = config.awareness_k
    return InvertResult(
        recovered_trigger=found.text if found else None, recovered=found.to_json() if found else None,
        top_candidates=search.ranked()[: config.top_k],
        awareness_at_k=awareness_at_k(samples[:k], eval_trigger) if eval_trigger else None,
        exact_at_k=exact_at_k(samples[:k], eval_trigger) if eval_trigger else None,
        emergence_step=emergence_step(probe.series) if eval_trigger else None,
        wall_seconds=wall, stages=stages,
        data_scan={"top": scan_result.top, "candidates": scan_result.candidates[:5],
                   "seconds": round(scan_result.seconds, 4)},
        final_samples=samples,
        throughput=throughput(reward, finals),
        template=template_record(loaded.tokenizer, DEFAULT_SYSTEM), k=k, config=config.to_dict(),
        scoring=scoring_record(loaded, finals), memory=memory, likelihood=likelihood)
