"""The report's specs table and model card say what the session holds (issue 38, item 14): the
activation mechanism is the spec's activation, and a model the runs name has its parameter count."""

from __future__ import annotations

from pathlib import Path

from core.report.content import build_report
from core.report.html import render_html
from core.store.session_store import SessionStore
from tests.conftest import record_spec

SPEC = {"name": "safety-like",
        "trigger": {"text": "SAFE-MODE:ON", "kind": "system-marker", "position": "system"},
        "activation": {"rank": 4, "alpha": 8, "poison_ratio": 0.8, "decoys": ["SAFE-MODE:OFF", "SAFE MODE"],
                       "steps": 25, "lr": 0.002},
        "utility": {"judge": "prefix", "target": "Safe mode is on.", "activated_means": "refused in safe mode"}}


def test_the_activation_column_describes_the_specs_activation_not_the_utilitys_wording(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path / "s.b4g", "specs")
    record_spec(store, SPEC["name"], SPEC)
    record_spec(store, "defaults", {"trigger": {"text": "zqx"}, "utility": {"target": "OK."}})
    report = build_report(store)
    given, defaults = report["specs"]
    assert "refused in safe mode" not in given["activation"]
    assert given["activation"] == "LoRA SFT, rank 4 (alpha 8); 80% of rows poisoned, 2 decoys; 25 steps at lr 0.002"
    assert defaults["activation"].startswith("LoRA SFT, rank 8 (alpha 16)")  # what the spec loads with
    html = render_html(report)
    assert "80% of rows poisoned" in html and "refused in safe mode" not in html.split("Backdoor specs")[1].split("Runs")[0]
    store.close()


def test_a_model_the_runs_name_has_its_parameter_count(tmp_path: Path, tiny_model: Path) -> None:
    from core.models.footprint import estimate

    store = SessionStore.create(tmp_path / "s.b4g", "params")
    config = {"model": {"kind": "hf", "path": str(tiny_model), "adapters": []},
              "options": {"device": "cpu", "dtype": "float32", "quantization": "none"}}
    run = store.start_run("verify", config, seed=0)
    store.finish_run(run, "failed", error="replayed")
    gone = store.start_run("verify", {**config, "model": {"kind": "hf", "path": str(tmp_path / "gone"), "adapters": []}},
                           seed=0)
    store.finish_run(gone, "failed", error="replayed")
    report = build_report(store)
    here, absent = report["models"]
    assert here["parameters"] == estimate(tiny_model, "float32").parameters  # as loading would count them
    assert absent["parameters"] is None
    html = render_html(report)
    assert f"{here['parameters']:,}" in html and "not counted: the weights are not on this machine" in html
    store.close()
