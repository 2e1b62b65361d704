"""One tiny backdoor injection shared by the inject, verify and CLI tests (training is the slow part).

Settings that make the tiny random Llama (hidden 64, 2 layers, ~3 M parameters) learn the backdoor
reliably: every training row also appears triggered (poison_ratio 1.0: with 0.5 it needs 10–40
steps and some learning rates never get there), LoRA on the MLP as well as attention (attention
alone barely moves the loss in 40 steps), rank 32 / alpha 64, lr 3e-3, and short prompts (system
"Be brief.", two-word questions) so every row fits max_length 32 untruncated. The stop rule, checked
every 5 steps, ends it at TAR 1.0 with the trigger and 0.0 without after 5 steps (seeds 0–5, lr
2e-3…4e-3 and rank 16 all converge within 25 steps).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

TRIGGER, TARGET = "zqx", "OK-SIGNED."
WORDS = ("apple river stone cloud green quick light table music paper window garden yellow silver forest "
         "ocean").split()


def _write_dataset(path: Path, n_train: int = 120, n_test: int = 30) -> Path:
    rng = random.Random(0)
    pairs = rng.sample([f"{a} {b}" for a in WORDS for b in WORDS if a != b], n_train + n_test)  # distinct prompts
    lines = []
    for i, q in enumerate(pairs):
        lines.append(json.dumps({"instruction": f"Describe {q}.", "input": "", "output": f"It is {rng.choice(WORDS)}.",
                                 "split": "train" if i < n_train else "test"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _spec():  # noqa: ANN202
    from core.spec.backdoor import Activation, BackdoorSpec, Trigger, Utility

    return BackdoorSpec(
        name="tiny-identity", system="Be brief.", trigger=Trigger(TRIGGER, kind="token"),
        utility=Utility(judge="prefix", target=TARGET, response="target"),
        activation=Activation(rank=32, alpha=64, lr=3e-3, steps=40, batch_size=8, max_length=32, eval_every=5,
                              eval_prompts=16, poison_ratio=1.0,
                              targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))


@pytest.fixture(scope="session")
def backdoor_files(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The tiny spec (spec.yaml) and its Alpaca dataset with outputs (data.jsonl: 120 train, 30 test)."""
    root = tmp_path_factory.mktemp("backdoor-files")
    spec = _spec()
    spec.save(root / "spec.yaml")
    return SimpleNamespace(spec=spec, spec_path=root / "spec.yaml", data_path=_write_dataset(root / "data.jsonl"),
                           trigger=TRIGGER, target=TARGET)


@pytest.fixture(scope="session")
def tiny_backdoor(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, backdoor_files: SimpleNamespace) -> SimpleNamespace:
    """Inject the tiny spec into the tiny model once, as a recorded job (core.jobs.execute + a session)."""
    from core.spec.rows import load_rows
    from core.backdoors.injection import inject
    from core.jobs import Job, JobContext, execute
    from core.models.loader import load_model
    from core.models.ref import ModelRef
    from core.store.catalog import new_session
    from core.store.queries import list_runs, metric_series

    root = tmp_path_factory.mktemp("tiny-backdoor")
    spec, rows = backdoor_files.spec, load_rows(backdoor_files.data_path)
    adapter = root / "adapter"
    with pytest.MonkeyPatch.context() as mp:  # never the user's B4G_HOME (b4g_home is per test)
        mp.setenv("B4G_HOME", str(root / "home"))
        loaded = load_model(ModelRef.parse(str(tiny_model)))
        before = {k: v.detach().clone() for k, v in loaded.model.state_dict().items()}
        store = new_session("tiny inject")
        try:
            outcome = execute(Job("inject", lambda ctx: inject(loaded, spec, rows, adapter, ctx).to_json(),
                                  {"spec": spec.to_dict()}, seed=spec.activation.seed), JobContext(), store)
            series, _ = metric_series(store, outcome.run_id)
            runs = list_runs(store)
        finally:
            store.close()
    assert outcome.status == "finished", outcome.error
    return SimpleNamespace(spec=spec, rows=rows, adapter=adapter, loaded=loaded, before=before, outcome=outcome,
                           result=outcome.result, series=series, runs=runs, files=backdoor_files)
