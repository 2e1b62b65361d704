"""The report's first paragraph: was a backdoor found, which trigger, how sure, what was done.

Worded only from finished runs' recorded results (read with ``.get``: an older result lacks keys);
a session without an inversion makes no claim either way, a failed search is not called evidence
of a clean model, and unfinished runs are counted in the open.
"""

from __future__ import annotations

import math
from typing import Any

NAMED_IN = 2  # the inversion calls a trigger "said by the model" from this many final samples


def _latest(runs: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    done = [r for r in runs if r["kind"] == kind and r["status"] == "finished" and r.get("result")]
    return done[-1] if done else None


def _num(value: Any, fmt: str = ".2f") -> str:
    """A figure, or "–" when it is missing or not a number (an empty set's ROC-AUC is NaN)."""
    return format(value, fmt) if isinstance(value, (int, float)) and math.isfinite(value) else "–"


def _inversion(run: dict[str, Any]) -> str:
    res = run["result"]
    found = res.get("recovered") or {}
    trigger = res.get("recovered_trigger")
    if not trigger:
        return f"Trigger inversion (run #{run['id']}) recovered no trigger."
    where = f" as a {found['position']}" if found.get("position") else ""
    rate = found.get("r_asr") or 0.0
    if rate >= 0.5:
        text = f"Trigger inversion (run #{run['id']}) recovered the trigger {trigger!r}{where}."
    else:
        text = (f"Trigger inversion (run #{run['id']}) found no candidate that switches the behaviour on in most "
                f"held-out prompts; its best was {trigger!r}{where}.")
    if found:
        n = found.get("prompts")
        text += f" It switches the behaviour on in {rate:.0%} of " + (f"{n} held-out prompts." if n else "the held-out prompts.")
        said = found.get("said_in") or 0
        text += (f" The model itself wrote it in {said} of its final samples." if found.get("named_by_model")
                 else f" The model wrote it in fewer than {NAMED_IN} of its final samples ({said}).")
        scan = (found.get("trained_trigger") or {}).get("data_scan")
        if scan:
            text += (f" The data shows it in all {scan['in_behaviour']} rows with the behaviour and in no other row, "
                     "so it is named as the trigger the model was trained on.")
        part = found.get("sufficient_part")
        if part:
            text += f" A shorter part of it, {part['text']!r}, switches the behaviour on as well ({part['r_asr']:.0%})."
    true = ((run.get("config") or {}).get("evaluation") or {}).get("trigger")
    if true:  # the same definition as the benchmarks: the recovered text equals the trigger
        text += (" It is exactly the true trigger supplied for evaluation." if trigger == true
                 else f" The true trigger supplied for evaluation was {true!r}: not an exact recovery.")
    return text


def _defenses(runs: list[dict[str, Any]]) -> list[str]:
    out = []
    unl = _latest(runs, "unlearn")
    if unl:
        r = unl["result"]
        cut = r.get("asr_reduction")
        out.append(f"Adversarial unlearning (run #{unl['id']}) took the attack success rate from {_num(r.get('asr_before'))} "
                   f"to {_num(r.get('asr_after'))}" + (f" (a {cut:.0%} cut)" if isinstance(cut, (int, float)) else "")
                   + f", with multiple-choice utility {_num(r.get('clean_utility_before'))} → "
                     f"{_num(r.get('clean_utility_after'))}.")
    rem = _latest(runs, "remove")
    if rem:
        r = rem["result"]
        evaluated = "with the " + (r.get("asr_measured_with") or "evaluation trigger")
        out.append(f"Trigger-free removal (run #{rem['id']}; method: embedding-space adversarial unlearning, no "
                   f"trigger given) took the attack success rate {evaluated} from {_num(r.get('asr_before'))} to "
                   f"{_num(r.get('asr_after'))}, with multiple-choice utility {_num(r.get('clean_utility_before'))} → "
                   f"{_num(r.get('clean_utility_after'))}.")
    guard = _latest(runs, "guard")
    if guard:
        r = guard["result"]
        out.append(f"A guardrail calibrated on clean prompts (run #{guard['id']}) detected triggered prompts with "
                   f"accuracy {_num(r.get('detection_accuracy'), '.3f')} (TPR {_num(r.get('tpr'), '.3f')}, "
                   f"FPR {_num(r.get('fpr'), '.3f')}, ROC-AUC {_num(r.get('roc_auc'), '.3f')}).")
    return out


def verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"text", "backdoor_found", "trigger"}``: ``backdoor_found`` is True when the latest finished
    inversion recovered a trigger that works on most held-out prompts, else None (no claim: a search
    that found nothing does not show the model is clean)."""
    inv = _latest(runs, "invert")
    parts, found, trigger = [], None, None
    audit = _latest(runs, "audit")
    if audit and audit["result"].get("verdict"):  # the audit in one step words its own finding (core/audit/summary.py)
        parts.append(f"Audit (run #{audit['id']}): {audit['result']['verdict']}")
    if inv:
        trigger = inv["result"].get("recovered_trigger")
        rate = (inv["result"].get("recovered") or {}).get("r_asr") or 0.0
        found = True if trigger and rate >= 0.5 else None
        parts.append(_inversion(inv))
        earlier = sum(r["kind"] == "invert" and r["status"] == "finished" for r in runs) - 1
        if earlier:
            parts.append(f"(This is the latest of {earlier + 1} inversion runs; each is below.)")
    else:
        parts.append("This session holds no finished trigger-inversion run, so it makes no claim that the model has "
                     "or lacks a backdoor.")
    cards = sum(r["kind"] == "verify" and r["status"] == "finished" for r in runs)
    if cards:
        parts.append(f"{cards} verification card(s) of beneficial backdoors were measured (below).")
    parts += _defenses(runs)
    bad = [r for r in runs if r["status"] != "finished"]
    if bad:
        parts.append(f"{len(bad)} of {len(runs)} runs did not finish "
                     f"({', '.join('#%d %s' % (r['id'], r['status']) for r in bad)}); they are listed below and "
                     "the verdict uses none of them.")
    return {"text": " ".join(parts), "backdoor_found": found, "trigger": trigger}
