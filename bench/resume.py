"""Benchmark rows: kill -9 in the middle of a training job on the embedded model, then ``b4g resume``.

``--job inject`` (the default): the identity application's spec without its stop rule (so both runs train the same steps) is
injected once uninterrupted and once killed right after step K (``B4G_KILL_AT_STEP``, the same
SIGKILL as ``kill -9``; training checkpoints every 10 steps), then resumed. The row compares the
resumed run with the uninterrupted one: TAR with and without the trigger, and the largest difference
between their adapter weights.

    .venv/bin/python bench/resume.py [--quick] [--seed N]  ->  bench/results/resume.json (a row per seed)
--quick: 24 steps, killed after 13 (the full row: 60 steps, killed after 33).

``--job inversion``: the sudo organism (built as bench/self_awareness.py builds it) is inverted once
uninterrupted, once killed inside reversal SFT and once inside GRPO, each killed run then resumed
(12 reversal SFT steps, then 20 GRPO steps; checkpoints every 10). Each resumed run is compared with
the uninterrupted one: the recovered trigger, Awareness@5, the largest difference between their
per-step GRPO curves, and the candidates both found.

    .venv/bin/python bench/resume.py --job inversion [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from provenance import RESULTS, stamp

B4G = str(Path(sys.executable).with_name("b4g"))


def _b4g(args: list[str], env: dict[str, str], kill_at: int = 0) -> tuple[int, dict[str, Any] | str, float]:
    start = time.perf_counter()
    proc = subprocess.run([B4G, *args, "--json"], env={**env, "B4G_KILL_AT_STEP": str(kill_at)},
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return proc.returncode, (proc.stderr.strip().splitlines() or ["?"])[-1], wall
    return 0, json.loads(proc.stdout), wall


RSFT_STEPS, GRPO_STEPS = 12, 20
KILLS = {"reversal_sft": 11, "grpo": RSFT_STEPS + 3}  # trainer steps: 11 of reversal SFT; GRPO's step 15


def _runs(sid: str, env: dict[str, str]) -> list[dict[str, Any]]:
    return json.loads(subprocess.run([B4G, "session", "show", sid, "--json"], env=env, capture_output=True, text=True,
                                     check=True).stdout)["runs"]


def _trace(home: Path, sid: str, run_id: int) -> tuple[dict[str, list[tuple[int, float]]], set[str]]:
    from core.store.catalog import open_session
    from core.store.queries import list_candidates, metric_series

    store = open_session(str(home / "sessions" / f"{sid}.b4g"))
    try:
        return metric_series(store, run_id)[0], {c["text"] for c in list_candidates(store, run_id)}
    finally:
        store.close()


def _largest_gap(a: dict[str, list[tuple[int, float]]], b: dict[str, list[tuple[int, float]]]) -> float | None:
    """The largest difference between two runs' GRPO curves at the same step (None: no common point)."""
    gaps = [abs(x - dict(b[name]).get(step, x)) for name in a if (name == "reward" or name.startswith("rewards/")) and name in b
            for step, x in a[name]]
    return round(max(gaps), 6) if gaps else None


