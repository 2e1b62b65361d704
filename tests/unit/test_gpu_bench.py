"""bench/gpu.py, the GPU workstation bench, runs end to end on CPU in its smoke profile on the tiny
model (the figures mean nothing; the script, its commands and its JSON are what is tested)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_bench_runs_on_cpu_in_its_smoke_profile(tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu.py"), "--device", "cpu", "--smoke",
                           "--organisms", "sudo", "--apps", "identity", "--model", str(tiny_model), "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["smoke"] and result["environment"]["device"] == "cpu"
    assert [row["quantization"] for row in result["loads"]] == ["none", "8bit", "4bit"]
    assert all("error" not in row and row["parameters"] > 0 for row in result["loads"]), result["loads"]
    run = result["seeded_runs"][0]
    assert run["organism"] == "sudo" and "error" not in run, run
    assert run["scoring"]["device"] == "cpu" and run["scoring"]["dtype"]
    assert run["build"]["steps"] == 2 and isinstance(run["exact"], bool)
    assert "error" not in result["apps"][0] and result["apps"][0]["steps"] == 2
