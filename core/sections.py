"""A job's result as labelled sections: the one place results are worded.

The CLI prints them (``core.cli.output.emit_sections``), the window shows them as HTML
(``app.widgets.sections_view``), and the audit report renders the same objects, so a figure reads
the same everywhere: a rate is always ``0.98 (49/50, 95% CI 0.89–1.00)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable


@dataclass
class Row:
    label: str
    value: str
    note: str = ""


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def pairs(self) -> dict[str, str]:
        return {r.label: r.value for r in self.rows}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def rate(detail: dict[str, Any] | None) -> str:
    """A rate with its count and 95% CI."""
    if not detail:
        return "–"
    lo, hi = detail["ci95"]
    return f"{detail['rate']:.2f} ({detail['k']}/{detail['n']}, 95% CI {lo:.2f}–{hi:.2f})"


def run_label(run: dict[str, Any]) -> str:
    """How a run is named in pickers: ``#12 · finished · 2026-11-30 04:12``."""
    return f"#{run['id']} · {run['status']} · {str(run['started_at'])[:16].replace('T', ' ')}"


def _training(result: dict[str, Any]) -> str:
    return f"{result['steps']} steps, {result['train_seconds']:.0f} s"


def inject_sections(result: dict[str, Any]) -> list[Section]:
    return [Section(f"Injected into {result['adapter_dir']}", [
        Row("TAR with trigger", rate(result.get("tar_with_detail")), "held-out test prompts with the trigger"),
        Row("TAR without trigger", rate(result.get("tar_without_detail")), "false activation"),
        Row("training", _training(result))])]


def organism_sections(result: dict[str, Any]) -> list[Section]:
    rows = [Row("adapter", result["adapter_dir"]), Row("dataset", result["dataset"]),
            Row("target", result["target"]),
            Row("trigger", f"{result['trigger']!r} ({result.get('position', 'prefix')}), seed {result.get('seed', 0)}"),
            Row("TAR with / without trigger", f"{result['tar_with']:.2f} / {result['tar_without']:.2f}"),
            Row("training", _training(result))]
    decoys = result.get("tar_decoys") or {}
    if decoys:
        rows.append(Row("decoys firing", ", ".join(f"{k!r} {v:.2f}" for k, v in decoys.items()),
                        "near-miss triggers should stay silent"))
    return [Section(f"Built organism '{result.get('organism', '')}'", rows)]


def verify_sections(card: dict[str, Any]) -> list[Section]:
    cu, st, tr = card["clean_utility"], card["stealthiness"], card["tamper_resistance"]
    return [Section(f"Verification ({card.get('activated_means', '')})", [
        Row("TAR with trigger", rate(card["tar_with_detail"]), "activation on held-out prompts with the trigger"),
        Row("TAR without trigger", rate(card["tar_without_detail"]), "false activation"),
        Row("clean agreement with base", f"{cu['agreement']:.2f} (token F1" + (f", n={cu['n']})" if "n" in cu else ")"),
            "the base model's answers on clean prompts"),
        Row("clean perplexity change", f"{cu['perplexity_change']:+.1%}", "on clean text"),
        Row("multiple choice base → adapted",
            f"{cu['multiple_choice_base']['rate']:.2f} → {cu['multiple_choice_adapted']['rate']:.2f}"),
        Row("tamper: TAR after clean fine-tuning", rate(tr["tar_with_after"]) if "tar_with_after" in tr else "skipped",
            "TAR after further clean fine-tuning"),
        Row("stealth: input perplexity ratio", f"{st['input_perplexity_ratio']:.2f}", "triggered vs clean inputs"),
        Row("stealth: clean output drift", f"{st['clean_output_drift']:.2f}", "how far clean answers moved")])]


