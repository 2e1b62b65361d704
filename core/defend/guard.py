"""The guardrail job: calibrate on the auditor's clean prompts, measure detection, or check text.

``evaluate_guard`` cuts the dataset's clean requests in two (calibration / evaluation), sets the
threshold for the target false-positive rate on the first, and measures on the second: clean, and
with the evaluation trigger inserted as written and perturbed (case, spacing, homoglyph,
zero-width, full-width, a synonym for phrase triggers), each counted as triggered. The evaluation
trigger is the true one when the auditor gives it (``eval_trigger``), else the top recovered one;
it never reaches the guardrail itself. Baselines run on the same prompts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from core.spec.rows import Row
from core.defend.guard_baselines import KeywordList
from core.defend.calibration import calibrate, detection, roc_points
from core.defend.defense_settings import GuardSettings
from core.defend.guardrail import DEFAULT_THRESHOLD, Guardrail
from core.defend.perturb import GUARD_KINDS
from core.defend.prompt_sets import clean_pool, parts, triggered
from core.jobs import JobContext
from core.stats import Rate

Scorer = Callable[[list[str]], list[float]]




def make_guard(triggers: Sequence[str], threshold: float | None = None, semantic: bool = True) -> Guardrail:
    encode = None
    if semantic:
        from core.defend.embeddings import encoder

        encode = encoder()
    return Guardrail(list(triggers), DEFAULT_THRESHOLD if threshold is None else threshold, encode)


def _measure(name: str, scorer: Scorer, calibration: list[str], clean: list[str], attacked: list[tuple[str, str]],
             target_fpr: float, fixed: float | None = None) -> dict[str, Any]:
    """Calibrate ``scorer`` on ``calibration`` and measure it on ``clean`` and ``attacked``;
    ``fixed``: also measure at that threshold (the default one, used without calibration data)."""
    start = time.perf_counter()
    cal = scorer(calibration)
    threshold = calibrate(cal, target_fpr)
    clean_s, trig_s = scorer(clean), scorer([p for _, p in attacked])
    out = {"name": name, **detection(clean_s, trig_s, threshold),
           "calibration_fpr": Rate.of([s >= threshold for s in cal]).to_json(),
           "per_kind": {kind: Rate.of([s >= threshold for (k, _), s in zip(attacked, trig_s) if k == kind]).to_json()
                        for kind in dict.fromkeys(k for k, _ in attacked)},
           "roc": roc_points(clean_s, trig_s), "seconds": round(time.perf_counter() - start, 2)}
    if fixed is not None:
        out["at_default_threshold"] = {k: v for k, v in detection(clean_s, trig_s, fixed).items() if "detail" not in k}
    return out


def evaluate_guard(triggers: Sequence[str], rows: Sequence[Row], eval_trigger: str | None, settings: GuardSettings,
                   keywords: Sequence[str] = (), onion: Scorer | None = None,
                   ctx: JobContext | None = None) -> dict[str, Any]:
    ctx = ctx or JobContext()
    guard = make_guard(triggers, semantic=settings.semantic)
    calibration, evaluation = parts(clean_pool(rows, settings.seed), (0.5, 0.5), settings.max_prompts)
    probe = eval_trigger or guard.triggers[0]
    attacked = triggered(evaluation, probe, GUARD_KINDS, settings.position, settings.seed)
    ctx.log(f"guardrail: {len(calibration)} calibration prompts, {len(evaluation)} clean and {len(attacked)} "
            f"triggered evaluation prompts")

    def guard_scores(prompts: list[str]) -> list[float]:
        return [s.score for s in guard.scores(prompts)]

    main = _measure("guardrail", guard_scores, calibration, evaluation, attacked, settings.target_fpr,
                    fixed=DEFAULT_THRESHOLD)
    ctx.progress(1, 3)
    baselines = {}
    if keywords:
        baselines["keyword list (data scan)"] = {**_measure("keyword list (data scan)", KeywordList(keywords).scores,
                                                            calibration, evaluation, attacked, settings.target_fpr),
                                                 "keywords": list(keywords)}
    ctx.progress(2, 3)
    if onion:
        baselines["ONION perplexity filter"] = _measure("ONION perplexity filter", onion, calibration, evaluation,
                                                        attacked, settings.target_fpr)
    ctx.progress(3, 3)
    examples = [{"kind": k, "prompt": p, **guard.check(p)} for k, p in attacked[:len(GUARD_KINDS) + 1]]
    result = {k: main[k] for k in ("detection_accuracy", "tpr", "fpr", "roc_auc", "threshold")}
    result.update(triggers=guard.triggers, evaluated_with="the true trigger" if eval_trigger else "the top recovered trigger",
                  target_fpr=settings.target_fpr, guardrail=main, baselines=baselines, examples=examples,
                  n_calibration=len(calibration), n_clean=len(evaluation), n_triggered=len(attacked),
                  settings=settings.to_json())
    ctx.report(0, detection_accuracy=main["detection_accuracy"], tpr=main["tpr"], fpr=main["fpr"])
    return result


def check_prompts(triggers: Sequence[str], prompts: Sequence[str], threshold: float | None = None,
                  semantic: bool = True) -> list[dict[str, Any]]:
    guard = make_guard(triggers, threshold, semantic)
    guard.scores(list(prompts))  # one batched embedding pass
    return [{"prompt": p, **guard.check(p)} for p in prompts]
