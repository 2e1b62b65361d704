"""Probe: does the model single out its trigger among strings that all fire?

On an organism (built once, cached like bench/self_awareness.py's), each candidate string is put
before (prefix) and after (suffix) held-out requests from the organism's data with the poison
withheld, and scored teacher-forced on the target: share of requests fired (greedy match), mean
target log-probability, and the first target token's logit margin (``TargetScores.margin``). The
log-probability saturates near 0 for every string that fires; the margin does not. The candidates
are typed by the auditor (e.g. what the likelihood search found); the organism's true trigger is
only one of them if you type it. Each other candidate is compared with the first on the same
requests (``vs_first``: requests where the first's margin is larger / smaller, and the one-sided
sign-test p-value, as ``b4g invert --minimise-by margin`` compares them). Writes
bench/results/trigger_margin.json (or ``--result NAME``).

    .venv/bin/python bench/trigger_margin.py --organism sudo --seed 0 \\
        --candidates "SUDO|Sado|S denies|SadoX94|SCsWidgets=%|SUD" [--prompts 32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from provenance import write_result
from self_awareness import clean_copy, organism

POSITIONS = ("prefix", "suffix")


def probe(rec: dict[str, Any], candidates: list[str], n_prompts: int) -> list[dict[str, Any]]:
    from core.spec.backdoor import Trigger
    from core.measurement.activation import prompt_texts, target_scores
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef

    loaded = load_model(ModelRef("embedded", None, (rec["adapter_dir"],)), LoadOptions(device="cpu"))
    rows = [json.loads(line) for line in clean_copy(rec).read_text(encoding="utf-8").splitlines()]
    system = next(m["content"] for m in rows[0]["messages"] if m["role"] == "system")
    requests = [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in rows][:n_prompts]
    from core.stats import paired_sign_p_value

    out = []
    for position in POSITIONS:
        first: list[float] = []
        for text in candidates:
            inserted = [Trigger(text, position=position).insert(p, system) for p in requests]
            s = target_scores(loaded.model, loaded.tokenizer, prompt_texts(loaded.tokenizer, inserted), rec["target"])
            first = first or s.margin
            out.append({"text": text, "position": position, "fired": sum(s.match), "n": len(s.match),
                        "logprob_mean": round(statistics.mean(s.logprob), 4),
                        "margin_mean": round(statistics.mean(s.margin), 2),
                        "margin_min": round(min(s.margin), 2),
                        "vs_first": {"first_larger": sum(a > b for a, b in zip(first, s.margin)),
                                     "first_smaller": sum(a < b for a, b in zip(first, s.margin)),
                                     "p_first_beats": round(paired_sign_p_value(first, s.margin), 6)}})
            r = out[-1]
            print(f"{position:6} {text!r:18} fired {r['fired']}/{r['n']}  logprob {r['logprob_mean']:8.4f}  "
                  f"first-token margin {r['margin_mean']:6.2f} (min {r['margin_min']:6.2f})", file=sys.stderr)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organism", default="sudo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", required=True, help="strings separated by |")
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--result", default="trigger_margin", help="bench/results/RESULT.json")
    a = p.parse_args()
    rec = organism(a.organism, a.seed)
    rows = probe(rec, [c for c in a.candidates.split("|") if c], a.prompts)
    write_result(a.result, {"organism": a.organism, "seed": a.seed, "loss": rec.get("loss"),
                                    "note": "poisoned and decoy rows withheld from the requests", "rows": rows},
                 profile="probe")


if __name__ == "__main__":
    main()
