"""Benchmark: inject and verify each built-in Backdoor4Good application on the embedded model.

Each application runs as ``b4g inject --app NAME --json`` then ``b4g verify --app NAME --json`` in
fresh processes (2 CPU cores on the CI machine class). The bar from the issue: TAR with the
trigger >= 0.9 and without <= 0.05 on held-out prompts, in under 180 s of training.

    .venv/bin/python bench/backdoor_apps.py [--apps identity,style] [--tamper-steps 20]

Prints JSON and writes it to bench/results/backdoor_apps.json.
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

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "backdoor_apps.json"
B4G = str(Path(sys.executable).with_name("b4g"))
APPS = ("identity", "safety", "style", "access-lock")


def _run(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    proc = subprocess.run([B4G, *args, "--json"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}, wall
    return json.loads(proc.stdout), wall


def bench_app(app: str, work: Path, env: dict[str, str], tamper_steps: int) -> dict[str, Any]:
    adapter = work / app
    inject, inject_wall = _run(["inject", "--app", app, "--model", "embedded", "--out", str(adapter)], env)
    row: dict[str, Any] = {"app": app, "inject_wall_seconds": round(inject_wall, 1)}
    if "error" in inject:
        return {**row, "error": inject["error"]}
    row.update({k: inject[k] for k in ("tar_with", "tar_without", "train_seconds", "steps", "stopped_early")})
    row["tar_with_ci95"] = inject["tar_with_detail"]["ci95"]
    row["tar_without_ci95"] = inject["tar_without_detail"]["ci95"]
    row["meets_bar"] = inject["tar_with"] >= 0.9 and inject["tar_without"] <= 0.05 and inject["train_seconds"] < 180
    card, verify_wall = _run(["verify", "--app", app, "--model", "embedded", "--adapter", str(adapter),
                              "--tamper-steps", str(tamper_steps)], env)
    row["verify_wall_seconds"] = round(verify_wall, 1)
    row["verify"] = card if "error" in card else {k: card[k] for k in (
        "tar_with_detail", "tar_without_detail", "clean_utility", "tamper_resistance", "stealthiness")}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--tamper-steps", type=int, default=20)
    args = parser.parse_args()
    env = dict(os.environ, B4G_HOME=tempfile.mkdtemp(prefix="b4g-bench-"))
    from core.paths import cache_dir

    env.setdefault("B4G_CACHE", str(cache_dir()))
    work = Path(tempfile.mkdtemp(prefix="b4g-adapters-"))
    fresh = {app: bench_app(app, work, env, args.tamper_steps) for app in args.apps.split(",")}
    # A subset re-run keeps the other applications' last rows (each row is one app's own run).
    earlier = {r["app"]: r for r in json.loads(RESULT.read_text())["apps"]} if RESULT.is_file() else {}
    results = [fresh.get(app) or earlier[app] for app in APPS if app in fresh or app in earlier]
    out = {"benchmark": "backdoor_apps", "model": "embedded SmolLM2-135M-Instruct", "cpus": os.cpu_count(),
           "bar": "tar_with >= 0.9, tar_without <= 0.05, train_seconds < 180", "apps": results,
           "all_meet_bar": all(r.get("meets_bar") for r in results)}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
