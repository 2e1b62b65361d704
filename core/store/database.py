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
        raise B4GError(f"{path} is not a B4G session file ({exc.orig})") from None
    return engine


def migrate(engine: Engine) -> None:
    """Apply every pending migration (no-op when the file is already at head)."""
    cfg = _alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.begin() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
