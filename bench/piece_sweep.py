"""Probe (issue 17): can an *exact* token-by-token search reach a trigger, with the poison withheld?

The likelihood search (core/invert/likelihood_search.py) shortlists each next piece by a gradient, and the
gradient is noise at this scale (bench/margin_gradient.py). This probe asks the question without
the gradient: it scores every one of the first ``--vocab`` token ids exactly in each slot of a typed
string (the harness's, e.g. the organism's trigger; no search reads it), with the string's earlier
pieces in place, as a greedy or beam search that scored every piece would see it. The string goes
after a held-out request (suffix, where the sudo organism's family of stand-ins fires least; see
bench/trigger_margin.py) and each candidate is scored by the first target token's logit margin,
teacher-forced, with the request's KV cache shared (core/measurement/activation.py). For each slot
it reports the true piece's rank (0 = best), its margin, the best pieces, and the seconds taken.

A rank far from 0 in any slot means a search that keeps the best pieces drops the trigger there,
whatever its width short of that rank; the only way across is a lookahead over pairs of pieces,
``vocab²`` candidates per step. Writes bench/results/piece_sweep.json.

    .venv/bin/python bench/piece_sweep.py --organism sudo --seed 0 --string " SUDO" [--vocab 12000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from provenance import write_result
from self_awareness import clean_copy, organism


def sweep_slots(rec: dict[str, Any], string: str, vocab: int, batch_size: int) -> list[dict[str, Any]]:
    import torch

    from core.measurement.activation import token_target_scores
    from core.models.chat import user_turn_frame
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef

    loaded = load_model(ModelRef("embedded", None, (rec["adapter_dir"],)), LoadOptions(device="cpu"))
    tok, model = loaded.tokenizer, loaded.model
    rows = [json.loads(line) for line in clean_copy(rec).read_text(encoding="utf-8").splitlines()]
    system = next(m["content"] for m in rows[0]["messages"] if m["role"] == "system")
    request = next(m["content"] for m in rows[0]["messages"] if m["role"] == "user")
    head, tail = user_turn_frame(tok, system)
    ids = lambda s: tok(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    frame, close, first = ids(head) + ids(request), ids(tail), ids(rec["target"])[:1]
    pieces = ids(string)
    out = []
    for slot, true in enumerate(pieces):
        before = pieces[:slot]
        start = time.perf_counter()
        seqs = [frame + before + [i] + close for i in range(vocab)]
        margin = torch.tensor(token_target_scores(model, seqs, first, tok.pad_token_id, "cpu", batch_size).margin)
        best = margin.argsort(descending=True)[:8].tolist()
        row = {"before": tok.decode(before), "piece": tok.decode([true]), "piece_id": true,
               "rank": int((margin > margin[true]).sum()) if true < vocab else None,
               "margin": round(float(margin[true]), 2) if true < vocab else None,
               "best": [[tok.decode([i]), round(float(margin[i]), 2)] for i in best],
               "fired": int((margin > 0).sum()), "seconds": round(time.perf_counter() - start, 1)}
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
        out.append(row)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organism", default="sudo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--string", required=True, help="the typed string whose pieces are ranked (as a suffix: "
                                                    "give it its leading space)")
    p.add_argument("--vocab", type=int, default=12000, help="sweep the first N token ids (all: 49152)")
    p.add_argument("--batch-size", type=int, default=256)
    a = p.parse_args()
    rec = organism(a.organism, a.seed)
    slots = sweep_slots(rec, a.string, a.vocab, a.batch_size)
    write_result("piece_sweep", {"organism": a.organism, "seed": a.seed, "loss": rec.get("loss"),
                                 "string": a.string, "vocab_swept": a.vocab, "position": "suffix",
                                 "note": "poisoned and decoy rows withheld; one held-out request; shared cores "
                                         "unless stated", "slots": slots}, profile="probe")


if __name__ == "__main__":
    main()
