"""The two audit stages no other command records as a run: the model's fingerprint and the data scan.

Each is a typed request like every job's (:mod:`core.requests`), so the audit runs it through
:func:`core.jobs.execute` and the session holds it as its own run; ``b4g models info`` and
``b4g scan-data`` print the same figures without recording them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.job_request import JobRequest, need_fields
from core.jobs import JobContext
from core.models.choice import ModelChoice


@dataclass
class ModelCheckRequest(JobRequest):
    """Load the model under audit and fingerprint it: weights' and adapters' sha256, the chat
    template, the measured footprint."""

    KIND: ClassVar[str] = "model-check"
    RECIPE: ClassVar[str] = "core.audit.stage_jobs:model_check_job"
    TRAINS: ClassVar[bool] = True  # loads the model: a child process from the window

    def fields_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelCheckRequest":
        return cls(ModelChoice.from_json(data))


@dataclass
class DataScanRequest(JobRequest):
    """Rank the data's request spans enriched in rows whose answer shows ``behaviour``."""

    KIND: ClassVar[str] = "scan-data"
    RECIPE: ClassVar[str] = "core.audit.stage_jobs:data_scan_job"

    data: str = ""
    behaviour: Any = None
    top: int = 10

    def fields_json(self) -> dict[str, Any]:
        return {"data": self.data, "behaviour": self.behaviour.to_json(), "top": self.top}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DataScanRequest":
        from core.measurement.behaviour import Behaviour

        need_fields(data, cls.KIND, "data", "behaviour")
        return cls(ModelChoice.from_json(data), data["data"], Behaviour(**data["behaviour"]), int(data.get("top") or 10))


def model_check_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.models.chat import template_record
    from core.models.fingerprint import files_sha256
    from core.recipes import load_for

    loaded = load_for(config, ctx)
    ctx.log("hashing the weights and adapters")
    return {"load": loaded.to_json(), "source": loaded.ref.describe(), "kind": loaded.ref.kind,
            "weights_sha256": files_sha256(loaded.weight_files) if loaded.weight_files else None,
            "adapters": [{"path": path, "sha256": files_sha256(files)} for path, files in loaded.adapter_files.items()],
            "template": template_record(loaded.tokenizer),
            "footprint_bytes": loaded.footprint_bytes, "parameters": loaded.parameters}


def data_scan_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.measurement.data_scan import scan

    req = DataScanRequest.from_json(config)
    rows = load_rows(Path(req.data))
    result = scan([(r.prompt, r.answer) for r in rows if r.answer], req.behaviour.judge(), req.top)
    ctx.log(f"data scan: {result.summary()}")
    return {"top": result.top, "candidates": result.candidates, "behaviour_rows": result.behaviour_rows,
            "other_rows": result.other_rows, "rows": len(rows), "seconds": round(result.seconds, 4),
            "summary": result.summary()}


# The audit's own stages, beside every job's requests, for resuming them (core.run_kinds).
STAGE_REQUESTS: dict[str, type[JobRequest]] = {r.KIND: r for r in (ModelCheckRequest, DataScanRequest)}
