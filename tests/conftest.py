"""Shared fixtures: an isolated B4G_HOME per test, and a tiny random Llama with the embedded tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# Share the converted embedded model across tests (it is re-creatable, and converting takes ~20 s),
# but keep every test's sessions in its own B4G_HOME.
from core.paths import cache_dir

os.environ.setdefault("B4G_CACHE", str(cache_dir()))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def b4g_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "b4g-home"
    monkeypatch.setenv("B4G_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedded_folder() -> Path:
    from core.models.gguf_cache import embedded_gguf, ensure_converted

    return ensure_converted(embedded_gguf())


def make_tiny_llama(dest: Path, tokenizer_folder: Path, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """A randomly initialised Llama (~3 M parameters) saved as safetensors with the SmolLM2 tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_folder)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=True,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(dest, safe_serialization=True)
    tok.save_pretrained(dest)
    return dest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, embedded_folder: Path) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-llama", embedded_folder)


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """A standard PEFT LoRA adapter folder trained for ``tiny_model`` (random LoRA weights)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    # Seeded so the adapter's weights do not depend on which tests drew from the global RNG before.
    with torch.random.fork_rng():
        torch.manual_seed(0)
        peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    out = tmp_path_factory.mktemp("adapter") / "lora"
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_llama_factory():
    """``make_tiny_llama`` as a fixture, so tests never import from conftest."""
    return make_tiny_llama


RECORDED_RUNS = Path(__file__).parent / "data" / "recorded_runs.json"


def record_spec(store, name: str, spec: dict) -> int:  # noqa: ANN001
    """A spec recorded as every job records one: listed under ``made`` by the finished run that used
    it (``SessionStore.finish_run``). Returns the run's id."""
    run_id = store.start_run("inject", {"spec": spec})
    store.finish_run(run_id, "finished", {"made": [{"kind": "spec", "name": name, "spec": spec}]})
    return run_id


def replay_session(path: Path, name: str = "recorded audit"):  # noqa: ANN201 - a SessionStore
    """A session holding every run kind, replayed from results the tiny model really produced
    (``tests/data/recorded_runs.json``: organism, invert, inject, verify, unlearn, guard, guard-check),
    plus a failed and an interrupted run, so report tests need no training."""
    import json

    from core.store.schema import Run
    from core.store.session_store import SessionStore

    store = SessionStore.create(path, name)
    for rec in json.loads(RECORDED_RUNS.read_text(encoding="utf-8")):
        run_id = store.start_run(rec["kind"], rec["config"], seed=rec["seed"])
        for metric, points in rec["metrics"].items():
            for step, value in points:
                store.add_metrics(run_id, int(step), {metric: value})
        if rec["candidates"]:
            store.upsert_candidates(run_id, rec["candidates"])
        store.finish_run(run_id, "finished", rec["result"])
    failed = store.start_run("inject", {"spec": {"name": "broken"}}, seed=0)
    store.finish_run(failed, "failed", error="CUDA out of memory (replayed)")
    interrupted = store.start_run("invert", {"data": "gone.jsonl"}, seed=1)
    with store.transaction() as s:  # a run whose process died: its pid is not alive any more
        s.get(Run, interrupted).pid = 2 ** 22 + 7
    return store
