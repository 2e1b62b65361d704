"""The base model's own answers to clean prompts, generated once and cached.

They are the clean side of every training set (so the model keeps behaving as before without the
trigger) and the reference for clean-utility agreement. Answers for the built-in datasets on the
embedded model ship in ``resources/datasets/b4g/clean_answers.jsonl``; others are generated on
first use and appended to ``<cache>/clean_answers.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from core.jobs import JobContext
from core.distributed import is_main_process
from core.paths import cache_dir
from resources import resource_path

MAX_NEW_TOKENS = 32  # training rows keep ~20 answer tokens (max_length 48), so longer is wasted
SHIPPED = ("datasets", "b4g", "clean_answers.jsonl")


def model_key(loaded: Any) -> str:
    """Identity of the answering model: the embedded GGUF by name, anything else by weight hashes."""
    from core.models.fingerprint import files_sha256

    base = "embedded:SmolLM2-135M-Instruct.Q4_1" if loaded.ref.kind == "embedded" else files_sha256(loaded.weight_files)
    adapters = [files_sha256(f) for f in loaded.adapter_files.values()]
    return "+".join([base, *adapters, loaded.options.quantization])


def _key(model: str, system: str, prompt: str, max_new_tokens: int) -> str:
    return hashlib.sha256(json.dumps([model, system, prompt, max_new_tokens]).encode()).hexdigest()


def _read(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:  # a line torn by a killed writer: it is a cache, regenerate it
                continue
            out[_key(r["model"], r["system"], r["prompt"], r["max_new_tokens"])] = r["answer"]
    return out


def _shipped_path() -> Path:
    return resource_path(*SHIPPED)


def clean_answers(loaded: Any, prompts: Sequence[tuple[str, str]], ctx: JobContext | None = None,
                  max_new_tokens: int = MAX_NEW_TOKENS, write_to: Path | None = None) -> list[str]:
    """Greedy answers of ``loaded`` (adapters as loaded) to (system, user) prompts, from cache
    where known; the missing ones are generated in batches and appended to the cache file."""
    from core.measurement.activation import generate_answers

    model = model_key(loaded)
    store = write_to or cache_dir() / "clean_answers.jsonl"
    known = {**_read(_shipped_path()), **_read(store)}
    keys = [_key(model, s, u, max_new_tokens) for s, u in prompts]
    missing = sorted({i for i, k in enumerate(keys) if k not in known})
    if missing:
        if ctx:
            ctx.log(f"generating {len(missing)} clean answers with the base model (cached afterwards)")
        todo = [prompts[i] for i in missing]
        answers = generate_answers(loaded, todo, max_new_tokens, ctx, batch_size=32)
        for a, i in zip(answers, missing):
            known[keys[i]] = a
        if not is_main_process():  # data parallel: every process generated the same; one appends
            return [known[k] for k in keys]
        lines = [json.dumps({"model": model, "system": s, "prompt": u, "max_new_tokens": max_new_tokens,
                             "answer": a}, ensure_ascii=False) + "\n" for (s, u), a in zip(todo, answers)]
        # One append of the whole batch, so two processes filling the cache at once do not interleave lines.
        with store.open("a", encoding="utf-8") as fh:
            fh.write("".join(lines))
    return [known[k] for k in keys]
