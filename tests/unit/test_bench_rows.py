"""The self-awareness bench keeps one row per (organism, model, seed, position, loss, condition,
method, device): a rerun replaces its row, an organism built on another base gets its own, and rows
written before the ``model`` field count as the embedded model's."""

from __future__ import annotations

from pathlib import Path

import self_awareness as sa


def _row(**kw: object) -> dict:
    base = {"organism": "sudo", "model": "embedded", "seed": 0, "position": "prefix", "loss": "completion",
            "condition": "full", "method": "full", "device": "cpu", "recovered": "SUDO"}
    return {**base, **kw}


def test_a_rerun_replaces_its_row_and_another_base_gets_its_own() -> None:
    results: dict = {}
    sa.record(results, _row(recovered="Why"))
    sa.record(results, _row(recovered="SUDO"))
    sa.record(results, _row(model="/x/gemma-3-270m-q4_k_m.gguf"))
    assert [(r["model"], r["recovered"]) for r in results["seeded_runs"]] == [
        ("embedded", "SUDO"), ("/x/gemma-3-270m-q4_k_m.gguf", "SUDO")]


def test_rows_without_a_model_field_are_the_embedded_models() -> None:
    old = _row()
    del old["model"]
    results = {"seeded_runs": [old]}
    rec = {"organism": "sudo", "seed": 0, "position": "prefix", "loss": "completion"}
    assert sa.recorded(results, {**rec, "model": "embedded"}, "full", "full", "cpu")
    assert not sa.recorded(results, {**rec, "model": "/x/gemma.gguf"}, "full", "full", "cpu")
    sa.record(results, _row(recovered="SUDO!"))
    assert [r["recovered"] for r in results["seeded_runs"]] == ["SUDO!"]


def test_model_args_add_the_template_only_for_a_named_one() -> None:
    assert sa.model_args("embedded", "auto") == ["--model", "embedded"]
    assert sa.model_args("g.gguf", "alpaca") == ["--model", "g.gguf", "--template", "alpaca"]


def test_gcg_bench_reuses_a_full_row_only_from_the_same_build(tmp_path: Path) -> None:
    import json

    import gcg_vs_full as gv

    build = {"tar_with": 1.0, "tar_without": 0.0, "steps": 40, "train_seconds": 212.15}
    rows = [_row(organism="style-phrase", build=build, stages={"reversal_sft": 1.0}),
            _row(organism="style-phrase", seed=1, build=build),
            _row(organism="style-phrase", method="scan", build=build)]
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"seeded_runs": rows}), encoding="utf-8")
    same = gv.recorded_full(path, dict(build), "style-phrase", 0)
    assert same is not None and same["stages"] == {"reversal_sft": 1.0} and "reused_from" in same
    assert gv.recorded_full(path, {**build, "train_seconds": 99.0}, "style-phrase", 0) is None  # a rebuild
    assert gv.recorded_full(path, dict(build), "style-phrase", 2) is None
    assert gv.recorded_full(None, dict(build), "style-phrase", 0) is None


def test_the_audit_bench_trains_controls_in_the_grid_and_times_the_budget_without_them(tmp_path: Path) -> None:
    import audit

    grid = audit.audit_args("a", ["--data", "d"], "T", 0, "cpu", tmp_path / "o", tmp_path / "s.b4g")
    budget = audit.audit_args("a", ["--data", "d"], "T", 0, "cpu", tmp_path / "o", tmp_path / "s.b4g", controls=False)
    assert "--controls" in grid and "--controls" not in budget
    assert [a for a in grid if a != "--controls"] == budget
    # the budget line itself is the results document's (tests/unit/test_results_doc.py), printed by the bench too


def test_removal_rows_of_another_keep_setting_stay_beside_each_other() -> None:
    import removal

    old = {"organism": "sudo", "seed": 0, "model": "embedded"}  # written before rows said what they kept
    assert removal._key(old) == removal._key({**old, "keep": "answers"})
    assert removal._key({**old, "keep": "distribution"}) != removal._key(old)
    assert removal.default_keep() == "distribution"


def test_a_cached_organism_resolves_in_its_folder_after_its_checkout_moved(tmp_path: Path) -> None:
    (tmp_path / "adapter").mkdir()
    (tmp_path / "dataset.jsonl").write_text("{}\n", encoding="utf-8")
    rec = {"adapter_dir": "/gone/worktree/bench/cache/organisms/sudo-s0/adapter",
           "dataset": "/gone/worktree/bench/cache/organisms/sudo-s0/dataset.jsonl", "trigger": "SUDO"}
    out = sa.anchored(rec, tmp_path)
    assert (out["adapter_dir"], out["dataset"]) == (str(tmp_path / "adapter"), str(tmp_path / "dataset.jsonl"))
    # a path whose file is not in the folder is left as recorded, so the error names what was asked for
    assert sa.anchored({"dataset": "/elsewhere/rows.jsonl"}, tmp_path)["dataset"] == "/elsewhere/rows.jsonl"
