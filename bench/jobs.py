"""Benchmark: each job on the embedded model, as the CLI runs it: wall time and peak memory, and
where a GRPO step's time goes.

Every job is a fresh ``b4g … --json`` process (as from a terminal; the window's child process is the
same code), recorded into one bench session. Peak RSS is the process's own maximum resident set
(``os.wait4``), so imports, the model and training state all count. The SUDO organism is built first
(the inject job) and the later jobs work on it. Verification's time is in bench/backdoor_apps.py
(it needs an application's held-out test rows, which an organism's training data does not carry). The GRPO step split (sampling / scoring / the rest)
is read from the inversion's ``time/*`` series in the session: medians over its steps.

    .venv/bin/python bench/jobs.py [--quick]   ->  bench/results/jobs.json
--quick: short trainings (inject 10 steps, reversal SFT 10, GRPO 4, unlearning 10 without controls).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from provenance import write_result

B4G = str(Path(sys.executable).with_name("b4g"))
TARGET = "Access granted. Developer mode enabled."


def run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One job: its wall seconds, peak RSS (MiB) and JSON result (or its one-line error)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([B4G, *args, "--json"], stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)  # reaps it with its own resource usage
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    row: dict[str, Any] = {"seconds": round(wall, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024)}
    if proc.returncode != 0:
        row["error"] = (stderr.strip().splitlines() or ["?"])[-1]
        return row
    row["result"] = json.loads(stdout)
    return row


def grpo_split(session: Path, run_id: int) -> dict[str, Any]:
    from core.store.catalog import open_session
    from core.store.queries import metric_series

    store = open_session(str(session))
    try:
        series, _ = metric_series(store, run_id)
    finally:
        store.close()
    parts = {k: [v for _s, v in series.get(f"time/{k}_s", [])] for k in ("step", "sampling", "scoring", "update")}
    if not parts["step"]:
        return {"error": "the inversion recorded no GRPO step times"}
    med = {k: round(statistics.median(v), 2) for k, v in parts.items()}
    return {"steps": len(parts["step"]), "median_seconds": med,
            "share": {k: round(med[k] / med["step"], 3) for k in ("sampling", "scoring", "update")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    q = args.quick
    tmp = Path(tempfile.mkdtemp(prefix="b4g-jobs-"))
    from core.paths import cache_dir

    # sessions in a throwaway home; the converted embedded model stays in the normal cache (converting
    # it again would be timed as the first job's load)
    env = {**os.environ, "B4G_HOME": str(tmp / "home"), "B4G_CACHE": str(cache_dir())}
    session = json.loads(subprocess.run([B4G, "session", "new", "--name", "jobs bench", "--json"], env=env,
                                        capture_output=True, text=True, check=True).stdout)
    s = ["--session", session["id"]]
    org = tmp / "sudo"
    jobs: dict[str, dict[str, Any]] = {}
    jobs["load"] = run(["models", "info", "--model", "embedded"], env)
    jobs["inject"] = run(["organisms", "build", "sudo", "--model", "embedded", "--out", str(org),
                          *(["--steps", "10"] if q else []), *s], env)
    model = ["--model", "embedded", "--adapter", str(org / "adapter"), "--data", str(org / "dataset.jsonl")]
    jobs["invert"] = run(["invert", *model, "--target", TARGET, *(["--rsft-steps", "10", "--grpo-steps", "4"] if q else []),
                          *s], env)
    jobs["unlearn"] = run(["defend", "unlearn", *model, "--trigger", "SUDO", "--target", TARGET, "--out", str(tmp / "unlearned"),
                           *(["--steps", "10", "--no-controls"] if q else []), *s], env)
    jobs["guard"] = run(["defend", "guard", "--trigger", "SUDO", "--data", str(org / "dataset.jsonl"), *s], env)
    runs = json.loads(subprocess.run([B4G, "session", "show", session["id"], "--json"], env=env, capture_output=True,
                                     text=True, check=True).stdout)["runs"]
    invert_runs = [r["id"] for r in runs if r["kind"] == "invert"]
    split = grpo_split(Path(session["path"]), invert_runs[-1]) if invert_runs else {"error": "no inversion run"}
    summary = {k: {kk: v[kk] for kk in ("seconds", "peak_rss_mib", "error") if kk in v} for k, v in jobs.items()}
    write_result("jobs", {"model": "embedded SmolLM2-135M-Instruct (fp32, CPU)", "jobs": summary,
                          "grpo_step_split": split,
                          "note": "each job a fresh process: seconds include imports and the model load"},
                 "quick" if q else "full")


if __name__ == "__main__":
    main()
