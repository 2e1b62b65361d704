"""Reads over a session file: runs (with liveness), metric series, candidates, full export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.store.schema import (
    Artifact,
    BackdoorSpecRecord,
    Candidate,
    MetricPoint,
    ModelRecord,
    Note,
    Run,
)
from core.store.run_status import effective_status
from core.store.session_store import SessionStore


def _run_dict(run: Run, points: int) -> dict[str, Any]:
    return {
        "id": run.id, "kind": run.kind, "status": effective_status(run), "seed": run.seed,
        "config": run.config, "versions": run.versions, "result": run.result, "error": run.error,
        "model_id": run.model_id, "spec_id": run.spec_id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "metric_points": points,
    }


def list_runs(store: SessionStore) -> list[dict[str, Any]]:
    with store.reader() as s:
        counts = dict(s.execute(select(MetricPoint.run_id, func.count()).group_by(MetricPoint.run_id)).all())
        runs = s.scalars(select(Run).order_by(Run.id)).all()
        return [_run_dict(r, counts.get(r.id, 0)) for r in runs]


def get_run(store: SessionStore, run_id: int) -> dict[str, Any]:
    """One run as ``list_runs`` shows it; an unknown id is a one-line error."""
    from core.errors import B4GError

    with store.reader() as s:
        run = s.get(Run, int(run_id))
        if run is None:
            raise B4GError(f"no run #{run_id} in session '{store.info().get('name', store.path)}'")
        points = s.scalar(select(func.count()).select_from(MetricPoint).where(MetricPoint.run_id == run.id)) or 0
        return _run_dict(run, points)


def run_states(store: SessionStore) -> tuple[tuple[int, str], ...]:
    """(id, stored status) of every run: two columns, cheap enough to poll from a view."""
    with store.reader() as s:
        return tuple((i, st) for i, st in s.execute(select(Run.id, Run.status).order_by(Run.id)))


def latest_run_id(store: SessionStore, kinds: tuple[str, ...]) -> int | None:
    """The newest run of these kinds (cheap: live views ask it on every poll)."""
    with store.reader() as s:
        return s.scalar(select(func.max(Run.id)).where(Run.kind.in_(kinds)))


def metric_series(store: SessionStore, run_id: int, after_id: int = 0) -> tuple[dict[str, list[tuple[int, float]]], int]:
    """Points of one run newer than ``after_id``, grouped by name; returns (series, last id) so
    a live view can poll incrementally."""
    with store.reader() as s:
        rows = s.execute(
            select(MetricPoint.id, MetricPoint.name, MetricPoint.step, MetricPoint.value)
            .where(MetricPoint.run_id == run_id, MetricPoint.id > after_id)
            .order_by(MetricPoint.id)
        ).all()
    series: dict[str, list[tuple[int, float]]] = {}
    for _id, name, step, value in rows:
        series.setdefault(name, []).append((step, value))
    return series, (rows[-1][0] if rows else after_id)


CANDIDATE_ORDER = ("text", "reward", "r_asr", "length", "first_step", "last_step", "times_replayed", "origin")


def _candidate_json(c: Candidate) -> dict[str, Any]:
    return {"text": c.text, "reward": c.reward, "r_asr": c.r_asr, "parts": c.parts,
            "first_step": c.first_step, "last_step": c.last_step,
            "times_replayed": c.times_replayed, "origin": c.origin}


def _candidate_query(run_id: int, contains: str = ""):  # noqa: ANN202
    q = select(Candidate).where(Candidate.run_id == run_id)
    if contains:
        q = q.where(Candidate.text.contains(contains, autoescape=True))
    return q


def list_candidates(store: SessionStore, run_id: int, limit: int | None = None, offset: int = 0,
                    order: str = "reward", descending: bool = True, contains: str = "") -> list[dict[str, Any]]:
    """One page of a run's candidates, sorted and filtered in SQL (the buffer view pages through
    100 k rows this way without loading them)."""
    if order not in CANDIDATE_ORDER:
        raise ValueError(f"cannot sort candidates by {order!r}")
    key = func.length(Candidate.text) if order == "length" else getattr(Candidate, order)
    with store.reader() as s:
        q = _candidate_query(run_id, contains).order_by(key.desc() if descending else key.asc(), Candidate.id)
        q = q.offset(offset)
        if limit:
            q = q.limit(limit)
        return [_candidate_json(c) for c in s.scalars(q)]


def count_candidates(store: SessionStore, run_id: int, contains: str = "") -> int:
    with store.reader() as s:
        sub = _candidate_query(run_id, contains).subquery()
        return int(s.scalar(select(func.count()).select_from(sub)) or 0)


def _rows(s, model) -> list[dict[str, Any]]:  # noqa: ANN001
    out = []
    for obj in s.scalars(select(model).order_by(model.id)):
        row = {c.name: getattr(obj, c.name) for c in model.__table__.columns}
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
    return out


def export_session(store: SessionStore, with_points: bool = True) -> dict[str, Any]:
    """Everything in the session as plain JSON-able data (the audit trail)."""
    runs = list_runs(store)
    with store.reader() as s:
        data: dict[str, Any] = {
            "session": store.info(),
            "models": _rows(s, ModelRecord),
            "backdoor_specs": _rows(s, BackdoorSpecRecord),
            "artifacts": _rows(s, Artifact),
            "notes": _rows(s, Note),
        }
    for run in runs:
        run["candidates"] = list_candidates(store, run["id"])
        if with_points:
            series, _ = metric_series(store, run["id"])
            run["metrics"] = {k: [list(p) for p in v] for k, v in series.items()}
    data["runs"] = runs
    return data
