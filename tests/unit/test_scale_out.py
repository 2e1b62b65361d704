"""Data parallel under ``accelerate launch``: two CPU processes (gloo) train one shared model, and
only the main process writes: one run in the session, one adapter folder. Inject (SFT) and the
inversion (reversal SFT, then GRPO whose processes share their scored groups) are both run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.spec.backdoor import BackdoorSpec

# End to end (accelerate launch of the installed b4g, two processes): outside the quick unit run
# (`-m "not integration"`), in `make test` and CI.
pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def test_inject_under_accelerate_launch_with_two_cpu_processes(tmp_path: Path, tiny_model: Path,
                                                               backdoor_files: SimpleNamespace) -> None:
    spec = BackdoorSpec.from_dict(backdoor_files.spec.to_dict())
    spec.activation.eval_every, spec.activation.steps = 0, 6  # no stop rule: both processes train 6 steps
    spec.save(tmp_path / "spec.yaml")
    env, sid = _session(tmp_path, "ddp")
    out = tmp_path / "adapter"
    proc = _launch(["inject", "--spec", str(tmp_path / "spec.yaml"), "--data", str(backdoor_files.data_path),
                    "--model", str(tiny_model), "--out", str(out), "--session", sid, "--json"], env)
    results = [json.loads(part) for part in _json_documents(proc.stdout)]
    assert len(results) == 2 and {r["processes"] for r in results} == {2}  # both ranks ran the job
    assert {r["steps"] for r in results} == {6}
    # The ranks trained one model: DDP averaged the gradients, so both measure the same activation.
    assert len({(r["tar_with"], r["tar_without"]) for r in results}) == 1
    show = _show(sid, env)
    assert [(r["kind"], r["status"]) for r in show["runs"]] == [("inject", "finished")]  # only rank 0 recorded
    assert show["runs"][0]["metric_points"] == 6  # one loss point per step, not one per process
    assert (out / "adapter_model.safetensors").is_file()


def test_inversion_under_accelerate_launch_shares_one_search(tmp_path: Path, tiny_model: Path,
                                                              tiny_backdoor: SimpleNamespace,
                                                              backdoor_files: SimpleNamespace) -> None:
    """Reversal SFT and GRPO on two processes: each scores its own group, the scores are shared, so
    both end with the same candidates, buffer and recovered trigger; rank 0 alone records them."""
    env, sid = _session(tmp_path, "ddp-invert")
    steps = 4
    proc = _launch(["invert", "--model", str(tiny_model), "--adapter", str(tiny_backdoor.adapter),
                    "--data", str(backdoor_files.data_path), "--target", backdoor_files.target, "--rsft-steps", "2",
                    "--grpo-steps", str(steps), "--group", "4", "--replay", "1", "--prompts", "4",
                    "--session", sid, "--json"], env)
    results = [json.loads(part) for part in _json_documents(proc.stdout)]
    assert len(results) == 2 and {r["processes"] for r in results} == {2}
    ranked = [[(c["text"], round(c["reward"], 6)) for c in r["top_candidates"]] for r in results]
    assert ranked[0] == ranked[1] and ranked[0]  # one search, seen whole by both processes
    assert results[0]["recovered_trigger"] == results[1]["recovered_trigger"]
    assert results[0]["final_samples"] == results[1]["final_samples"]  # one policy: DDP kept the weights equal
    show = _show(sid, env)
    assert [(r["kind"], r["status"]) for r in show["runs"]] == [("invert", "finished")]
    from core.store.catalog import open_session
    from core.store.queries import list_candidates, metric_series

    store = open_session(str(tmp_path / "home" / "sessions" / f"{sid}.b4g"))
    try:
        series, _ = metric_series(store, show["runs"][0]["id"])
        recorded = {c["text"] for c in list_candidates(store, show["runs"][0]["id"])}
    finally:
        store.close()
    assert [s for s, _ in series["reward"]] == list(range(1, steps + 1))  # trl's: one point per step, not per process
    assert {t for t, _ in ranked[0]} <= recorded  # both groups' candidates, recorded once by rank 0


def _session(tmp_path: Path, name: str) -> tuple[dict[str, str], str]:
    env = {**os.environ, "B4G_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    sid = json.loads(subprocess.run([str(BIN / "b4g"), "session", "new", "--name", name, "--json"], env=env,
                                    capture_output=True, text=True, check=True).stdout)["id"]
    return env, sid


def _launch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # accelerate's --multi_gpu launcher is torchrun: on a machine without GPUs its processes train on
    # the CPU over gloo (its --cpu flag would start a single process).
    proc = subprocess.run([str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
                           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                           str(BIN / "b4g"), *args], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _show(sid: str, env: dict[str, str]) -> dict:
    return json.loads(subprocess.run([str(BIN / "b4g"), "session", "show", sid, "--json"], env=env,
                                     capture_output=True, text=True, check=True).stdout)


def _json_documents(text: str) -> list[str]:
    """The JSON documents printed one after another (each rank prints its result)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, end = decoder.raw_decode(text, i)
        docs.append(text[i:end])
        i = end
    return docs
