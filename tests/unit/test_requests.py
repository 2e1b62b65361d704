"""Job requests: one typed object per job, its JSON round trip, its one-line errors, and the
store recording what a job says it made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import B4GError
from core.models.choice import ModelChoice
from core.models.ref import LoadOptions, ModelRef


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) for i in range(8)) + "\n")
    return path


def _choice() -> ModelChoice:
    return ModelChoice(ModelRef.parse("/models/m", ["/a/one"]), LoadOptions(dtype="bfloat16", quantization="8bit"))


def test_every_request_survives_its_json_round_trip(data: Path, tmp_path: Path) -> None:
    from core.backdoors.apps import get_app
    from core.defend.defense_settings import GuardSettings
    from core.defend.defense_settings import UnlearnSettings
    from core.measurement.behaviour import Behaviour
    from core.requests import (REQUESTS, GuardCheckRequest, GuardRequest, InjectRequest, InvertRequest,
                               OrganismRequest, ScanModelRequest, TryCandidateRequest, TryTriggerRequest,
                               UnlearnRequest, VerifyRequest)
    from core.target_scan.scan_settings import ScanSettings

    spec = get_app("identity").spec()
    behaviour = Behaviour.from_flags(target="OK")
    made = [InjectRequest.build(_choice(), spec, data, tmp_path / "out", steps=7),
            OrganismRequest.build(_choice(), "sudo", tmp_path / "out", seed=2, position="suffix"),
            VerifyRequest.build(_choice(), spec, data, "/adapter", tamper_steps=0),
            TryTriggerRequest.build(_choice(), spec, "/adapter", "hello"),
            InvertRequest.build(_choice(), data, behaviour, eval_trigger="SUDO"),
            TryCandidateRequest(_choice(), str(data), behaviour, "SUDO", "suffix"),
            UnlearnRequest.build(_choice(), data, ["SUDO", "sudo!"], tmp_path / "unl", behaviour, "SUDO",
                                 UnlearnSettings(steps=9, controls=False), from_run=4),
            GuardRequest.build(_choice(), ["SUDO"], data, None, GuardSettings(target_fpr=0.05), ["SUD"], onion=True),
            GuardCheckRequest.build(_choice(), ["SUDO"], ["hi", "SUDO hi"], threshold=0.7),
            ScanModelRequest.build(_choice(), ScanSettings(prompts=5, seed=3), data)]
    from core.audit.request import AuditRequest, AuditSettings  # the audit and its own two stages
    from core.audit.stage_jobs import DataScanRequest, ModelCheckRequest

    made += [AuditRequest.build(_choice(), tmp_path / "audit", data, None, "SUDO", controls=True,
                                settings=AuditSettings(invert={"grpo": {"steps": 3}})),
             ModelCheckRequest(_choice()), DataScanRequest(_choice(), str(data), behaviour)]
    from core.requests import RemoveRequest  # trigger-free removal (issue 39)

    made.append(RemoveRequest.build(_choice(), data, behaviour, tmp_path / "rm", eval_trigger="SUDO", stand_in="SUD",
                                    from_run=5))
    from core.run_kinds import RUN_REQUESTS, request_for_run

    assert {type(r) for r in made} == set(RUN_REQUESTS.values()) and set(REQUESTS.values()) < set(RUN_REQUESTS.values())
    for request in made:
        again = request_for_run(request.KIND, json.loads(json.dumps(request.to_json())))
        assert again.to_json() == request.to_json(), request.KIND
    assert made[0].spec.activation.steps == 7 and made[0].seed == spec.activation.seed
    assert made[1].to_json()["spec"]["trigger"]["position"] == "suffix" and made[1].to_json()["seed"] == 2
    assert made[3].model.ref.adapters == ("/a/one", "/adapter")  # the adapter tried sits on the chosen stack
    assert made[4].to_json()["evaluation"] == {"trigger": "SUDO"} and made[4].to_json()["options"]["dtype"] == "bfloat16"
    assert made[6].to_json()["unlearn"]["steps"] == 9 and made[6].to_json()["from_run"] == 4
    assert made[7].settings.target_fpr == 0.05 and made[8].threshold == 0.7
    assert made[9].to_json()["scan"]["prompts"] == 5 and made[9].seed == 3 and made[9].prompts_file == str(data.resolve())


def test_bad_requests_fail_in_one_line_naming_what_is_wrong(data: Path, tmp_path: Path) -> None:
    from core.measurement.behaviour import Behaviour
    from core.requests import InjectRequest, InvertRequest

    with pytest.raises(B4GError, match="missing 'data'"):
        InvertRequest.from_json({**_choice().to_json(), "behaviour": {"kind": "target", "target": "x"}})
    with pytest.raises(B4GError, match="must name a kind"):
        InvertRequest.from_json({"model": {"kind": "cloud"}, "data": str(data), "behaviour": {"kind": "target"}})
    with pytest.raises(B4GError, match="unknown dtype"):
        ModelChoice.from_json({"model": {"kind": "embedded"}, "options": {"dtype": "float8"}})
    with pytest.raises(B4GError, match="not found"):
        InvertRequest.build(_choice(), tmp_path / "missing.jsonl", Behaviour.from_flags(target="x"))
    with pytest.raises(B4GError, match="unknown method"):
        InvertRequest.build(_choice(), data, Behaviour.from_flags(target="x"), method="magic")
    with pytest.raises(B4GError, match="output folder"):
        from core.backdoors.apps import get_app

        InjectRequest.build(_choice(), get_app("identity").spec(), data, " ")
    for steps in (0, -5):  # 0 used to be dropped silently (the spec's 120 steps ran)
        with pytest.raises(B4GError, match="steps must be at least 1"):
            InjectRequest.build(_choice(), get_app("identity").spec(), data, tmp_path / "a", steps=steps)
    from core.requests import OrganismRequest

    with pytest.raises(B4GError, match="steps must be at least 1"):
        OrganismRequest.build(_choice(), "sudo", tmp_path / "o", steps=0)


def test_a_request_becomes_a_job_that_runs_in_a_child_only_when_it_trains(data: Path) -> None:
    from core.measurement.behaviour import Behaviour
    from core.requests import InvertRequest, TryCandidateRequest

    invert = InvertRequest.build(_choice(), data, Behaviour.from_flags(target="x"))
    job = invert.job()
    assert job.kind == "invert" and job.config == invert.to_json() and job.seed == invert.config.seed
    assert job.fn.__name__ == "<lambda>"  # wrapped in run_in_child
    probe = TryCandidateRequest(_choice(), str(data), Behaviour.from_flags(target="x"), "c")
    assert probe.job().fn.__self__.target == "core.recipes:try_candidate_job"  # Recipe.run, in process


def test_the_store_records_what_a_finished_job_says_it_made(tmp_path: Path) -> None:
    from core.jobs import Job, JobContext, execute
    from core.recipes import made_file
    from core.store.queries import export_session
    from core.store.session_store import SessionStore

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    store = SessionStore.create(tmp_path / "s.b4g", "t")
    made = [{"kind": "spec", "name": "demo", "spec": {"name": "demo"}}, made_file("adapter", adapter, "*.safetensors")]
    outcome = execute(Job("inject", lambda ctx: {"made": made}), JobContext(), store)
    failed = execute(Job("inject", lambda ctx: 1 / 0), JobContext(), store)
    trail = export_session(store, with_points=False)
    assert [(a["kind"], a["run_id"], a["sha256"]) for a in trail["artifacts"]] == [
        ("adapter", outcome.run_id, made[1]["sha256"])]
    assert len(made[1]["sha256"]) == 64 and failed.status == "failed"
    runs = {r["id"]: r for r in trail["runs"]}
    assert trail["backdoor_specs"][0]["id"] == runs[outcome.run_id]["spec_id"]


def test_sections_word_a_result_once_for_every_renderer() -> None:
    from core.sections import invert_sections, rate, run_label, sections_for

    assert rate({"rate": 0.98, "k": 49, "n": 50, "ci95": [0.89, 1.0]}) == "0.98 (49/50, 95% CI 0.89–1.00)"
    assert run_label({"id": 3, "status": "finished", "started_at": "2026-11-30T04:12:55"}) == "#3 · finished · 2026-11-30 04:12"
    result = {"recovered_trigger": "SUDO", "k": 5, "awareness_at_5": 1.0, "emergence_step": 4, "wall_seconds": 61,
              "stages": {"reversal_sft": 30.0}, "data_scan": {"top": "SUDO"},
              "recovered": {"r_asr": 1.0, "position": "prefix", "named_by_model": True, "said_in": 9, "stand_in": None},
              "top_candidates": [{"text": "SUDO", "r_asr": 1.0, "origin": "policy"}],
              "scoring": {"device": "cpu", "dtype": "float32"}}
    main, how = invert_sections(result)
    assert main.pairs()["trained trigger"] == "'SUDO' (prefix)"
    assert main.pairs()["chosen by"] == "the model's own words"
    result["recovered"]["tied"] = [{"text": "SUDO", "r_asr": 1.0, "margin": 6.5, "said_in": 9, "p_value_vs_head": 1.0,
                                    "data_scan": {"in_behaviour": 60}}]
    result["recovered"]["chosen_by"] = "data scan: complete span"
    tied = invert_sections(result)[0].tables[1]
    assert tied.title == "Tied candidates (the rule that chose: data scan: complete span)"
    assert tied.rows == [["'SUDO'", "1.00", "6.50", "9", "all 60 behaviour rows, no other", "1.000"]]
    assert main.pairs()["said by the model"] == "yes, in 9 final samples"
    assert main.tables[0].rows == [["'SUDO'", "1.00", "policy"]]
    assert how.pairs() == {"device": "cpu", "dtype": "float32"}
    assert sections_for("no-such-kind", result) == []
