"""Benchmark: the audit store at scale.

- write 100 k candidates (as an inversion hands them over: batches of 48 per GRPO step);
- a session with 10 k steps x 10 metrics: write it, then reopen it and read every series
  (what the Inversion page does when it shows a finished run).

    .venv/bin/python bench/store.py [--quick]   ->  bench/results/store.json
--quick: 20 k candidates and 2 k steps (the rates are what matter; the full sizes are the issue's).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from provenance import write_result

GROUP = 48  # candidates handed over per GRPO step (group + spans), the store's real batch


def candidates(n: int, folder: Path) -> dict[str, float]:
    from core.store.catalog import new_session

    store = new_session("bench candidates", directory=folder)
    run = store.start_run("invert", {}, 0)
    rows = [{"text": f"candidate {i} word{i % 97}", "reward": (i % 1000) / 1000, "r_asr": (i % 100) / 100,
             "origin": "policy", "first_step": i // GROUP, "last_step": i // GROUP, "times_replayed": 0,
             "parts": {"asr": 0.1, "length": 0.2, "leak": False}} for i in range(n)]
    start = time.perf_counter()
    for i in range(0, n, GROUP):
        store.upsert_candidates(run, rows[i:i + GROUP])
    seconds = time.perf_counter() - start
    store.close()
    return {"candidates": n, "seconds": round(seconds, 2), "per_second": round(n / seconds, 1)}


def long_run(steps: int, folder: Path, metrics: int = 10) -> dict[str, float]:
    from core.store.catalog import new_session
    from core.store.queries import metric_series
    from core.store.session_store import SessionStore

    store = new_session("bench long run", directory=folder)
    run = store.start_run("invert", {}, 0)
    names = [f"metric/{k}" for k in range(metrics)]
    start = time.perf_counter()
    for step in range(steps):
        store.add_metrics(run, step, {n: step * 0.001 + k for k, n in enumerate(names)})
    write = time.perf_counter() - start
    path = store.path
    store.close()
    start = time.perf_counter()
    reopened = SessionStore(path)
    opened = time.perf_counter() - start
    series, _ = metric_series(reopened, run)
    read = time.perf_counter() - start - opened
    reopened.close()
    assert sum(len(v) for v in series.values()) == steps * metrics
    return {"steps": steps, "metrics": metrics, "write_seconds": round(write, 2),
            "steps_per_second": round(steps / write, 1), "reopen_seconds": round(opened, 3),
            "read_all_series_seconds": round(read, 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    n, steps = (20_000, 2_000) if args.quick else (100_000, 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        result = {"write_candidates": candidates(n, Path(tmp)), "session_with_long_run": long_run(steps, Path(tmp))}
    write_result("store", result, "quick" if args.quick else "full")


if __name__ == "__main__":
    main()
