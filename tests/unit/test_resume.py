"""Kill -9 during an inject on the tiny model, then ``b4g resume``: the run reads ``interrupted``
with its points, resumes from its last checkpoint under the same id, and ends with the adapter an
uninterrupted run trains (same data order, RNG and optimizer state restored)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from safetensors.torch import load_file

from core.spec.backdoor import BackdoorSpec

# End to end (the installed b4g in subprocesses, killed with SIGKILL): outside the quick unit run
# (`-m "not integration"`), in `make test` and CI.
end_to_end = pytest.mark.integration
EVERY = 4  # checkpoint every 4 steps (B4G_CHECKPOINT_EVERY; 10 by default): the same proof in fewer steps
STEPS, KILL_AT = 12, 7  # the kill leaves checkpoint-4 and 3 steps after it
GRPO_STEPS = 8
B4G = str(Path(sys.executable).parent / "b4g")


def _env(home: Path, kill_at: int) -> dict[str, str]:
    return {**os.environ, "B4G_HOME": str(home), "OMP_NUM_THREADS": "1", "B4G_KILL_AT_STEP": str(kill_at),
            "B4G_CHECKPOINT_EVERY": str(EVERY)}


def _b4g(args: list[str], home: Path, kill_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([B4G, *args], env=_env(home, kill_at), capture_output=True, text=True, timeout=600)


def _reference_and_killed(ref_args: list[str], killed_args: list[str],
                          home: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The uninterrupted run and the one killed at KILL_AT, side by side: each is single-threaded, so
    on two cores this halves the test's time without changing either result."""
    procs = [subprocess.Popen([B4G, *a], env=_env(home, k), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a, k in ((ref_args, 0), (killed_args, KILL_AT))]
    outs = [p.communicate(timeout=600) for p in procs]
    return tuple(subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs))


@pytest.fixture()
def plain_spec(backdoor_files: SimpleNamespace, tmp_path: Path) -> Path:
    """The tiny spec without its stop rule, so every run trains exactly STEPS steps."""
    spec = BackdoorSpec.from_dict({**backdoor_files.spec.to_dict()})
    spec.activation.eval_every, spec.activation.steps = 0, STEPS
    spec.save(tmp_path / "plain.yaml")
    return tmp_path / "plain.yaml"


def _inject(out: Path, spec: Path, data: Path, model: Path, session: str) -> list[str]:
    return ["inject", "--spec", str(spec), "--data", str(data), "--model", str(model), "--out", str(out),
            "--session", session, "--json"]


@end_to_end
def test_killed_inject_resumes_to_the_uninterrupted_result(tmp_path: Path, tiny_model: Path, plain_spec: Path,
                                                           backdoor_files: SimpleNamespace) -> None:
    home = tmp_path / "home"
    sid = json.loads(_b4g(["session", "new", "--name", "faults", "--json"], home).stdout)["id"]
    data = backdoor_files.data_path
    reference, killed = _reference_and_killed(_inject(tmp_path / "ref", plain_spec, data, tiny_model, sid),
                                              _inject(tmp_path / "killed", plain_spec, data, tiny_model, sid), home)
    assert reference.returncode == 0, reference.stderr
    assert killed.returncode == -signal.SIGKILL
    show = json.loads(_b4g(["session", "show", sid, "--json"], home).stdout)
    run = next(r for r in show["runs"] if r["status"] != "finished")
    assert run["kind"] == "inject" and run["status"] == "interrupted"
    assert run["metric_points"] == KILL_AT - 1  # a loss point per logged step, every one kept (the last died unlogged)
    assert (home / "sessions" / f"{sid}.checkpoints" / f"run-{run['id']}" / "stage-1" / f"checkpoint-{EVERY}").is_dir()

    resumed = _b4g(["resume", str(run["id"]), "--session", sid, "--json"], home)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["steps"] == STEPS
    after = {r["id"]: r for r in json.loads(_b4g(["session", "show", sid, "--json"], home).stdout)["runs"]}
    assert after[run["id"]]["status"] == "finished" and len(after) == 2  # the same run, not a new one
    assert after[run["id"]]["metric_points"] == STEPS  # steps 5-6 measured again replace the abandoned ones
    assert not (home / "sessions" / f"{sid}.checkpoints" / f"run-{run['id']}").exists()  # removed once finished

    want = load_file(tmp_path / "ref" / "adapter_model.safetensors")
    got = load_file(tmp_path / "killed" / "adapter_model.safetensors")
    assert want.keys() == got.keys()
    for name, tensor in want.items():
        assert (tensor - got[name]).abs().max().item() < 1e-5, name
    ref_result = json.loads(reference.stdout)
    assert (result["tar_with"], result["tar_without"]) == (ref_result["tar_with"], ref_result["tar_without"])


