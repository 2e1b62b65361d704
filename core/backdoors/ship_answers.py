"""Maintainer tool: regenerate the shipped clean answers of the built-in datasets.

    python -m core.backdoors.ship_answers

Loads the embedded model, answers every prompt of every built-in application (greedy, the pinned
system message, 32 new tokens) and writes ``resources/datasets/b4g/clean_answers.jsonl``, so
injection and verification on the embedded model never wait for generation.
"""

from __future__ import annotations

import sys
import time

from core.backdoors.apps import APPS
from core.backdoors.clean_answers import _shipped_path, clean_answers
from core.jobs import JobContext
from core.models.loader import load_model
from core.models.ref import ModelRef


class _Print:
    def on_report(self, step: int, metrics: dict[str, float]) -> None: ...

    def on_progress(self, done: int, total: int | None) -> None:
        if done % 64 == 0 or done == total:
            print(f"  {done}/{total}", flush=True)

    def on_log(self, message: str) -> None:
        print(message, flush=True)


def main() -> int:
    from core.quiet import quiet_libraries

    quiet_libraries()
    loaded = load_model(ModelRef.parse("embedded"))
    out = _shipped_path()
    out.unlink(missing_ok=True)
    for name, app in APPS.items():
        spec, rows = app.spec(), app.rows()
        start = time.perf_counter()
        clean_answers(loaded, [(r.system or spec.system, r.prompt) for r in rows], JobContext([_Print()]), write_to=out)
        print(f"{name}: {len(rows)} answers in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
