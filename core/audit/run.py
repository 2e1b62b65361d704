"""Running an audit: each stage's request through :func:`core.jobs.execute`, into the audit's session.

Every stage run carries ``audit: {run, stage}`` in its recorded config (the request's JSON plus that
tag, which no request reads), so the session tells which runs belong to which audit. Resuming the
audit's own run (``b4g resume AUDIT_RUN``, the Sessions page) finds them again: a finished or
failed stage is reused as recorded, an interrupted or cancelled one is resumed through
``execute(..., resume=RUN)`` from its own checkpoints, with the request rebuilt from its recorded
config; only stages never started are built anew (from the same decisions, on the same results).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from core.audit import stages as st
from core.audit.stages import StageRecord
from core.errors import B4GError, JobCancelled
from core.jobs import Job, JobContext, execute

REPORT_NAME = "audit-report"
REPORT_FORMATS = ("html", "pdf", "json")
DONE = ("finished", "failed")  # a stage recorded with these is not run again on resume


class _Forward:
    """A stage's log lines go on to the audit's listeners; its metric points go to the stage's own
    run only (``execute`` attaches that), never to the audit's. Its progress stays there too: the
    audit's progress counts stages (the job bar read an inversion's "step 4 of 4" as the audit's)."""

    def __init__(self, ctx: JobContext, stage: str) -> None:
        self.ctx, self.stage = ctx, stage

    def on_report(self, step: int, metrics: dict[str, float]) -> None: ...

    def on_progress(self, done: int, total: int | None) -> None: ...

    def on_log(self, message: str) -> None:
        self.ctx.log(f"{self.stage}: {message}")


def _failing(kind: str, error: B4GError) -> Job:
    """A stage whose request could not be built: recorded as a failed run with the one line."""
    def fail(ctx: JobContext) -> None:
        raise error

    return Job(kind, fail, {})


