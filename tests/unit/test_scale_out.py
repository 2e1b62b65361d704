"""Data parallel under ``accelerate launch``: two CPU processes (gloo) train one shared model, and
only the main process writes: one run in the session, one adapter folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.backdoors.spec import BackdoorSpec

# End to end (accelerate launch of the installed b4g, two processes): outside the quick unit run
# (`-m "not integration"`), in `make test` and CI.
pytestmark = pytest.mark.integration


def test_inject_under_accelerate_launch_with_two_cpu_processes(tmp_path: Path, tiny_model: Path,
                                                               backdoor_files: SimpleNamespace) -> None:
    bin_dir = Path(sys.executable).parent
    spec = BackdoorSpec.from_dict(backdoor_files.spec.to_dict())
    spec.activation.eval_every, spec.activation.steps = 0, 6  # no stop rule: both processes train 6 steps
    spec.save(tmp_path / "spec.yaml")
    home = tmp_path / "home"
    env = {**os.environ, "B4G_HOME": str(home), "OMP_NUM_THREADS": "1"}
    sid = json.loads(subprocess.run([str(bin_dir / "b4g"), "session", "new", "--name", "ddp", "--json"], env=env,
                                    capture_output=True, text=True, check=True).stdout)["id"]
    out = tmp_path / "adapter"
    # accelerate's --multi_gpu launcher is torchrun: on a machine without GPUs its processes train on
    # the CPU over gloo (its --cpu flag would start a single process).
    proc = subprocess.run(
        [str(bin_dir / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", str(bin_dir / "b4g"), "inject",
         "--spec", str(tmp_path / "spec.yaml"), "--data", str(backdoor_files.data_path), "--model", str(tiny_model),
         "--out", str(out), "--session", sid, "--json"],
        env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(part) for part in _json_documents(proc.stdout)]
    assert len(results) == 2 and {r["processes"] for r in results} == {2}  # both ranks ran the job
    assert {r["steps"] for r in results} == {6}
    # The ranks trained one model: DDP averaged the gradients, so both measure the same activation.
    assert len({(r["tar_with"], r["tar_without"]) for r in results}) == 1
    show = json.loads(subprocess.run([str(bin_dir / "b4g"), "session", "show", sid, "--json"], env=env,
                                     capture_output=True, text=True, check=True).stdout)
    assert [(r["kind"], r["status"]) for r in show["runs"]] == [("inject", "finished")]  # only rank 0 recorded
    assert show["runs"][0]["metric_points"] == 6  # one loss point per step, not one per process
    assert (out / "adapter_model.safetensors").is_file()


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
