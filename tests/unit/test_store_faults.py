"""The session file under faults: a newer schema, a read-only file, a full disk, a held lock.
Each is one line naming the file; nothing is half-written; one bad file never hides the others."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from core.cli import main
from core.errors import B4GError
from core.store import catalog
from core.store.session_store import SessionStore


def _stamp_newer(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("update alembic_version set version_num='ffffffff'")
    con.commit()
    con.close()


def test_a_newer_schema_is_refused_untouched_and_listing_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    keep = catalog.new_session("kept")
    keep.close()
    newer = catalog.new_session("from the future")
    path = newer.path
    newer.close()
    _stamp_newer(path)
    before = path.read_bytes()
    with pytest.raises(B4GError, match="newer B4G Workbench"):
        SessionStore(path)
    assert path.read_bytes() == before  # no migration was tried on it
    assert main(["session", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert '"kept"' in out and "from the future" not in out
    assert err.count("\n") == 1 and "skipped" in err and "newer B4G Workbench" in err
    assert main(["session", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("sqlite_says, we_say", [
    ("attempt to write a readonly database", "is read-only"),
    ("database or disk is full", "the disk is full"),
    ("database is locked", "is busy"),
])
def test_a_refused_write_is_one_line_naming_the_file(monkeypatch: pytest.MonkeyPatch, sqlite_says: str,
                                                      we_say: str) -> None:
    store = catalog.new_session("faults")
    rid = store.start_run("inject", {}, 0)
    real_flush = type(store.reader()).flush

    def refuse(self, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError(sqlite_says))

    monkeypatch.setattr(type(store.reader()), "flush", refuse)
    with pytest.raises(B4GError) as caught:
        store.add_metrics(rid, 1, {"loss": 1.0})
    monkeypatch.setattr(type(store.reader()), "flush", real_flush)
    message = str(caught.value)
    assert we_say in message and str(store.path) in message and "\n" not in message
    assert store.add_metrics(rid, 1, {"loss": 2.0}) is None  # the store still works after the fault
    store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_recording_into_a_read_only_session_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    store = catalog.new_session("read only")
    path = store.path
    store.close()
    path.chmod(0o444)
    try:
        with pytest.raises(B4GError, match="read-only"):
            SessionStore(path).start_run("inject", {}, 0)
    finally:
        path.chmod(0o644)


WRITER = """
import sys
from core.store.session_store import SessionStore
store = SessionStore(sys.argv[1])
for r in range(5):
    run = store.start_run("inject", {"writer": sys.argv[2]}, 0)
    for step in range(40):
        store.add_metrics(run, step, {"loss": 1.0 / (step + 1), "tar_with": step / 40})
    store.finish_run(run, "finished", {"writer": sys.argv[2]})
"""


def test_two_processes_writing_one_session_lose_nothing() -> None:
    """Two windows (or a window and a CLI job) on one session: WAL plus a busy timeout serialise the
    writes; every run and point of both writers is there, and the file checks clean."""
    import subprocess
    import sys

    from core.store.queries import list_runs

    store = catalog.new_session("two writers")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), name], stderr=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    runs = list_runs(store)
    assert len(runs) == 10 and all(r["status"] == "finished" and r["metric_points"] == 80 for r in runs)
    assert sorted(r["config"]["writer"] for r in runs) == ["a"] * 5 + ["b"] * 5
    con = sqlite3.connect(store.path)
    assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    con.close()
    store.close()
