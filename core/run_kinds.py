"""Every kind of recorded run and the request it was started from: what ``b4g resume`` and the
Sessions page rebuild. Above the audit, which chains the jobs' requests (core.requests holds those)."""

from __future__ import annotations

from typing import Any

from core.audit.request import AuditRequest
from core.audit.stage_jobs import STAGE_REQUESTS
from core.job_request import JobRequest
from core.requests import REQUESTS, request_from_run

RUN_REQUESTS: dict[str, type[JobRequest]] = {**REQUESTS, **STAGE_REQUESTS, AuditRequest.KIND: AuditRequest}


def request_for_run(kind: str, config: dict[str, Any]) -> JobRequest:
    """The request a recorded run of any kind (a job, the audit, an audit stage) was started from."""
    return request_from_run(kind, config, RUN_REQUESTS)
