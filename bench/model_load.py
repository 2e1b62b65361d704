"""Benchmark: how long the embedded model takes to load, per quantization, from a cold start.

Each measurement is a fresh ``b4g models info`` process, so imports are cold as in a real start
(the OS file cache stays warm, as it would for a user who loads the model twice). The GGUF →
safetensors conversion, paid once per machine, is timed separately into an empty cache.

    .venv/bin/python bench/model_load.py [--repeat N]

Prints JSON and writes it to bench/results/model_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "model_load.json"
QUANTIZATIONS = ("none", "8bit", "4bit")

# Times only the conversion: the imports it needs happen before the clock starts.
CONVERT = """
import json, time
import torch, transformers
from core.models.gguf_cache import embedded_gguf, ensure_converted, is_converted
gguf = embedded_gguf()
assert not is_converted(gguf), "the cache is not empty"
start = time.perf_counter()
folder = ensure_converted(gguf)
print(json.dumps({"convert_seconds": time.perf_counter() - start, "folder": str(folder)}))
"""


def b4g() -> list[str]:
    """The installed console script when there is one, as a user would run it."""
    script = Path(sys.executable).parent / "b4g"
    return [str(script)] if script.exists() else [sys.executable, "-m", "core.cli"]


def run_json(argv: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run a command that prints JSON on stdout; return it and the command's wall time."""
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout), wall


def measure_load(quantization: str, repeat: int, env: dict[str, str]) -> dict[str, Any]:
    runs = [run_json(b4g() + ["models", "info", "--model", "embedded", "--quantization", quantization,
                              "--json"], env) for _ in range(repeat)]
    info = runs[-1][0]
    return {
        "quantization": quantization, "device": info["device"], "dtype": info["dtype"],
        "parameters": info["parameters"],
        "load_seconds": statistics.median(r[0]["load_seconds"] for r in runs),
        "command_wall_seconds": round(statistics.median(r[1] for r in runs), 3),
        "load_seconds_all": [r[0]["load_seconds"] for r in runs],
        "command_wall_seconds_all": [round(r[1], 3) for r in runs],
        "estimated_bytes": info["estimated_bytes"], "footprint_bytes": info["footprint_bytes"],
        "estimate_error": round(info["estimated_bytes"] / info["footprint_bytes"] - 1, 4),
    }


def measure_conversion(env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="b4g-bench-cache-") as cache:
        out, wall = run_json([sys.executable, "-c", CONVERT], {**env, "B4G_CACHE": cache})
    return {"convert_seconds": round(out["convert_seconds"], 3), "process_wall_seconds": round(wall, 3)}


def environment() -> dict[str, Any]:
    import torch
    import transformers

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "transformers": transformers.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold processes per quantization (median kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="b4g-bench-home-") as home:
        # Sessions go to a throwaway home; the converted model stays in the normal cache.
        from core.paths import cache_dir

        env = {**os.environ, "B4G_HOME": home, "B4G_CACHE": str(cache_dir()), "HF_HUB_OFFLINE": "1"}
        prepared, prepare_wall = run_json(b4g() + ["models", "prepare", "--json"], env)  # load ≠ convert
        result = {"model": "embedded SmolLM2-135M-Instruct (Q4_1 GGUF)",
                  "repeat": args.repeat, "environment": environment(),
                  "loads": [measure_load(q, args.repeat, env) for q in QUANTIZATIONS],
                  "gguf_conversion_cold": measure_conversion(env),
                  "warm_up": {"converted_now": prepared["converted_now"], "wall_seconds": round(prepare_wall, 3)}}
    from provenance import write_result

    write_result("model_load", result, "quick" if args.repeat == 1 else "full")


if __name__ == "__main__":
    main()