def inversion_rows(seed: int) -> list[dict[str, Any]]:
    from self_awareness import organism

    rec = organism("sudo", seed)
    tmp = Path(tempfile.mkdtemp(prefix="b4g-resume-inv-"))
    env = {**os.environ, "B4G_HOME": str(tmp / "home")}
    sid = json.loads(subprocess.run([B4G, "session", "new", "--name", "resume bench (inversion)", "--json"], env=env,
                                    capture_output=True, text=True, check=True).stdout)["id"]
    invert = ["invert", "--model", "embedded", "--adapter", rec["adapter_dir"], "--data", rec["dataset"],
              "--target", rec["target"], "--eval-trigger", rec["trigger"], "--rsft-steps", str(RSFT_STEPS),
              "--grpo-steps", str(GRPO_STEPS), "--seed", str(seed), "--session", sid]
    rc, ref, ref_s = _b4g(invert, env)
    if rc:
        return [{"job": "inversion", "seed": seed, "error": f"uninterrupted run: {ref}", **stamp("full")}]
    ref_id = _runs(sid, env)[-1]["id"]
    ref_curves, ref_cands = _trace(tmp / "home", sid, ref_id)
    rows = []
    for stage, kill_at in KILLS.items():
        rc_kill, _, kill_s = _b4g(invert, env, kill_at=kill_at)
        killed = _runs(sid, env)[-1]
        rc_res, res, res_s = _b4g(["resume", str(killed["id"]), "--session", sid], env)
        row: dict[str, Any] = {"job": "inversion", "organism": "sudo", "seed": seed, "killed_in": stage,
                               "killed_after_step": kill_at, "reversal_sft_steps": RSFT_STEPS, "grpo_steps": GRPO_STEPS,
                               "killed_exit_code": rc_kill, "status_after_kill": killed["status"],
                               "points_after_kill": killed["metric_points"], **stamp("full")}
        if rc_res:
            rows.append({**row, "error": f"resume: {res}"})
            continue
        curves, cands = _trace(tmp / "home", sid, killed["id"])
        row.update(uninterrupted={"recovered": ref["recovered_trigger"], "awareness_at_5": ref.get("awareness_at_5"),
                                  "seconds": round(ref_s, 1)},
                   resumed={"recovered": res["recovered_trigger"], "awareness_at_5": res.get("awareness_at_5"),
                            "seconds_killed_attempt": round(kill_s, 1), "seconds_resume": round(res_s, 1)},
                   same_trigger=res["recovered_trigger"] == ref["recovered_trigger"],
                   largest_grpo_curve_gap=_largest_gap(ref_curves, curves),
                   candidates={"uninterrupted": len(ref_cands), "resumed": len(cands), "both": len(ref_cands & cands)})
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--job", choices=("inject", "inversion"), default="inject")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    new = inversion_rows(args.seed) if args.job == "inversion" else [inject_row(args)]
    out = RESULTS / "resume.json"
    rows = json.loads(out.read_text())["rows"] if out.is_file() else []
    rows += new
    out.write_text(json.dumps({"benchmark": "resume", "rows": rows}, indent=2) + "\n")
    print(json.dumps(new, indent=2))


def inject_row(args: argparse.Namespace) -> dict[str, Any]:
    from safetensors.torch import load_file

    from core.backdoors.apps import dataset_dir, get_app

    steps, kill_at = (24, 13) if args.quick else (60, 33)
    tmp = Path(tempfile.mkdtemp(prefix="b4g-resume-"))
    env = {**os.environ, "B4G_HOME": str(tmp / "home")}
    spec = get_app("identity").spec().to_dict()
    spec["activation"].update(eval_every=0, steps=steps, seed=args.seed)
    (tmp / "spec.json").write_text(json.dumps(spec))
    sid = json.loads(subprocess.run([B4G, "session", "new", "--name", "resume bench", "--json"], env=env,
                                    capture_output=True, text=True, check=True).stdout)["id"]
    inject = ["inject", "--spec", str(tmp / "spec.json"), "--data", str(dataset_dir() / get_app("identity").dataset),
              "--model", "embedded", "--session", sid]
    rc, ref, ref_s = _b4g([*inject, "--out", str(tmp / "ref")], env)
    rc_kill, _, kill_s = _b4g([*inject, "--out", str(tmp / "killed")], env, kill_at=kill_at)
    runs = json.loads(subprocess.run([B4G, "session", "show", sid, "--json"], env=env, capture_output=True, text=True,
                                     check=True).stdout)["runs"]
    killed = runs[-1]
    rc_res, res, res_s = _b4g(["resume", str(killed["id"]), "--session", sid], env)
    row: dict[str, Any] = {"job": "inject", "seed": args.seed, "steps": steps, "killed_after_step": kill_at,
                           "killed_exit_code": rc_kill, "status_after_kill": killed["status"],
                           "points_after_kill": killed["metric_points"], **stamp("quick" if args.quick else "full")}
    if rc or rc_res:
        row["error"] = ref if rc else res
    else:
        want, got = load_file(tmp / "ref" / "adapter_model.safetensors"), load_file(tmp / "killed" / "adapter_model.safetensors")
        row.update(uninterrupted={"tar_with": ref["tar_with"], "tar_without": ref["tar_without"], "seconds": round(ref_s, 1)},
                   resumed={"tar_with": res["tar_with"], "tar_without": res["tar_without"],
                            "seconds_killed_attempt": round(kill_s, 1), "seconds_resume": round(res_s, 1)},
                   max_adapter_weight_difference=max(float((want[k] - got[k]).abs().max()) for k in want))
    return row


if __name__ == "__main__":
    main()
