"""Opening a session file: SQLite in WAL mode, migrated to the newest schema on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError

from core.errors import B4GError

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects are untyped
    cur = dbapi_conn.cursor()
    # WAL lets the GUI read while a worker thread (or a training child process) writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_engine(path: Path) -> Engine:
    """Create the engine for a session file and bring its schema to head (Alembic)."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise B4GError(f"{path} is a folder, not a session file")
    check_session_file(path)
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
    )
    event.listen(engine, "connect", _on_connect)
    try:
        migrate(engine)
    except DatabaseError as exc:
        engine.dispose()
        raise storage_error(path, exc, "is not a B4G session file") from None
    except B4GError:
        engine.dispose()
        raise
    return engine


# What marks a B4G session in every schema so far: a database without them is someone else's.
SESSION_TABLES = {"alembic_version", "audit_session"}


def check_session_file(path: Path) -> None:
    """Refuse, reading only, a file that is not a B4G session (or a new file) before the engine
    touches it: its first connection sets WAL mode (rewriting the header) and Alembic would add
    B4G's tables to any SQLite database, so a refused file must be judged by a read-only look."""
    if not path.exists() or path.stat().st_size == 0:
        return  # a new session file: SessionStore refuses an empty one before this
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone() if SESSION_TABLES <= tables else None
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        why = "is not a B4G session file" if "not a database" in str(exc) else "cannot be read"
        raise B4GError(f"{path} {why} ({exc})") from None
    if not SESSION_TABLES <= tables:
        raise B4GError(f"{path} is not a B4G session file (a SQLite database without B4G's tables; left unchanged)")
    if revision and revision[0] not in known_revisions():
        raise newer_schema(path, revision[0])


def known_revisions() -> set[str]:
    return {r.revision for r in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def newer_schema(path: Path | str, revision: str) -> B4GError:
    return B4GError(f"{path} was written by a newer B4G Workbench (schema {revision}); update the workbench to open it")


# SQLite's words for a write that cannot happen, and what the auditor should hear instead.
_WRITE_FAULTS = {
    "readonly database": "is read-only: nothing was recorded (make it writable, or 'Save session as' a copy)",
    "disk is full": "could not be written: the disk is full (nothing half-written: the last write was rolled back)",
    "database is locked": "is busy: another program kept it locked for 30 s (nothing was written; try again)",
    "unable to open database": "cannot be opened for writing (check the file and its folder's permissions)",
}


def storage_error(path: Path | str, exc: DatabaseError, otherwise: str) -> B4GError:
    """A one-line error for a failed read or write of the session file at ``path``."""
    text = str(exc.orig)
    for needle, words in _WRITE_FAULTS.items():
        if needle in text:
            return B4GError(f"session file {path} {words}")
    return B4GError(f"{path} {otherwise} ({text})")


def migrate(engine: Engine) -> None:
    """Apply every pending migration (no-op when the file is already at head). A file stamped
    with a revision this version does not know was written by a newer workbench: refused, untouched."""
    cfg = _alembic_config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        if current is not None and current not in {r.revision for r in script.walk_revisions()}:
            raise newer_schema(engine.url.database, current)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
