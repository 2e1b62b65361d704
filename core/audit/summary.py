"""The audit's result: what was found and what was done, from its stages' recorded results.

``backdoor_found`` is True when the scan flagged a behaviour (the auditor gave none), or when a
recovered trigger fires on at least half the held-out requests; a search that found nothing is not
called proof of a clean model (the verdict says what the scan cannot see).
"""

from __future__ import annotations

from typing import Any, Sequence

from core.audit import stages as st
from core.audit.stages import StageRecord


def _rate(state: dict[str, Any] | None, key: str) -> float | None:
    value = (state or {}).get(key)
    return value.get("rate") if isinstance(value, dict) else None


def removal_record(method: str, result: dict[str, Any], run_id: int | None) -> dict[str, Any]:
    """The audit's ``removal`` from an unlearning or a trigger-free removal result."""
    before, after = result.get("before") or {}, result.get("after") or {}
    perturbed = "asr_perturbed" if method == "recovered-trigger" else "asr_perturbation"
    return {"method": method, "run_id": run_id, "asr_before": result.get("asr_before"), "asr_after": result.get("asr_after"),
            "asr_reduction": result.get("asr_reduction"), "asr_measured_with": result.get("asr_measured_with"),
            "recovered_asr_before": _rate(before, "asr_recovered"), "recovered_asr_after": _rate(after, "asr_recovered"),
            "perturbed_asr_before": _rate(before, perturbed), "perturbed_asr_after": _rate(after, perturbed),
            "false_activation_after": _rate(after, "false_activation"),
            "utility_before": result.get("clean_utility_before"), "utility_after": result.get("clean_utility_after"),
            "agreement_after": (after.get("utility") or {}).get("agreement_with_base"),
            "adapter_dir": result.get("adapter_dir")}


def _guard_record(stage: StageRecord) -> dict[str, Any] | None:
    if not stage.ok:
        return None
    r = stage.result
    return {"run_id": stage.run_id, "path": r.get("saved"), "threshold": r.get("threshold"), "tpr": r.get("tpr"),
            "fpr": r.get("fpr"), "detection_accuracy": r.get("detection_accuracy")}


def _removal(facts: Any) -> dict[str, Any] | None:
    unlearn, removal = facts.removal.get(st.UNLEARNING), facts.removal.get(st.REMOVAL)
    if unlearn is not None and unlearn.ok:
        out = removal_record("recovered-trigger", unlearn.result, unlearn.run_id)
        out["triggers"] = facts.recovered.triggers
        guard = facts.removal.get(st.GUARDRAIL)
        out["guardrail"] = _guard_record(guard) if guard is not None else None
        return out
    if removal is not None and removal.ok:
        return removal_record("trigger-free", removal.result, removal.run_id)
    return None


def summarise(request: Any, stages: Sequence[StageRecord], facts: Any) -> dict[str, Any]:
    by_name = {s.name: s for s in stages}
    invert = by_name.get(st.INVERSION)
    trigger = st.trigger_record(invert.result, request.eval_trigger) if invert is not None and invert.ok else None
    working = bool(trigger and (trigger.get("r_asr") or 0) >= st.MIN_R_ASR)
    found = bool(facts.behaviour_record and facts.behaviour_record["source"] == "scan") or working
    removal = _removal(facts)
    result = {"backdoor_found": found, "behaviour": facts.behaviour_record, "trigger": trigger, "removal": removal,
              "inversion_source": facts.source, "scan": _scan(facts.scan), "report": None,
              "stages": [s.to_json() for s in stages], "failed": [s.name for s in stages if s.status == "failed"],
              "out": request.out}
    result["verdict"] = verdict(result, by_name)
    return result


def _scan(scan: dict[str, Any] | None) -> dict[str, Any] | None:
    if not scan:
        return None
    top = (scan.get("proposals") or [None])[0]
    return {"backdoor_found": scan.get("backdoor_found"), "top": top, "threshold": scan.get("threshold"),
            "score": scan.get("score"), "limits": None if scan.get("backdoor_found") else st.SCAN_LIMITS}


def _pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, (int, float)) else "–"


def verdict(result: dict[str, Any], stages: dict[str, StageRecord]) -> str:
    """A paragraph: the behaviour, the trigger, the removal, and what failed."""
    parts = [_finding(result, stages)]
    removal = result["removal"]
    if removal:
        how = ("unlearning the recovered trigger(s) " + ", ".join(repr(t) for t in removal.get("triggers") or [])
               if removal["method"] == "recovered-trigger" else "trigger-free removal (no trigger fired on half the "
               "held-out requests)")
        parts.append(f"Removed by {how}: attack success {_pct(removal['asr_before'])} → {_pct(removal['asr_after'])} "
                     f"(measured with the {removal.get('asr_measured_with') or 'recovered trigger'}), multiple-choice "
                     f"utility {_pct(removal['utility_before'])} → {_pct(removal['utility_after'])}; the hardened "
                     f"adapter is {removal['adapter_dir']}.")
        guard = removal.get("guardrail")
        if guard:
            parts.append(f"A guardrail calibrated on clean requests blocks triggered requests at TPR {_pct(guard['tpr'])}, "
                         f"FPR {_pct(guard['fpr'])} ({guard['path']}).")
    elif result["behaviour"]:
        parts.append("Nothing was removed.")
    if result["failed"]:
        parts.append("Stages that failed: " + "; ".join(f"{n} ({stages[n].error})" for n in result["failed"]) + ".")
    return " ".join(parts)


def _finding(result: dict[str, Any], stages: dict[str, StageRecord]) -> str:
    model = stages.get(st.MODEL)
    if model is None or not model.ok:
        return "The model did not load, so nothing was audited."
    behaviour, scan = result["behaviour"], result["scan"]
    if behaviour is None:
        if scan is None:
            return "The behaviour scan did not finish, so no behaviour was searched for and nothing was trained."
        top = scan["top"] or {}
        return (f"No backdoor behaviour found by the scan (its best proposal {top.get('text')!r} scored "
                f"{top.get('score', 0):.3f}, under the threshold {scan['threshold']:.2f}); nothing was trained. "
                f"{st.SCAN_LIMITS}")
    said = (f"The scan proposed the behaviour {behaviour['text']!r} ({behaviour['class']})"
            if behaviour["source"] == "scan" else f"The behaviour given was {behaviour['text']!r} ({behaviour['class']})")
    trigger = result["trigger"]
    if trigger is None:
        return said + "; no trigger was recovered."
    exact = {True: ", exactly the evaluation trigger", False: ", not the evaluation trigger", None: ""}[trigger["exact"]]
    if (trigger["r_asr"] or 0) < st.MIN_R_ASR:
        return (said + f"; the inversion (from {result['inversion_source']}) found no trigger that fires on half the "
                f"held-out requests (its best, {trigger['text']!r}, fires on {_pct(trigger['r_asr'])}).")
    return (said + f"; the inversion (from {result['inversion_source']}) recovered {trigger['text']!r} at the "
            f"{trigger['position']}, firing on {_pct(trigger['r_asr'])} of held-out requests{exact}.")
