"""SQLAlchemy 2 models of an audit session (one SQLite file per session).

The Alembic migrations in ``core/store/migrations`` create exactly these tables; a test compares
the two so they cannot drift.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


RUN_STATUSES = ("started", "finished", "failed", "cancelled", "interrupted")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class AuditSession(Base):
    __tablename__ = "audit_session"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelRecord(Base):
    __tablename__ = "model_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("audit_session.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    weights_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    adapters: Mapped[list[Any]] = mapped_column(default=list)  # [{path, sha256}]
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackdoorSpecRecord(Base):
    __tablename__ = "backdoor_spec"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("audit_session.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Run(Base):
    __tablename__ = "run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("audit_session.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="started")
    seed: Mapped[Optional[int]]
    versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[Optional[dict[str, Any]]]
    error: Mapped[Optional[str]] = mapped_column(Text)
    model_id: Mapped[Optional[int]] = mapped_column(ForeignKey("model_record.id", ondelete="SET NULL"))
    spec_id: Mapped[Optional[int]] = mapped_column(ForeignKey("backdoor_spec.id", ondelete="SET NULL"))
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[Optional[int]]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[Optional[datetime]]


class MetricPoint(Base):
    __tablename__ = "metric_point"
    __table_args__ = (Index("ix_metric_run_name_step", "run_id", "name", "step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    step: Mapped[int]
    name: Mapped[str] = mapped_column(String(80))
    value: Mapped[float] = mapped_column(Float)
    wall_time: Mapped[datetime] = mapped_column(default=utcnow)


class Candidate(Base):
    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("run_id", "text", name="uq_candidate_run_text"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    reward: Mapped[float] = mapped_column(Float, default=0.0)
    r_asr: Mapped[float] = mapped_column(Float, default=0.0)
    parts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # every reward component
    first_step: Mapped[int] = mapped_column(default=0)
    last_step: Mapped[int] = mapped_column(default=0)
    times_replayed: Mapped[int] = mapped_column(default=0)
    origin: Mapped[str] = mapped_column(String(16), default="policy")  # policy | span | replay | ...


class Artifact(Base):
    __tablename__ = "artifact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("audit_session.id", ondelete="CASCADE"))
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("audit_session.id", ondelete="CASCADE"))
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
