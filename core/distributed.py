"""Data-parallel runs under ``accelerate launch`` (or ``torchrun``): which process records.

The launcher starts N copies of the same ``b4g`` command and sets ``RANK`` / ``WORLD_SIZE`` for each;
transformers' Trainer (under trl) then wraps the model in DDP, so every process trains the one shared
model on its share of each batch. Everything else the job does is written by the main process only: the
run in the audit session, the adapter folder, the report files. Reading the launcher's environment
(rather than asking accelerate) keeps this free of a process-group setup the Trainer does itself.
"""

from __future__ import annotations

import os
import shutil
from typing import Any


def world_size() -> int:
    """How many processes train this job (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE") or 1)


def is_main_process() -> bool:
    """The process that records the run and writes files (rank 0; the only one without a launcher)."""
    return int(os.environ.get("RANK") or 0) == 0


def share(items: list[Any]) -> list[Any]:
    """Every process's ``items``, concatenated in rank order, on every process (one process: the
    items). Called inside a training step, when the Trainer has set up the process group."""
    if world_size() == 1:
        return list(items)
    from accelerate.utils import gather_object

    return list(gather_object(list(items)))


def gpu_count() -> int:
    """CUDA GPUs on this machine (0 without an NVIDIA driver, found without importing torch)."""
    if shutil.which("nvidia-smi") is None and not os.environ.get("CUDA_VISIBLE_DEVICES"):
        return 0
    import torch

    return torch.cuda.device_count()


def bind_local_gpu() -> None:
    """Under a launcher, make ``cuda`` mean this process's own GPU (``LOCAL_RANK``), as the Trainer
    assumes: the model loads there and every measurement sends its inputs there."""
    if world_size() > 1 and os.environ.get("LOCAL_RANK"):
        import torch

        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
