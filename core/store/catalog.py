"""The session files under ``$B4G_HOME/sessions`` and the recently used list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import B4GError
from core.paths import home_dir, sessions_dir
from core.store.queries import list_runs
from core.store.session_store import SESSION_SUFFIX, SessionStore, new_session_id

_RECENT = "recent.json"
_RECENT_MAX = 10


def new_session(name: str, description: str = "", directory: Path | None = None) -> SessionStore:
    """Create a session file named by a fresh id in the sessions folder (or ``directory``)."""
    folder = Path(directory) if directory else sessions_dir()
    sid = new_session_id()
    store = SessionStore.create(folder / f"{sid}{SESSION_SUFFIX}", name, description, session_id=sid)
    remember(store.path)
    return store


def resolve(ref: str) -> Path:
    """A session by file path, by id (file stem in the sessions folder), or by unique name."""
    path = Path(ref).expanduser()
    if path.suffix == SESSION_SUFFIX or path.exists():
        if not path.exists():
            raise B4GError(f"no session file at {path}")
        return path
    by_id = sessions_dir() / f"{ref}{SESSION_SUFFIX}"
    if by_id.exists():
        return by_id
    named = [s["path"] for s in list_sessions() if ref in (s["name"], s["id"])]
    if len(named) == 1:
        return Path(named[0])
    if named:
        raise B4GError(f"{len(named)} sessions are named '{ref}'; give the id instead")
    raise B4GError(f"no session '{ref}' (see 'b4g session list')")


def open_session(ref: str) -> SessionStore:
    store = SessionStore(resolve(ref))
    remember(store.path)
    return store


def list_sessions(skipped: list[str] | None = None) -> list[dict[str, Any]]:
    """Summaries of every readable session file in the sessions folder, newest first. A file
    that cannot be read (foreign, damaged, written by a newer version) is left out of the list and,
    when ``skipped`` is given, its one-line reason is appended there so the caller can say so."""
    out = []
    for path in sorted(sessions_dir().glob(f"*{SESSION_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            store = SessionStore(path)
        except B4GError as exc:
            if skipped is not None:
                skipped.append(str(exc))
            continue  # one unreadable file must not hide the others
        try:
            info = store.info()
            info["runs"] = len(list_runs(store))
            out.append(info)
        finally:
            store.close()
    return out


def recent() -> list[str]:
    file = home_dir() / _RECENT
    try:
        paths = json.loads(file.read_text())
    except (OSError, ValueError):
        return []
    return [p for p in paths if isinstance(p, str) and Path(p).exists()]


def remember(path: Path) -> None:
    paths = [str(Path(path).resolve())] + [p for p in recent() if p != str(Path(path).resolve())]
    (home_dir() / _RECENT).write_text(json.dumps(paths[:_RECENT_MAX]))


def current_or_new(default_name: str = "Untitled audit") -> SessionStore:
    """The most recently used session, or a new one when there is none (used by CLI jobs)."""
    for path in recent():
        try:
            return open_session(path)
        except B4GError:
            continue
    return new_session(default_name)
