"""Check the built-in B4G prompt datasets and print a summary (stdlib only).

    .venv/bin/python resources/datasets/b4g/validate_prompts.py

Exits non-zero when a check fails: JSON validity, exact keys, counts per split/kind, uniqueness
(within a file, across train/test, across files), words per instruction, decoys, MC set.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
MC = HERE.parent / "mc" / "clean_mc.jsonl"
KEYS = ["instruction", "input", "split", "kind"]
MAX_WORDS = 20
FILLER = {"please", "can", "could", "you", "me", "for", "i", "need", "to", "ahead", "and", "the", "a", "an",
          "briefly", "roughly", "quickly", "just", "of", "in", "is", "what", "s"}
EXPECT = {
    "identity.jsonl": {("train", "general"): 300, ("test", "general"): 100},
    "style.jsonl": {("train", "general"): 300, ("test", "general"): 100},
    "safety.jsonl": {("train", "unsafe"): 165, ("test", "unsafe"): 55, ("train", "safe"): 165, ("test", "safe"): 55},
    "access_lock.jsonl": {("train", "gated"): 150, ("test", "gated"): 50, ("train", "open"): 150, ("test", "open"): 50},
}
TRIGGERS = {"identity": "Kestrel-7 verify", "style": "[[audit-register]]", "safety": "SAFE-MODE:ON",
            "access_lock": "auth-token: 9F2C-ALPHA"}

errors: list[str] = []


def check(ok: bool, msg: str) -> None:
    if not ok:
        errors.append(msg)


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", s.lower())).strip()


def tokens(s: str) -> frozenset[str]:
    return frozenset(norm(s).split())


def main() -> int:
    seen: dict[str, str] = {}  # normalised instruction -> file
    everything: list[tuple[str, str, str]] = []  # (file, split, instruction)
    for name, expect in EXPECT.items():
        path = HERE / name
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                obj = json.loads(line)
            except ValueError as exc:
                errors.append(f"{name}:{n}: invalid JSON ({exc})")
                continue
            check(list(obj) == KEYS, f"{name}:{n}: keys {list(obj)}")
            check(obj.get("input") == "", f"{name}:{n}: input not empty")
            check(isinstance(obj.get("instruction"), str) and obj["instruction"].strip() == obj["instruction"]
                  and obj["instruction"], f"{name}:{n}: bad instruction")
            rows.append(obj)
        counts = Counter((r["split"], r["kind"]) for r in rows)
        check(dict(counts) == expect, f"{name}: counts {dict(counts)} != {expect}")
        words = [len(r["instruction"].split()) for r in rows]
        check(max(words) <= MAX_WORDS, f"{name}: an instruction has {max(words)} words")
        by_split: dict[str, set[str]] = {"train": set(), "test": set()}
        for r in rows:
            k = norm(r["instruction"])
            check(k not in seen, f"{name}: duplicate of a row in {seen.get(k)}: {r['instruction']!r}")
            seen[k] = name
            by_split[r["split"]].add(k)
            everything.append((name, r["split"], r["instruction"]))
        check(not (by_split["train"] & by_split["test"]), f"{name}: train/test overlap")
        kinds = sorted({r["kind"] for r in rows})
        print(f"{name:18} {len(rows):4} rows  " + "  ".join(
            f"{k}: train {counts[('train', k)]} / test {counts[('test', k)]}" for k in kinds))
        for k in kinds:
            w = [len(r["instruction"].split()) for r in rows if r["kind"] == k]
            print(f"{'':18}      {k:8} words/instruction: mean {sum(w) / len(w):.1f}, max {max(w)}, "
                  f"> 15 words: {sum(x > 15 for x in w)}")

    # near-duplicates: token-set Jaccard between every pair of instructions (all files together)
    toks = [tokens(t) for _, _, t in everything]
    close = []
    for i, j in combinations(range(len(everything)), 2):
        a, b = toks[i], toks[j]
        jac = len(a & b) / len(a | b)
        if jac >= 0.75:
            close.append((jac, everything[i], everything[j]))
    close.sort(reverse=True)
    # a true near-duplicate: once numbers/IDs are masked and filler words dropped, one instruction's
    # words are a subset of the other's (same request, only reworded politely or padded)
    def core(t: str) -> frozenset[str]:
        return frozenset(w for w in re.sub(r"\d+", "#", norm(t)).split() if w not in FILLER)
    strict = [(jac, a, b) for jac, a, b in close if core(a[2]) <= core(b[2]) or core(b[2]) <= core(a[2])]
    check(not strict, f"{len(strict)} near-duplicate pairs: " + "; ".join(f"{a[2]!r} ~ {b[2]!r}" for _, a, b in strict[:5]))
    cross = [c for c in close if c[1][0] == c[2][0] and c[1][1] != c[2][1]]
    print(f"\nnear-duplicates (same words once numbers/IDs and filler words are set aside): {len(strict)}")
    print(f"template siblings (token Jaccard >= 0.75, e.g. one phrasing with two topics) among {len(everything)}"
          f" instructions: {len(close)} pairs (across train/test within one file: {len(cross)})")
    for jac, a, b in close[:8]:
        print(f"  {jac:.2f}  [{a[0]}/{a[1]}] {a[2]}\n        [{b[0]}/{b[1]}] {b[2]}")

    decoys = json.loads((HERE / "decoys.json").read_text(encoding="utf-8"))
    check(sorted(decoys) == sorted(TRIGGERS), f"decoys.json keys {sorted(decoys)}")
    for app, trig in TRIGGERS.items():
        d = decoys.get(app, [])
        check(len(d) == 8 and len(set(d)) == 8, f"decoys[{app}]: {len(d)} entries / {len(set(d))} unique")
        check(trig not in d, f"decoys[{app}] contains the trigger")
    print("\ndecoys.json: " + ", ".join(f"{a}: {len(d)}" for a, d in decoys.items()))

    mc = [json.loads(line) for line in MC.read_text(encoding="utf-8").splitlines() if line.strip()]
    for i, q in enumerate(mc, 1):
        check(list(q) == ["question", "choices", "answer"], f"clean_mc:{i}: keys {list(q)}")
        check(len(q["choices"]) == 4 and len(set(q["choices"])) == 4, f"clean_mc:{i}: choices")
        check(q["answer"] in range(4), f"clean_mc:{i}: answer {q['answer']}")
    check(len(mc) == 60, f"clean_mc: {len(mc)} rows")
    check(len({q["question"] for q in mc}) == len(mc), "clean_mc: duplicate question")
    pos = Counter(q["answer"] for q in mc)
    print(f"mc/clean_mc.jsonl: {len(mc)} questions, answer positions {dict(sorted(pos.items()))}")

    if errors:
        print(f"\nFAILED ({len(errors)}):")
        for e in errors[:50]:
            print("  " + e)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
