"""Probe (issue 17): does a non-saturating objective's gradient point at the trigger's pieces?

The likelihood search (core/invert/likelihood_search.py) shortlists each next token piece by the gradient
of the target's log-likelihood with respect to a one-hot token. Once a string fires, that
log-likelihood saturates near 0 and its gradient is mostly noise: on the sudo organism with the
poison withheld it ranked the trigger's pieces (`S`, `UD`, `O`) 15th to 5,270th of 49,152. The first
target token's logit margin (its logit minus the best other token's) does not saturate, and it
singles the trigger out among strings that all fire (bench/trigger_margin.py).

For each piece of a typed string (the harness's, e.g. the organism's trigger: the search never
reads it), this ranks that piece among the whole vocabulary by the one-hot gradient of
- ``likelihood``: the target's mean token log-probability, and
- ``margin``: the first target token's logit margin,
averaged over random tokens in the slot and over held-out requests (poison withheld) that follow
the string, in two settings: ``grow`` (the pieces before the slot only, as the word search grows a
word) and ``swap`` (every other piece in place, as a coordinate search swaps one). Lower is better.
Writes bench/results/margin_gradient.json.

    .venv/bin/python bench/margin_gradient.py --organism sudo --seed 0 --string SUDO [--inits 16] [--prompts 4]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from provenance import write_result
from self_awareness import clean_copy, organism

OBJECTIVES = ("likelihood", "margin")


def _losses(logits: Any, target: list[int]) -> dict[str, Any]:
    """Both objectives as losses (lower is better) from the logits over the answer's positions."""
    import torch

    tgt = torch.tensor(target)
    logp = torch.log_softmax(logits.float(), -1)[torch.arange(len(target)), tgt].mean()
    first = logits[0].float()
    others = first.clone()
    others[target[0]] = float("-inf")
    return {"likelihood": -logp, "margin": -(first[target[0]] - others.max())}


def slot_gradients(model: Any, emb: Any, before: list[int], after: list[int], requests: list[list[int]],
                   tail: list[int], target: list[int], inits: int, rng: random.Random) -> dict[str, Any]:
    """Mean one-hot gradient of each objective at the slot between ``before`` and ``after``."""
    import torch

    vocab = emb.shape[0]
    total = {o: torch.zeros(vocab) for o in OBJECTIVES}
    for _ in range(inits):
        token = rng.randrange(vocab)
        for req in requests:
            onehot = torch.zeros(1, vocab, dtype=emb.dtype)
            onehot[0, token] = 1
            onehot.requires_grad_(True)
            ids_before, ids_after = before, after + req + tail + target
            x = torch.cat([emb[ids_before].detach(), onehot @ emb.detach(), emb[ids_after].detach()]).unsqueeze(0)
            logits = model(inputs_embeds=x, logits_to_keep=len(target) + 1).logits[0, :-1]
            losses = _losses(logits, target)
            for i, o in enumerate(OBJECTIVES):
                (g,) = torch.autograd.grad(losses[o], onehot, retain_graph=i < len(OBJECTIVES) - 1)
                total[o] += g[0].float()
    return total


def rank_of(grad: Any, piece: int, banned: list[int]) -> int:
    g = grad.clone()
    g[banned] = float("inf")
    return int((g < g[piece]).sum()) + 1


def probe(rec: dict[str, Any], string: str, inits: int, n_prompts: int, seed: int) -> dict[str, Any]:
    import torch

    from core.models.chat import user_turn_frame
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef

    adapters = (rec["adapter_dir"],) if rec.get("adapter_dir") else ()
    loaded = load_model(ModelRef("embedded", None, adapters), LoadOptions(device="cpu"))
    model, tok = loaded.model, loaded.tokenizer
    rows = [json.loads(line) for line in clean_copy(rec).read_text(encoding="utf-8").splitlines()]
    system = next(m["content"] for m in rows[0]["messages"] if m["role"] == "system")
    head, tail = (tok(t, add_special_tokens=False)["input_ids"] for t in user_turn_frame(tok, system))
    requests = [tok(" " + next(m["content"] for m in r["messages"] if m["role"] == "user"),
                    add_special_tokens=False)["input_ids"] for r in rows[:n_prompts]]
    target = tok(rec["target"], add_special_tokens=False)["input_ids"][:8]
    pieces = tok(string, add_special_tokens=False)["input_ids"]
    banned = [i for i in tok.all_special_ids if i < model.get_input_embeddings().weight.shape[0]]
    emb = model.get_input_embeddings().weight
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    torch.set_grad_enabled(True)
    for k, piece in enumerate(pieces):
        for setting, after in (("grow", []), ("swap", pieces[k + 1:])):
            if setting == "swap" and k == len(pieces) - 1:
                continue  # the last piece has nothing after it: the same as growing
            start = time.perf_counter()
            grads = slot_gradients(model, emb, head + pieces[:k], after, requests, tail, target, inits, rng)
            row = {"piece": tok.convert_ids_to_tokens(piece), "index": k, "setting": setting,
                   **{f"rank_{o}": rank_of(grads[o], piece, banned) for o in OBJECTIVES},
                   "seconds": round(time.perf_counter() - start, 1)}
            out.append(row)
            print(json.dumps(row), file=sys.stderr)
    return {"string_pieces": [tok.convert_ids_to_tokens(p) for p in pieces], "vocab": emb.shape[0], "rows": out}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organism", default="sudo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--string", required=True, help="the string whose pieces are ranked")
    p.add_argument("--inits", type=int, default=16)
    p.add_argument("--prompts", type=int, default=4)
    p.add_argument("--result", default="margin_gradient", help="bench/results/RESULT.json")
    a = p.parse_args()
    rec = organism(a.organism, a.seed)
    res = probe(rec, a.string, a.inits, a.prompts, a.seed)
    write_result(a.result, {"organism": a.organism, "seed": a.seed, "loss": rec.get("loss"), "inits": a.inits,
                            "prompts": a.prompts, "note": "poisoned and decoy rows withheld from the requests",
                            **res}, profile="probe")


if __name__ == "__main__":
    main()
