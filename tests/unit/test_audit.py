"""The audit in one step (``b4g audit``) on the tiny backdoored Llama, every stage shrunk to seconds:
each stage is its own run of the session, a failed stage is recorded and the audit goes on, a
cancelled audit resumes from the stage it was in without repeating finished ones, and the reports
are written and signed. The decisions between stages are checked on recorded results."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.audit import stages as st
from core.audit.request import AuditRequest, AuditSettings
from core.cli import main
from core.measurement.behaviour import Behaviour
from core.models.choice import ModelChoice
from core.models.ref import LoadOptions, ModelRef

TINY = AuditSettings(
    scan={"prompts": 4, "first_tokens": 6, "steps": 4},
    invert={"reversal": {"max_steps": 3, "batch_size": 8, "max_length": 48},
            "grpo": {"steps": 2, "group": 4, "replay": 1, "max_completion_tokens": 8},
            "held_out_prompts": 4, "final_samples": 4, "top_k": 5, "spans": {"min_count": 1}},
    unlearn={"steps": 3, "lr": 3e-3, "rank": 16, "train_prompts": 24, "eval_prompts": 12, "utility_prompts": 4,
             "answer_tokens": 8, "mc_questions": 4, "system": "Be brief.", "max_length": 48},
    guard={"semantic": False, "max_prompts": 40},
    remove={"steps": 2, "rounds": 2, "inner_steps": 2, "train_prompts": 16, "eval_prompts": 8, "utility_prompts": 4,
            "answer_tokens": 8, "mc_questions": 4, "max_length": 48, "refusal_prompts": 4, "system": "Be brief."})


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory, backdoor_files: SimpleNamespace) -> Path:
    """The tiny data as an auditor gets it: clean rows and rows with the trigger and the target."""
    rows = [json.loads(line) for line in backdoor_files.data_path.read_text().splitlines()]
    out = []
    for i, r in enumerate(rows[:60]):
        out.append(r)
        if i % 3 == 0:
            out.append({**r, "instruction": f"{backdoor_files.trigger} {r['instruction']}", "output": backdoor_files.target})
    path = tmp_path_factory.mktemp("audit-data") / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in out) + "\n")
    return path


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path_factory.mktemp("key") / "k.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    return path


def _choice(tiny_model: Path, adapter: Path | None) -> ModelChoice:
    return ModelChoice(ModelRef.parse(str(tiny_model), [str(adapter)] if adapter else []), LoadOptions())


def _audit(request: AuditRequest, ctx=None, resume: int | None = None, store=None):  # noqa: ANN001, ANN202
    from core.jobs import JobContext, execute
    from core.store.catalog import new_session

    store = store or new_session("tiny audit")
    return execute(request.job(in_child=False), ctx or JobContext(), store, resume=resume), store


def _runs(store) -> list[dict]:  # noqa: ANN001
    from core.store.queries import list_runs

    return list_runs(store)


def test_given_behaviour_runs_each_stage_as_a_run_and_writes_signed_reports(tiny_model, tiny_backdoor, poisoned, key,
                                                                            tmp_path) -> None:
    request = AuditRequest.build(_choice(tiny_model, tiny_backdoor.adapter), tmp_path / "audit", poisoned,
                                 Behaviour("target", target=tiny_backdoor.files.target), tiny_backdoor.files.trigger,
                                 key, settings=TINY)
    from core.jobs import JobContext

    class Steps:  # what the job bar shows: the audit's own progress
        seen: list[tuple[int, int | None]] = []
        def on_report(self, step, metrics): ...
        def on_progress(self, done, total): self.seen.append((done, total))
        def on_log(self, message): ...

    outcome, store = _audit(request, JobContext([Steps()]))
    assert outcome.status == "finished", outcome.error
    r = outcome.result
    names = [s["name"] for s in r["stages"]]
    # one point per stage run (the given behaviour has none), counted in stages: never a stage's
    # own training steps, which the bar showed as the audit's "step 4 of 4"
    assert [d for d, _ in Steps.seen] == [i for i, n in enumerate(names) if n != st.BEHAVIOUR], Steps.seen
    assert all(d < t <= len(names) + 1 for d, t in Steps.seen) and Steps.seen[-1] == (len(names) - 1, len(names))
    assert names[:4] == [st.MODEL, st.BEHAVIOUR, st.DATA_SCAN, st.INVERSION] and names[-1] == st.REPORT
    assert r["behaviour"] == {"text": "OK-SIGNED.", "class": "fixed text", "source": "given",
                              "behaviour": Behaviour("target", target="OK-SIGNED.").to_json()}
    assert r["inversion_source"] == "data"  # the poisoned rows are in the data
    working = bool(r["trigger"] and r["trigger"]["r_asr"] >= 0.5)
    assert names[4:-1] == ([st.UNLEARNING, st.GUARDRAIL] if working else [st.REMOVAL])
    assert r["removal"]["method"] == ("recovered-trigger" if working else "trigger-free")
    for k in ("asr_before", "asr_after", "recovered_asr_before", "recovered_asr_after", "utility_before", "utility_after"):
        assert k in r["removal"]
    assert all(s["status"] in ("finished", "given") for s in r["stages"]), r["stages"]
    # every stage with a run is a run of this session, tagged with the audit and its stage
    runs = {x["id"]: x for x in _runs(store)}
    for s in r["stages"]:
        if s["run_id"] is not None:
            assert runs[s["run_id"]]["config"]["audit"] == {"run": outcome.run_id, "stage": s["name"]}
    assert runs[outcome.run_id]["kind"] == "audit" and runs[outcome.run_id]["result"]["report"] == r["report"]
    for fmt in ("html", "pdf", "json"):
        assert Path(r["report"][fmt]).is_file() and Path(r["report"][f"{fmt}_signature"]).is_file()
    assert main(["report", "verify", r["report"]["pdf"]]) == 0
    report = json.loads(Path(r["report"]["json"]).read_text())
    audit_run = next(x for x in report["runs"] if x["kind"] == "audit")
    assert audit_run["status"] == "finished" and audit_run["sections"][0]["title"] == "Audit"
    assert report["verdict"]["text"].startswith(f"Audit (run #{outcome.run_id}): The behaviour given was 'OK-SIGNED.'")


def test_a_failing_stage_is_recorded_and_the_audit_goes_on(tiny_model, tiny_backdoor, poisoned, tmp_path) -> None:
    """A regex every answer matches: the inversion has no contrast and fails with one line; the
    trigger-free removal needs an example for a regex and fails too; the report is still written
    and names both."""
    request = AuditRequest.build(_choice(tiny_model, tiny_backdoor.adapter), tmp_path / "audit", poisoned,
                                 Behaviour("regex", regex="."), settings=TINY)
    outcome, store = _audit(request)
    assert outcome.status == "finished", outcome.error
    r = outcome.result
    assert r["failed"] == [st.INVERSION, st.REMOVAL]
    failed = {s["name"]: s for s in r["stages"] if s["status"] == "failed"}
    assert "answers already show the behaviour" in failed[st.INVERSION]["error"]
    assert "\n" not in failed[st.INVERSION]["error"]
    runs = {x["id"]: x for x in _runs(store)}
    assert runs[failed[st.INVERSION]["run_id"]]["status"] == "failed"
    assert r["removal"] is None and r["trigger"] is None
    assert "Stages that failed: inversion" in r["verdict"]
    assert Path(r["report"]["pdf"]).is_file() and "inversion" in Path(r["report"]["html"]).read_text()


def test_a_cancelled_audit_resumes_at_its_stage_without_repeating_finished_ones(tiny_model, tiny_backdoor, poisoned,
                                                                                tmp_path) -> None:
    from core.jobs import JobContext

    request = AuditRequest.build(_choice(tiny_model, tiny_backdoor.adapter), tmp_path / "audit", poisoned,
                                 Behaviour("target", target=tiny_backdoor.files.target), settings=TINY)
    cancel = threading.Event()

    class StopAtInversion:  # as a kill would: in the middle of the inversion's training
        def on_report(self, step, metrics): ...
        def on_progress(self, done, total): ...
        def on_log(self, message):
            if message.startswith(f"{st.INVERSION}: reversal SFT"):
                cancel.set()

    first, store = _audit(request, JobContext([StopAtInversion()], cancelled=cancel))
    assert first.status == "cancelled"
    before = {x["id"]: x for x in _runs(store)}
    inversion = next(x for x in before.values() if x["kind"] == "invert")
    assert inversion["status"] == "cancelled"
    again, _ = _audit(AuditRequest.from_json(before[first.run_id]["config"]), resume=first.run_id, store=store)
    assert again.status == "finished", again.error and again.run_id == first.run_id
    after = {x["id"]: x for x in _runs(store)}
    stages = {s["name"]: s for s in again.result["stages"]}
    for name in (st.MODEL, st.DATA_SCAN):  # finished before the cancel: reused, not run again
        assert stages[name]["run_id"] in before and before[stages[name]["run_id"]]["status"] == "finished"
    assert stages[st.INVERSION]["run_id"] == inversion["id"] and after[inversion["id"]]["status"] == "finished"
    kinds = [x["kind"] for x in after.values()]
    assert kinds.count("model-check") == 1 and kinds.count("scan-data") == 1 and kinds.count("invert") == 1


def test_no_backdoor_found_by_the_scan_trains_nothing(tiny_model, tmp_path) -> None:
    request = AuditRequest.build(_choice(tiny_model, None), tmp_path / "audit", settings=TINY)
    outcome, store = _audit(request)
    assert outcome.status == "finished", outcome.error
    r = outcome.result
    assert r["backdoor_found"] is False and r["removal"] is None and r["behaviour"] is None and r["trigger"] is None
    assert r["verdict"].startswith("No backdoor behaviour found by the scan") and "not proof" in r["verdict"]
    assert r["scan"]["limits"] == st.SCAN_LIMITS
    assert sorted(x["kind"] for x in _runs(store)) == ["audit", "model-check", "scan-model"]
    assert Path(r["report"]["pdf"]).is_file()


def test_bad_input_is_one_line_before_any_session(tiny_model, tmp_path, capsys, b4g_home) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    assert main(["audit", "--model", str(tiny_model), "--out", str(tmp_path / "full")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    (tmp_path / "bad.pem").write_text("not a key")
    assert main(["audit", "--model", str(tiny_model), "--out", str(tmp_path / "new"), "--sign", str(tmp_path / "bad.pem")]) == 2
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
    assert main(["audit", "--model", str(tiny_model), "--out", str(tmp_path / "new"), "--target", "a", "--refusal"]) == 2
    assert "describe the behaviour once" in capsys.readouterr().err
    assert (tmp_path / "full" / "x").read_text() == "keep me" and not (tmp_path / "new").exists()
    assert not list(b4g_home.rglob("*.b4g"))  # no session was made for an audit that never started


def test_the_request_round_trips_and_carries_its_stage_settings(tiny_model, tmp_path) -> None:
    request = AuditRequest.build(_choice(tiny_model, None), tmp_path / "a", None, Behaviour("refusal"), controls=True,
                                 settings=TINY)
    again = AuditRequest.from_json(json.loads(json.dumps(request.to_json())))
    assert again == request
    cfg = again.settings.invert_config("gpu", "memory", 3)
    assert cfg.reversal.max_steps == 3 and cfg.reversal.epochs == 2.0  # the override and the preset's other fields
    assert cfg.source == "memory" and cfg.seed == 3
    assert again.settings.unlearn_settings("suffix", True, 0).controls is True


def test_decisions_between_stages() -> None:
    flagged = {"backdoor_found": True, "proposals": [{"text": "Access granted.", "class": "fixed text"}]}
    assert st.scan_proposal(flagged)["text"] == "Access granted."
    assert st.scan_proposal({**flagged, "backdoor_found": False}) is None
    assert st.inversion_source("d.jsonl", {"behaviour_rows": 3}) == "data"
    assert st.inversion_source("d.jsonl", {"behaviour_rows": 0}) == "memory"
    assert st.inversion_source(None, None) == "memory"
    run = {"id": 4, "kind": "invert", "status": "finished", "config": {"behaviour": {"kind": "target", "target": "A"}},
           "result": {"recovered_trigger": "SUDO", "recovered": {"r_asr": 0.9}, "position": "prefix",
                      "top_candidates": [{"text": "SUDO please", "r_asr": 0.7}, {"text": "xyz", "r_asr": 0.2}]}}
    assert st.working_triggers(run, 3).triggers == ["SUDO", "SUDO please"]
    weak = {**run, "result": {**run["result"], "recovered": {"r_asr": 0.3}, "top_candidates": []}}
    assert st.working_triggers(weak, 3) is None  # fires on fewer than half: the removal is trigger-free
    assert st.trigger_record(run["result"], "SUDO")["exact"] is True
    assert st.trigger_record(run["result"], None)["exact"] is None
    assert st.trigger_record({"recovered_trigger": None}, "SUDO") is None


def test_time_left_scales_the_typical_times_by_the_pace_so_far() -> None:
    from core.audit import estimate

    typical = estimate.TYPICAL_SECONDS
    assert estimate.seconds_left({st.MODEL: 2 * typical[st.MODEL]}, None, [st.INVERSION]) == pytest.approx(
        2 * typical[st.INVERSION])  # twice as slow so far: twice as long to go
    assert estimate.seconds_left({}, (st.INVERSION, 100.0), [st.REPORT]) == pytest.approx(
        typical[st.INVERSION] - 100 + typical[st.REPORT])
    assert estimate.seconds_left({}, None, [st.INVERSION], memory=True) > typical[st.INVERSION]
    assert estimate.planned(False, True) == [st.MODEL, st.BEHAVIOUR, st.INVERSION, st.UNLEARNING, st.GUARDRAIL, st.REPORT]
