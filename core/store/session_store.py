"""One audit session file: every write is one short-lived SQLAlchemy session (thread-safe)."""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import B4GError
from core.jobs import Reporter
from core.store.database import open_engine, storage_error
from core.store.run_status import effective_status
from core.store.schema import (
    RUN_STATUSES,
    Artifact,
    AuditSession,
    BackdoorSpecRecord,
    Candidate,
    MetricPoint,
    ModelRecord,
    Note,
    Run,
    utcnow,
)
from core.versions import library_versions

SESSION_SUFFIX = ".b4g"


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def _json_result(result: Any) -> dict[str, Any] | None:
    """Keep what a job returned only when it is (or can describe itself as) JSON."""
    if hasattr(result, "to_json"):
        return result.to_json()
    return result if isinstance(result, dict) else None


class SessionStore:
    """An audit session kept in one SQLite file (WAL), migrated with Alembic on open."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise B4GError(f"no session file at {self.path}")
        if not self.path.is_file() or self.path.stat().st_size == 0:
            # SQLite would quietly turn an empty file into a database: opening must not write
            raise B4GError(f"{self.path} is not a session file ({'empty' if self.path.is_file() else 'not a file'})")
        self.engine = open_engine(self.path)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        with self._factory() as s:
            row = s.scalars(select(AuditSession)).first()
        if row is None:
            self.engine.dispose()
            raise B4GError(f"{self.path} holds no audit session")
        self.session_id: str = row.id
        self._resumed: set[int] = set()  # runs this store took up again (resume_run)

    @classmethod
    def create(cls, path: Path, name: str, description: str = "",
               session_id: str | None = None) -> "SessionStore":
        """Make a new session file holding one audit session called ``name``."""
        path = Path(path)
        if path.exists():
            raise B4GError(f"{path} already exists; choose another name")
        if not name.strip():
            raise B4GError("a session needs a non-empty name")
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = open_engine(path)
        with sessionmaker(engine)() as s, s.begin():
            s.add(AuditSession(id=session_id or new_session_id(), name=name.strip(), description=description))
        engine.dispose()
        return cls(path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A short-lived ORM session committed on exit (rolled back on error); a write SQLite
        refuses (read-only file, full disk, a lock held too long) is one line naming the file."""
        try:
            with self._factory() as s, s.begin():
                yield s
        except DatabaseError as exc:
            raise storage_error(self.path, exc, "could not be written") from None

    def reader(self) -> Session:
        """A short-lived ORM session for reads; use as a context manager."""
        return self._factory()

    def close(self) -> None:
        self.engine.dispose()

    # --- the session itself -------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        with self.reader() as s:
            row = s.get(AuditSession, self.session_id)
            return {"id": row.id, "name": row.name, "description": row.description,
                    "created_at": row.created_at.isoformat(), "path": str(self.path)}

    def rename(self, name: str) -> None:
        with self.transaction() as s:
            s.get(AuditSession, self.session_id).name = name

    def save_as(self, path: Path, name: str | None = None) -> "SessionStore":
        """Copy the whole session (SQLite backup API, consistent under WAL) to a new file."""
        path = Path(path)
        if path.exists():
            raise B4GError(f"{path} already exists; choose another file")
        src = sqlite3.connect(self.path)
        dst = sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        copy = SessionStore(path)
        if name:
            copy.rename(name)
        return copy

    # --- records ------------------------------------------------------------------------------
    def add_model_record(self, source: str, kind: str, weights_sha256: str | None,
                         adapters: list[dict[str, Any]], config: dict[str, Any]) -> int:
        with self.transaction() as s:
            rec = ModelRecord(session_id=self.session_id, source=source, kind=kind,
                              weights_sha256=weights_sha256, adapters=adapters, config=config)
            s.add(rec)
            s.flush()
            return rec.id

    def add_artifact(self, kind: str, path: str, sha256: str | None = None,
                     run_id: int | None = None) -> int:
        with self.transaction() as s:
            rec = Artifact(session_id=self.session_id, run_id=run_id, kind=kind, path=path, sha256=sha256)
            s.add(rec)
            s.flush()
            return rec.id

    def add_note(self, text: str, run_id: int | None = None) -> int:
        with self.transaction() as s:
            rec = Note(session_id=self.session_id, run_id=run_id, text=text)
            s.add(rec)
            s.flush()
            return rec.id

    # --- runs (the RunRecorder protocol of core.jobs) -----------------------------------------
    def start_run(self, kind: str, config: dict[str, Any], seed: int | None = None,
                  model_id: int | None = None, spec_id: int | None = None) -> int:
        with self.transaction() as s:
            run = Run(session_id=self.session_id, kind=kind, config=config, seed=seed,
                      versions=library_versions(), model_id=model_id, spec_id=spec_id,
                      host=socket.gethostname(), pid=os.getpid())
            s.add(run)
            s.flush()
            return run.id

    def resume_run(self, run_id: int) -> int:
        """Take up a run that did not finish (interrupted, cancelled or failed) in this process:
        it reads ``started`` again, keeps every point and candidate it recorded, and the points
        its resumed training measures again replace the ones from the abandoned attempt."""
        with self.transaction() as s:
            run = s.get(Run, int(run_id))
            if run is None:
                raise B4GError(f"no run #{run_id} in session '{self.info()['name']}'")
            state = effective_status(run)
            if state == "finished":
                raise B4GError(f"run #{run_id} finished; there is nothing to resume")
            if state == "started":
                raise B4GError(f"run #{run_id} is still running (process {run.pid} on {run.host})")
            run.status, run.error, run.finished_at = "started", None, None
            run.host, run.pid, run.heartbeat_at = socket.gethostname(), os.getpid(), utcnow()
        self._resumed.add(int(run_id))
        self.add_note(f"resumed after it was {state}", run_id=int(run_id))
        return int(run_id)

    def checkpoint_dir(self, run_id: int) -> Path:
        """Where a run's training keeps its resumable checkpoints: beside the session file."""
        return self.path.with_name(f"{self.path.stem}.checkpoints") / f"run-{run_id}"

    def finish_run(self, run_id: int, status: str, result: Any = None, error: str | None = None) -> None:
        if status not in RUN_STATUSES or status == "started":
            raise ValueError(f"not a final run status: {status}")
        with self.transaction() as s:
            run = s.get(Run, run_id)
            run.status, run.error, run.finished_at = status, error, utcnow()
            run.result = _json_result(result)
            if status == "finished" and isinstance(result, dict):
                self._record_made(s, run, result.get("made") or [])

    def _record_made(self, s: Session, run: Run, made: list[dict[str, Any]]) -> None:
        """What the job says it made (``made`` in its result): specs and hashed files, tied to the
        run, so a CLI run and a window run leave the same rows for a report to read."""
        for item in made:
            if item.get("kind") == "spec":
                spec = BackdoorSpecRecord(session_id=self.session_id, name=item["name"], spec=item["spec"])
                s.add(spec)
                s.flush()
                run.spec_id = spec.id
            else:
                s.add(Artifact(session_id=self.session_id, run_id=run.id, kind=item["kind"], path=item["path"],
                               sha256=item.get("sha256")))

    def add_metrics(self, run_id: int, step: int, metrics: dict[str, float]) -> None:
        now = utcnow()
        with self.transaction() as s:
            if run_id in self._resumed:  # a resumed run measures these steps again: one point per step
                s.execute(delete(MetricPoint).where(MetricPoint.run_id == run_id, MetricPoint.step == step,
                                                    MetricPoint.name.in_(list(metrics))))
            s.add_all(MetricPoint(run_id=run_id, step=step, name=k, value=v, wall_time=now)
                      for k, v in metrics.items())
            s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=now))

    def metric_reporter(self, run_id: int) -> Reporter:
        return StoreReporter(self, run_id)

    def upsert_candidates(self, run_id: int, rows: Iterable[dict[str, Any]]) -> None:
        """Insert new candidates or update known ones (last step, best reward, replays)."""
        with self.transaction() as s:
            for row in rows:
                known = s.scalars(select(Candidate).where(
                    Candidate.run_id == run_id, Candidate.text == row["text"])).first()
                if known is None:
                    s.add(Candidate(run_id=run_id, **row))
                    s.flush()
                    continue
                known.last_step = max(known.last_step, row.get("last_step", known.last_step))
                known.times_replayed += row.get("times_replayed", 0)
                if row.get("reward", known.reward) > known.reward:
                    known.reward, known.r_asr = row["reward"], row.get("r_asr", known.r_asr)
                    known.parts = row.get("parts", known.parts)


class StoreReporter:
    """Job reporter that writes every ``report`` call as metric points of one run."""

    def __init__(self, store: SessionStore, run_id: int) -> None:
        self.store, self.run_id = store, run_id

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.store.add_metrics(self.run_id, step, metrics)

    def on_progress(self, done: int, total: int | None) -> None:
        pass  # progress is transient; the heartbeat moves with metric writes

    def on_log(self, message: str) -> None:
        pass  # logs go to the console / log pane; the store keeps results and metrics

    def on_candidates(self, rows: list[dict[str, Any]]) -> None:
        self.store.upsert_candidates(self.run_id, rows)