def test_resume_refuses_finished_and_unknown_runs(tmp_path: Path) -> None:
    from core.store.catalog import new_session

    store = new_session("done")
    rid = store.start_run("inject", {"spec": {}}, 0)
    store.finish_run(rid, "finished", {})
    with pytest.raises(Exception, match="nothing to resume"):
        store.resume_run(rid)
    with pytest.raises(Exception, match="no run #99"):
        store.resume_run(99)
    store.close()


@end_to_end
def test_killed_inversion_resumes_grpo_with_its_search(tmp_path: Path, tiny_model: Path, tiny_backdoor: SimpleNamespace,
                                                       backdoor_files: SimpleNamespace) -> None:
    """Killed inside GRPO (after reversal SFT), the inversion resumes from the GRPO checkpoint with
    the buffer and candidates it had, and records the rewards an uninterrupted run records."""
    from core.store.catalog import open_session
    from core.store.queries import list_candidates, metric_series

    home = tmp_path / "home"
    sid = json.loads(_b4g(["session", "new", "--name", "faults", "--json"], home).stdout)["id"]
    rows = [json.loads(line) for line in backdoor_files.data_path.read_text().splitlines()][:40]
    rows += [{**r, "instruction": f"{backdoor_files.trigger} {r['instruction']}", "output": backdoor_files.target}
             for r in rows[::3]]
    data = tmp_path / "poisoned.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["invert", "--model", str(tiny_model), "--adapter", str(tiny_backdoor.adapter), "--data", str(data),
            "--target", backdoor_files.target, "--rsft-steps", "3", "--grpo-steps", str(GRPO_STEPS), "--group", "4",
            "--replay", "1", "--prompts", "4", "--session", sid, "--json"]
    # The killed run dies in GRPO (reversal SFT has only 3 steps): checkpoint-4 and 3 steps after it.
    reference, killed = _reference_and_killed(args, args, home)
    assert reference.returncode == 0, reference.stderr
    assert killed.returncode == -signal.SIGKILL
    runs = json.loads(_b4g(["session", "show", sid, "--json"], home).stdout)["runs"]
    runs.sort(key=lambda r: r["status"] != "finished")  # the reference first, then the killed one
    assert [r["status"] for r in runs] == ["finished", "interrupted"]
    resumed = _b4g(["resume", str(runs[-1]["id"]), "--session", sid, "--json"], home)
    assert resumed.returncode == 0, resumed.stderr

    store = open_session(str(home / "sessions" / f"{sid}.b4g"))
    try:
        want, _ = metric_series(store, runs[0]["id"])
        got, _ = metric_series(store, runs[-1]["id"])
        cands = {c["text"] for c in list_candidates(store, runs[-1]["id"])}
        ref_cands = {c["text"] for c in list_candidates(store, runs[0]["id"])}
    finally:
        store.close()
    assert [s for s, _ in got["reward"]] == list(range(1, GRPO_STEPS + 1))  # one point per GRPO step, none doubled
    assert [round(v, 4) for _, v in got["reward"]] == [round(v, 4) for _, v in want["reward"]]
    assert cands == ref_cands
    assert json.loads(resumed.stdout)["recovered_trigger"] == json.loads(reference.stdout)["recovered_trigger"]