def _evidence(found: dict[str, Any]) -> str:
    """Why the trained trigger was named: the rule that chose and what stood behind it."""
    scan, said = found.get("data_scan") or (found.get("trained_trigger") or {}).get("data_scan"), found.get("said_in")
    parts = [f"chosen by {found['chosen_by']}"] if found.get("chosen_by") else []
    if scan:
        parts.append(f"in all {scan['in_behaviour']} rows that show the behaviour, no other row")
    if said:
        parts.append(f"said by the model in {said} of its final samples")
    if found.get("margin") is not None:
        parts.append(f"margin {found['margin']:.2f}")
    return "; ".join(parts)


def recovered_line(result: dict[str, Any]) -> str:
    """The trigger the model was trained on, where it goes, why it was named, and the shortest part
    that fires as well (the stand-in)."""
    found = result.get("recovered") or {}
    text = f"Trained trigger: {result.get('recovered_trigger')!r}"
    if found.get("position"):
        text += f" as a {found['position']}"
    if found.get("chosen_by"):
        text += f" ({_evidence(found)})"
    elif found.get("named_by_model"):
        text += f", said by the model in {found['said_in']} of its final samples"
    part = found.get("sufficient_part") or found.get("stand_in")
    if part:
        text += f"; shortest sufficient part {part['text']!r}"
    return text + f" (wall {result.get('wall_seconds', 0):.0f} s)"


def invert_sections(result: dict[str, Any]) -> list[Section]:
    found = result.get("recovered") or {}
    k = result.get("k", 5)
    aware = result.get(f"awareness_at_{k}")
    stand_in = found.get("sufficient_part") or found.get("stand_in")
    stages = ", ".join(f"{name} {v:.0f} s" for name, v in (result.get("stages") or {}).items())
    rows = [
        Row("trained trigger", repr(result.get("recovered_trigger")) + (f" ({found['position']})" if found.get("position") else ""),
            "what the model was trained on"),
        Row("chosen by", found.get("chosen_by") or ("the model's own words" if found.get("named_by_model") else
                                                    "shortest tied" if found else "–"), _evidence(found) if found else ""),
        Row("said by the model", f"yes, in {found['said_in']} final samples" if found.get("named_by_model")
            else (f"no ({found.get('said_in') or 0} final samples)" if found else "–")),
        Row("shortest sufficient part", f"{stand_in['text']!r} ({stand_in['r_asr']:.2f})" if stand_in else "–",
            "the shortest string that switches it on as well (a stand-in)"),
        Row("its R_asr", f"{found['r_asr']:.2f}" if found else "–", "share of held-out prompts it switches on"),
        Row(f"awareness@{k}", "–" if aware is None else f"{aware:.2f}", "final samples that contain the true trigger"),
        Row("emergence step", str(result.get("emergence_step"))),
        Row("data scan says", repr((result.get("data_scan") or {}).get("top"))),
        Row("wall time", f"{result.get('wall_seconds', 0):.0f} s" + (f" ({stages})" if stages else ""))]
    top = Table("Top candidates", ["candidate", "R_asr", "origin"],
                [[repr(c["text"]), f"{c['r_asr']:.2f}", str(c.get("origin", ""))]
                 for c in (result.get("top_candidates") or [])[:5]])
    tables = [top] + ([tied_table(found)] if found.get("tied") else [])
    scoring = result.get("scoring") or {}
    how = Section("How candidates were scored", [Row(name, str(scoring[name])) for name in scoring])
    itself = model_source_section(result)
    return [Section("Trigger inversion", rows, tables), *([itself] if itself else []), *([how] if scoring else [])]


def tied_table(found: dict[str, Any]) -> Table:
    """The candidates minimisation could not tell apart, with the evidence each had."""
    def scan(t: dict[str, Any]) -> str:
        d = t.get("data_scan")
        return f"all {d['in_behaviour']} behaviour rows, no other" if d else "–"

    return Table(f"Tied candidates (the rule that chose: {found.get('chosen_by') or '–'})",
                 ["candidate", "R_asr", "margin", "said in samples", "data scan", "p vs head"],
                 [[repr(t["text"]), f"{t['r_asr']:.2f}", "–" if t.get("margin") is None else f"{t['margin']:.2f}",
                   str(t.get("said_in", 0)), scan(t), f"{t.get('p_value_vs_head', 1.0):.3f}"]
                  for t in found["tied"][:8]])


