"""The GCG baseline's chunked loop on the tiny model: a step budget is split into chunks that continue
from the last string, a wall-time budget stops it between chunks, and every chunk leaves a scored
point in the trace. nanogcg itself is replaced by a stand-in (it is a bench-only dependency, and the
loop around it is what is under test)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from core.invert.method_baselines import GCG_CHUNK, gcg
from core.invert.config import InvertConfig
from core.jobs import JobContext
from core.measurement.behaviour import Behaviour


@pytest.fixture()
def fake_nanogcg(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A nanogcg whose every step lowers the loss a little; records each run's config (``calls``)
    and sleeps ``sleep`` seconds per run."""
    calls: list[SimpleNamespace] = []

    def run(model, tokenizer, messages, target, config):  # noqa: ANN001, ANN202
        calls.append(config)
        start = len(calls) * 100
        strings = [f"word{start + i}" for i in range(config.num_steps)]
        time.sleep(config.sleep)
        return SimpleNamespace(best_loss=1.0 / (start + config.num_steps), best_string=strings[-1], strings=strings)

    module = ModuleType("nanogcg")
    module.run = run
    fake = SimpleNamespace(calls=calls, sleep=0.0)
    module.GCGConfig = lambda **kw: SimpleNamespace(sleep=fake.sleep, **kw)
    monkeypatch.setitem(sys.modules, "nanogcg", module)
    return fake


def _run(tiny_model: Path, data: Path, target: str, **budget: float) -> dict:
    from core.spec.rows import load_rows
    from core.models.loader import load_model
    from core.models.ref import ModelRef

    cfg = InvertConfig()
    cfg.held_out_prompts, cfg.minimise_prompts = 4, 4
    return gcg(load_model(ModelRef.parse(str(tiny_model))), load_rows(data), Behaviour("target", target), cfg,
               JobContext(), **budget)


def test_steps_run_in_chunks_that_continue_from_the_last_string(fake_nanogcg, tiny_model, backdoor_files) -> None:
    out = _run(tiny_model, backdoor_files.data_path, backdoor_files.target, steps=2 * GCG_CHUNK + 2)
    calls = fake_nanogcg.calls
    assert [c.num_steps for c in calls] == [GCG_CHUNK, GCG_CHUNK, 2]
    assert not hasattr(calls[0], "optim_str_init")  # nanogcg's own start
    assert calls[1].optim_str_init == f"word{100 + GCG_CHUNK - 1}"
    assert len({c.seed for c in calls}) == 3
    assert [p["steps"] for p in out["trace"]] == [GCG_CHUNK, 2 * GCG_CHUNK, 2 * GCG_CHUNK + 2]
    assert out["gcg_steps"] == 2 * GCG_CHUNK + 2 and out["best_string"] == "word301"  # the lowest loss
    assert all(0.0 <= p["r_asr"] <= 1.0 for p in out["trace"])


def test_a_time_budget_stops_between_chunks(fake_nanogcg, tiny_model, backdoor_files) -> None:
    fake_nanogcg.sleep = 0.3
    out = _run(tiny_model, backdoor_files.data_path, backdoor_files.target, steps=1000, seconds=0.01)
    assert len(fake_nanogcg.calls) == 1 and out["gcg_steps"] == GCG_CHUNK  # one chunk always runs
    assert out["trace"][0]["seconds"] >= 0.3


def test_gcg_request_refuses_a_non_positive_budget(tiny_model, backdoor_files) -> None:
    from core.errors import B4GError
    from core.models.choice import ModelChoice
    from core.requests import InvertRequest

    with pytest.raises(B4GError, match="positive time budget"):
        InvertRequest.build(ModelChoice(), backdoor_files.data_path, Behaviour("target", "x"), method="gcg",
                            gcg_seconds=0)
    req = InvertRequest.build(ModelChoice(), backdoor_files.data_path, Behaviour("target", "x"), method="gcg",
                              gcg_seconds=60)
    assert InvertRequest.from_json(req.to_json()).gcg_seconds == 60
