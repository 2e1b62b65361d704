"""Opening a session file: SQLite in WAL mode, migrated to the newest schema on open."""

from __future__ import annotations

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
            raise B4GError(f"{engine.url.database} was written by a newer B4G Workbench (schema {current}); "
                           f"update the workbench to open it")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