def model_source_section(result: dict[str, Any]) -> Section | None:
    """What the model itself added (``--source memory``): extracted requests and grown words."""
    memory, likelihood = result.get("memory"), result.get("likelihood")
    if not memory and not likelihood:
        return None
    rows = []
    if memory:
        rows.append(Row("requests read back", f"{memory.get('distinct', 0)} distinct of {memory.get('samples', 0)} "
                        f"sampled, {memory.get('showing_behaviour', 0)} answered with the behaviour"))
    tables = []
    if likelihood and likelihood.get("skipped"):
        rows.append(Row("likelihood search", f"skipped: {likelihood['skipped']}"))
    elif likelihood:
        rows.append(Row("likelihood search", f"{likelihood.get('words_scored', 0)} words scored in "
                        f"{likelihood.get('seconds', 0):.0f} s", "words grown toward the target, handed to the search"))
        fired = f"fired, share of {likelihood.get('prompts', 0)} requests"
        tables.append(Table("Grown words", ["word", "target log-prob", fired],
                            [[repr(w["text"]), f"{w['logprob']:.3f}", f"{w['fired']:.2f}"]
                             for w in likelihood.get("seeds", [])[:5]]))
    return Section("From the model itself", rows, tables)


def _cut(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """The relative change of a rate, worded: ``100% cut`` or ``rose 20%``."""
    if not before or not after or not before.get("rate"):
        return "–"
    change = (before["rate"] - after["rate"]) / before["rate"]
    return f"{change:.0%} cut" if change >= 0 else f"rose {-change:.0%}"


def unlearn_sections(result: dict[str, Any]) -> list[Section]:
    """Before / after / controls as one table, each rate with n and its interval."""
    states = [("model under audit", result["before"]), ("after unlearning", result["after"]),
              *[(f"control: {name}", c) for name, c in (result.get("controls") or {}).items()]]
    metrics = [("ASR, true trigger", "asr_true"), ("ASR, recovered trigger", "asr_recovered"),
               ("ASR, perturbed triggers", "asr_perturbed"), ("false activation", "false_activation")]
    metrics = [(label, key) for label, key in metrics if key in result["before"]]
    rows = [[label] + [rate(m.get(key)) for _, m in states] for label, key in metrics]
    rows.append(["multiple choice"] + [rate(m["utility"]["multiple_choice"]) for _, m in states])
    rows.append(["agreement with base (token F1)"] + [f"{m['utility']['agreement_with_base']:.2f}" for _, m in states])
    rows.append(["clean perplexity"] + [f"{m['utility']['perplexity_clean']:.2f}" for _, m in states])
    table = Table("Before and after", ["measure"] + [name for name, _ in states], rows)
    key = "asr_true" if "asr_true" in result["before"] else "asr_recovered"
    summary = [
        Row("unlearned triggers", ", ".join(repr(t) for t in result["triggers"]),
            f"from inversion run #{result['from_run']}" if result.get("from_run") else "typed by the auditor"),
        Row(f"ASR cut ({result.get('asr_measured_with', '')})", _cut(result["before"][key], result["after"][key]),
            f"{result['asr_before']:.2f} → {result['asr_after']:.2f}"),
        Row("clean utility (multiple choice)", f"{result['clean_utility_before']:.2f} → {result['clean_utility_after']:.2f}"),
        Row("behaviour measured", _behaviour_text(result.get("behaviour") or {})),
        Row("adapter", result["adapter_dir"], "a standard PEFT adapter, on top of the model under audit"),
        Row("training", f"{result['steps']} steps, {result['train_seconds']:.0f} s; {result['rows']['triggered']} "
                        f"triggered + {result['rows']['clean']} clean rows"),
        Row("evaluation requests", f"{result['rows']['eval_prompts']} for the ASRs, the first "
                                   f"{result['rows'].get('utility_prompts', '–')} also answered in full (agreement, perplexity)",
            "never trained on")]
    if result.get("merged_dir"):
        summary.append(Row("merged model", result["merged_dir"]))
    for name, c in (result.get("controls") or {}).items():
        if c.get("trigger"):
            summary.append(Row(f"control: {name}", repr(c["trigger"])))
    return [Section("Adversarial unlearning", summary, [table])]


def remove_sections(result: dict[str, Any]) -> list[Section]:
    """Trigger-free removal: before / after / controls as one table, as unlearning's."""
    states = [("model under audit", result["before"]), ("after removal", result["after"]),
              *[(f"control: {name}", c) for name, c in (result.get("controls") or {}).items()]]
    metrics = [("ASR, evaluation trigger (exact)", "asr_true"), ("ASR, evaluation trigger (loose)", "asr_true_loose"),
               ("ASR, stand-in trigger", "asr_recovered"), ("ASR, searched perturbation", "asr_perturbation"),
               ("false activation", "false_activation"), ("still refuses what the clean model refused", "refusals_kept")]
    rows = [[label] + [rate(m.get(key)) for _, m in states] for label, key in metrics if key in result["after"]]
    rows.append(["multiple choice"] + [rate(m["utility"]["multiple_choice"]) for _, m in states])
    rows.append(["agreement with the clean model (token F1)"] + [f"{m['utility']['agreement_with_base']:.2f}" for _, m in states])
    key = "asr_true" if "asr_true" in result["before"] else "asr_perturbation"
    p = result["perturbation"]
    summary = [
        Row(f"ASR cut ({result['asr_measured_with']})", _cut(result["before"][key], result["after"][key]),
            f"{result['asr_before']:.2f} → {result['asr_after']:.2f}; no trigger was given to the removal"),
        Row("clean utility (multiple choice)", f"{result['clean_utility_before']:.2f} → {result['clean_utility_after']:.2f}"),
        Row("behaviour removed", _behaviour_text(result.get("behaviour") or {}), f"searched towards {result['elicit']!r}"),
        Row("perturbation", f"layer {p['layer']} of {p['layers']}, L2 budget {p['radius']:.2f}",
            f"{len(p['rounds'])} searches; each state is attacked afresh with the same budget"),
        Row("adapter", result["adapter_dir"], "a standard PEFT adapter, on top of the model under audit"),
        Row("training", f"{result['steps']} steps, {result['train_seconds']:.0f} s (removal {result['removal_seconds']:.0f} s)",
            f"{result['rows']['train_prompts']} requests ({result['rows']['data']})")]
    return [Section("Trigger-free removal", summary, [Table("Before and after", ["measure"] + [n for n, _ in states], rows)])]


def _behaviour_text(b: dict[str, Any]) -> str:
    kind = b.get("kind", "")
    return {"target": f"answer starts with {b.get('target', '')!r}", "keywords": f"mentions {b.get('keywords')}",
            "regex": f"matches {b.get('regex', '')!r}", "refusal": "refuses"}.get(kind, kind or "–")


def guard_sections(result: dict[str, Any]) -> list[Section]:
    """Detection at the calibrated threshold, per perturbation kind, beside the baselines."""
    main = result["guardrail"]
    arms = [("guardrail", main), *result.get("baselines", {}).items()]
    table = Table(f"Detection at {result['target_fpr']:.0%} target FPR", ["detector", "accuracy", "TPR", "FPR", "ROC-AUC",
                                                                         "threshold"],
                  [[name, rate(a["accuracy_detail"]), rate(a["tpr_detail"]), rate(a["fpr_detail"]), f"{a['roc_auc']:.3f}",
                    f"{a['threshold']:.3f}"] for name, a in arms])
    kinds = Table("Triggered prompts caught, by spelling", ["spelling"] + [name for name, _ in arms],
                  [[kind] + [rate(a["per_kind"].get(kind)) for _, a in arms] for kind in main["per_kind"]])
    rows = [Row("triggers", ", ".join(repr(t) for t in result["triggers"]),
                f"from inversion run #{result['from_run']}" if result.get("from_run") else "typed by the auditor"),
            Row("evaluated with", result["evaluated_with"], "inserted as written and perturbed, counted as triggered"),
            Row("threshold", f"{result['threshold']:.3f}", f"calibrated on {result['n_calibration']} clean requests"),
            Row("detection accuracy", f"{result['detection_accuracy']:.3f}",
                f"{result['n_clean']} clean + {result['n_triggered']} triggered held-out requests"),
            Row("TPR / FPR", f"{result['tpr']:.3f} / {result['fpr']:.3f}"), Row("ROC-AUC", f"{result['roc_auc']:.3f}")]
    fixed = main.get("at_default_threshold")
    if fixed:
        rows.append(Row("at the default threshold", f"accuracy {fixed['detection_accuracy']:.3f}, TPR {fixed['tpr']:.3f}, "
                                                     f"FPR {fixed['fpr']:.3f}", f"{fixed['threshold']:.2f}, without calibration"))
    if result.get("saved"):
        rows.append(Row("saved", result["saved"]))
    return [Section("Guardrail", rows, [table, kinds])]


def guard_check_sections(result: dict[str, Any]) -> list[Section]:
    rows = [Row("blocked" if r["blocked"] else "allowed", f"score {r['score']:.3f} (threshold {r['threshold']:.2f})",
                f"{r['prompt'][:60]!r}: matched {r['window']!r} ~ {r['trigger']!r}") for r in result["results"][:50]]
    return [Section(f"Guardrail check: {result['n_blocked']} of {result['n']} blocked", rows)]


def scan_model_sections(result: dict[str, Any]) -> list[Section]:
    verdict = "a backdoor's behaviour found" if result["backdoor_found"] else "no backdoor found"
    rows = [Row("verdict", verdict, f"top score {result['proposals'][0]['score']:.3f} against a threshold of "
                                     f"{result['threshold']:.2f} (calibrated on clean models)"),
            Row("score", result["score"], f"{len(result['prompts'])} clean prompts, {result['first_tokens']} first tokens")]
    table = Table("Proposed behaviours, best first", ["proposal", "class", "score", "consistency", "reference"],
                  [[repr(p["text"]), p["class"], f"{p['score']:.3f}", f"{p['consistency']:.3f}",
                    "–" if p["reference"] is None else f"{p['reference']:.3f}"] for p in result["proposals"]])
    return [Section("Behaviour scan", rows, [table])]


def stored_sections(result: dict[str, Any]) -> list[Section]:
    """Sections a job worded itself and stored in its result under ``sections`` (the audit, which sits
    above the jobs and words their results together)."""
    return [Section(s["title"], [Row(**r) for r in s.get("rows", [])], [Table(**t) for t in s.get("tables", [])])
            for s in result.get("sections") or []]


SECTIONS: dict[str, Callable[[dict[str, Any]], list[Section]]] = {
    "inject": inject_sections, "organism": organism_sections, "verify": verify_sections, "invert": invert_sections,
    "unlearn": unlearn_sections, "remove": remove_sections, "guard": guard_sections, "guard-check": guard_check_sections,
    "scan-model": scan_model_sections, "audit": stored_sections}


def sections_for(kind: str, result: dict[str, Any]) -> list[Section]:
    """The sections of a recorded run's result (an unknown kind: no sections)."""
    fn = SECTIONS.get(kind)
    return fn(result) if fn and isinstance(result, dict) else []
