"""Benchmark row: kill -9 in the middle of an inject on the embedded model, then ``b4g resume``.

The identity application's spec without its stop rule (so both runs train the same steps) is
injected once uninterrupted and once killed right after step K (``B4G_KILL_AT_STEP``, the same
SIGKILL as ``kill -9``; training checkpoints every 10 steps), then resumed. The row compares the
resumed run with the uninterrupted one: TAR with and without the trigger, and the largest difference
between their adapter weights.

    .venv/bin/python bench/resume.py [--quick] [--seed N]  ->  bench/results/resume.json (a row per seed)
--quick: 24 steps, killed after 13 (the full row: 60 steps, killed after 33).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from provenance import RESULTS, stamp  # noqa: E402

B4G = str(Path(sys.executable).with_name("b4g"))


def _b4g(args: list[str], env: dict[str, str], kill_at: int = 0) -> tuple[int, dict[str, Any] | str, float]:
    start = time.perf_counter()
    proc = subprocess.run([B4G, *args, "--json"], env={**env, "B4G_KILL_AT_STEP": str(kill_at)},
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return proc.returncode, (proc.stderr.strip().splitlines() or ["?"])[-1], wall
    return 0, json.loads(proc.stdout), wall


def main() -> None:
    from safetensors.torch import load_file

    from core.backdoors.apps import dataset_dir, get_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
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
    row: dict[str, Any] = {"seed": args.seed, "steps": steps, "killed_after_step": kill_at,
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
    out = RESULTS / "resume.json"
    rows = json.loads(out.read_text())["rows"] if out.is_file() else []
    rows.append(row)
    out.write_text(json.dumps({"benchmark": "resume", "rows": rows}, indent=2) + "\n")
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