def _seconds(run: dict[str, Any]) -> float | None:
    if not run.get("finished_at"):
        return None
    return round((datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds(), 1)


class Audit:
    """One audit, run (or resumed) as the job of the audit's own run ``run_id`` in ``store``."""

    def __init__(self, request: Any, ctx: JobContext, store: Any, run_id: int, in_child: bool | None) -> None:
        from core.store.queries import list_runs

        self.request, self.ctx, self.store, self.run_id, self.in_child = request, ctx, store, run_id, in_child
        self.stages: list[StageRecord] = []
        self.earlier = {r["config"]["audit"]["stage"]: r for r in list_runs(store)
                        if isinstance(r.get("config"), dict) and (r["config"].get("audit") or {}).get("run") == run_id}

    def stage(self, name: str, kind: str, build: Callable[[], Any]) -> StageRecord:
        """Run one stage (or take its recorded outcome, or resume it); a cancel stops the audit."""
        self.ctx.raise_if_cancelled()
        rec = StageRecord(name, status="started")
        self.stages.append(rec)
        self.ctx.progress(len(self.stages) - 1, self.planned())
        prior = self.earlier.get(name)
        if prior and prior["status"] in DONE:
            self.ctx.log(f"{name}: reusing run #{prior['id']} ({prior['status']})")
            rec.run_id, rec.status, rec.result, rec.error = prior["id"], prior["status"], prior["result"], prior["error"]
            rec.seconds, rec.reused = _seconds(prior), True
            return rec
        self.ctx.log(f"{name}: {'resuming run #%d' % prior['id'] if prior else 'starting'}")
        job = self._job(kind, build, prior)
        job.config = {**job.config, "audit": {"run": self.run_id, "stage": name}}  # a new dict: the recipe's is its own
        sub = JobContext([_Forward(self.ctx, name)], cancelled=self.ctx.cancelled, processes=self.ctx.processes)
        start = time.perf_counter()
        outcome = execute(job, sub, self.store, resume=prior["id"] if prior else None)
        rec.run_id, rec.status, rec.result, rec.error = outcome.run_id, outcome.status, outcome.result, outcome.error
        rec.seconds = round(time.perf_counter() - start, 1)
        if outcome.status == "cancelled":
            raise JobCancelled()
        if outcome.status == "failed":
            self.ctx.log(f"{name} failed: {outcome.error}")
        return rec

    def planned(self) -> int:
        """How many stages this audit runs (the report included): the removal's count is a guess
        until the inversion decides, so never fewer than have started."""
        from core.audit.estimate import planned

        req, names = self.request, {s.name for s in self.stages}
        removal = (st.REMOVAL,) if st.REMOVAL in names else (st.UNLEARNING, st.GUARDRAIL)
        return max(len(planned(bool(req.data), req.behaviour is not None, removal)), len(self.stages) + 1)

    def _job(self, kind: str, build: Callable[[], Any], prior: dict[str, Any] | None) -> Job:
        from core.audit.stage_jobs import STAGE_REQUESTS
        from core.requests import REQUESTS, request_from_run

        try:
            request = request_from_run(prior["kind"], prior["config"], {**REQUESTS, **STAGE_REQUESTS}) if prior else build()
        except B4GError as exc:
            return _failing(kind, exc)
        except Exception as exc:  # noqa: BLE001 - as execute() words a crash: the audit goes on
            return _failing(kind, B4GError(f"{type(exc).__name__}: {exc}".splitlines()[0]))
        return request.job(in_child=self.in_child)

    def recorded(self, run_id: int) -> dict[str, Any]:
        from core.store.queries import get_run

        return get_run(self.store, run_id)

    def given(self, name: str, status: str) -> StageRecord:
        rec = StageRecord(name, status=status, seconds=0.0)
        self.stages.append(rec)
        return rec


def run_audit(request: Any, ctx: JobContext, in_child: bool | None = None) -> dict[str, Any]:
    """The audit job: its stages, then its reports. Needs the session it is recorded in
    (``ctx.recorder``, set by :func:`core.jobs.execute`): every stage is a run there."""
    from core.audit.flow import audit_stages
    from core.audit.summary import summarise

    store, run_id = getattr(ctx, "recorder", None), getattr(ctx, "run_id", None)
    if store is None or run_id is None:
        raise B4GError("an audit records each stage as a run: execute it into a session")
    audit = Audit(request, ctx, store, run_id, in_child)
    Path(request.out).mkdir(parents=True, exist_ok=True)
    facts = audit_stages(audit)
    result = write_reports(audit, summarise(request, audit.stages, facts))
    return worded(result)


def worded(result: dict[str, Any]) -> dict[str, Any]:
    """The result with its sections stored in it: core.sections, below the audit, shows stored
    sections as they are (the CLI, the Audit page and the report word an audit the same)."""
    from core.audit.sections import audit_sections

    result["sections"] = []
    result["sections"] = [s.to_json() for s in audit_sections(result)]
    return result


def write_reports(audit: Audit, result: dict[str, Any]) -> dict[str, Any]:
    """The report stage: HTML, PDF and JSON of the whole session into the audit's folder, each
    signed when a key was given. The audit's run is recorded finished first (with everything but
    the report's paths), so the report reads the audit's verdict and stage table, not a run still
    going; the final record follows when the job returns."""
    from core.report.export import export_report

    request, ctx = audit.request, audit.ctx
    ctx.raise_if_cancelled()
    rec = StageRecord(st.REPORT, status="writing")  # what the report itself shows for this stage
    audit.stages.append(rec)
    ctx.progress(len(audit.stages) - 1, len(audit.stages))
    ctx.log("report: writing HTML, PDF and JSON")
    start = time.perf_counter()
    result["stages"] = [s.to_json() for s in audit.stages]
    audit.store.finish_run(audit.run_id, "finished", result=worded(result))
    written: dict[str, Any] = {}
    try:
        for fmt in REPORT_FORMATS:
            out = export_report(audit.store, fmt, Path(request.out) / f"{REPORT_NAME}.{fmt}", force=True,
                                sign_key=Path(request.sign) if request.sign else None)
            written[fmt] = out["path"]
            if out["signature"]:
                written[f"{fmt}_signature"] = out["signature"]
        rec.status = "finished"
    except B4GError as exc:
        rec.status, rec.error = "failed", str(exc)
    rec.seconds = round(time.perf_counter() - start, 1)
    result["report"] = written or None
    result["stages"] = [s.to_json() for s in audit.stages]
    result["failed"] = [s.name for s in audit.stages if s.status == "failed"]
    return result


def audit_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The recipe (``AuditRequest.RECIPE``): the audit from its JSON; its stages run in process unless
    the request's ``job()`` said otherwise (a resumed audit from the CLI runs them in process)."""
    from core.audit.request import STAGES_IN_CHILD, AuditRequest

    config = dict(config)
    in_child = config.pop(STAGES_IN_CHILD, False)
    return run_audit(AuditRequest.from_json(config), ctx, in_child=in_child)
