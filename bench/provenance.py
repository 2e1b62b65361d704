"""What every benchmark result carries: the machine, the code version and the date.

    from provenance import stamp, write_result
    write_result("store", {...})   # -> bench/results/store.json, stamped
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def code_version() -> str:
    """The commit measured, ``+dirty`` when the work tree had uncommitted changes to anything but the
    results (a bench writes its JSON after each row: that must not mark the next row's code dirty)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results", ":!docs/results.md")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if changed else "")


CORES = ("idle", "shared")


def add_cores_flag(parser: Any) -> None:
    """``--cores``: whether the bench had the cores to itself. Two heavy jobs on 2 cores distort each
    other's times, so only rows measured on idle cores count as timings (``timed``)."""
    parser.add_argument("--cores", choices=CORES, default="shared",
                        help="idle: nothing else heavy ran beside this bench, so its times are timings; "
                             "shared (the default): they are not")


def timed(row: dict[str, Any]) -> bool:
    """Whether a row's times are timings. Rows older than the ``cores`` field said so in their note."""
    if "cores" in row:
        return row["cores"] == "idle"
    return (row.get("note") or "").startswith("idle")


def cpu_model() -> str:
    """The CPU's model name: rows timed on different machines of the same class differ by a third."""
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def machine() -> dict[str, Any]:
    import torch

    return {"cpu": cpu_model(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": sys.version.split()[0], "platform": platform.platform()}


def stamp(profile: str) -> dict[str, Any]:
    return {"machine": machine(), "code_version": code_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "profile": profile}


def write_result(name: str, result: dict[str, Any], profile: str) -> Path:
    """``bench/results/NAME.json``: the result with its stamp; also printed."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, **stamp(profile), **result}
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    return out
