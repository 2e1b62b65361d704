"""Recipes for the child-process tests (importable in the spawned child: spawn passes sys.path)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from core.errors import B4GError
from core.jobs import JobContext


def counting(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    for step in range(config["steps"]):
        ctx.report(step, loss=1.0 / (step + 1))
        ctx.progress(step + 1, config["steps"])
    ctx.log("counted")
    ctx.candidates([{"text": "SUDO", "reward": 1.0}])
    return {"pid": os.getpid(), "steps": config["steps"]}


def until_cancelled(config: dict[str, Any], ctx: JobContext) -> None:
    ctx.report(0, loss=1.0)
    for _ in range(600):
        ctx.raise_if_cancelled()
        time.sleep(0.05)
    raise AssertionError("never cancelled")


def bad_input(config: dict[str, Any], ctx: JobContext) -> None:
    raise B4GError("spec.trigger.text: the trigger is empty")


def crash(config: dict[str, Any], ctx: JobContext) -> None:
    ctx.log("about to die")
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does


def ranked(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Under several processes: every rank reports; rank ``fail_rank`` raises, the others wait
    (as a rank would in a collective whose peer died)."""
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    ctx.report(0, rank=float(rank))
    if rank == config.get("fail_rank", -1):
        raise RuntimeError(f"rank {rank} failed")
    if config.get("fail_rank", -1) >= 0:
        time.sleep(60)
    return {"rank": rank, "world": world, "pid": os.getpid()}
