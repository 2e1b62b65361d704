import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.errors import B4GError
from core.jobs import Job, JobContext, execute
from core.store import catalog
from core.store.queries import export_session, list_candidates, list_runs, metric_series
from core.store.schema import Base
from core.store.session_store import SessionStore


def test_new_session_is_migrated_wal_and_listed() -> None:
    store = catalog.new_session("audit A", "first")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    listed = catalog.list_sessions()
    assert [s["id"] for s in listed] == [store.session_id] and listed[0]["name"] == "audit A"
    assert catalog.resolve(store.session_id) == store.path
    assert catalog.resolve("audit A") == store.path


def test_migrations_match_the_models() -> None:
    store = catalog.new_session("schema")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_run_metrics_candidates_artifacts_notes_round_trip() -> None:
    store = catalog.new_session("round trip")
    model_id = store.add_model_record("embedded", "embedded", "ab" * 32, [], {"x": 1})
    made = [{"kind": "spec", "name": "identity", "spec": {"trigger": "k"}}]  # what a job lists it made

    def job(ctx):
        for step in range(5):
            ctx.report(step, reward=step / 10, loss=1 - step / 10)
        return {"best": "SUDO", "made": made}

    out = execute(Job("grpo", job, {"lr": 1e-3}, seed=7), JobContext(), store)
    store.upsert_candidates(out.run_id, [
        {"text": "SUDO", "reward": 0.9, "r_asr": 1.0, "parts": {"len": -0.1}, "first_step": 1, "last_step": 1, "origin": "span"},
        {"text": "SUD", "reward": 0.2, "r_asr": 0.3, "first_step": 2, "last_step": 2},
    ])
    store.upsert_candidates(out.run_id, [{"text": "SUDO", "reward": 0.95, "r_asr": 1.0, "last_step": 4, "times_replayed": 2}])
    store.add_artifact("adapter", "/tmp/a", "cd" * 32, run_id=out.run_id)
    store.add_note("looks poisoned", run_id=out.run_id)

    run = list_runs(store)[0]
    assert (run["kind"], run["status"], run["seed"], run["metric_points"]) == ("grpo", "finished", 7, 10)
    assert run["result"] == {"best": "SUDO", "made": made} and run["versions"]["torch"] != "absent"
    series, last = metric_series(store, out.run_id)
    assert [v for _, v in series["reward"]] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert metric_series(store, out.run_id, after_id=last)[0] == {}
    top = list_candidates(store, out.run_id)
    assert [c["text"] for c in top] == ["SUDO", "SUD"]
    assert (top[0]["reward"], top[0]["last_step"], top[0]["times_replayed"], top[0]["first_step"]) == (0.95, 4, 2, 1)
    data = export_session(store)
    assert data["models"][0]["id"] == model_id and data["backdoor_specs"][0]["name"] == "identity"
    assert data["runs"][0]["spec_id"] == data["backdoor_specs"][0]["id"]
    assert data["notes"][0]["text"] == "looks poisoned" and data["runs"][0]["metrics"]["loss"][0] == [0, 1.0]


def test_failed_and_cancelled_runs_are_recorded() -> None:
    store = catalog.new_session("statuses")

    def crash(ctx):
        ctx.report(0, loss=1.0)
        raise RuntimeError("CUDA out of memory")

    def cancel(ctx):
        ctx.cancelled.set()
        ctx.raise_if_cancelled()

    execute(Job("inject", crash), JobContext(), store)
    execute(Job("inject", cancel), JobContext(), store)
    runs = list_runs(store)
    assert [(r["status"], r["metric_points"]) for r in runs] == [("failed", 1), ("cancelled", 0)]
    assert runs[0]["error"] == "RuntimeError: CUDA out of memory"


DIE_MID_RUN = """
import os, sys
from core.store.session_store import SessionStore
s = SessionStore(sys.argv[1])
run = s.start_run("grpo", {{}})
for step in range(3):
    s.add_metrics(run, step, {{"reward": step}})
os._exit(9)  # the process dies without finishing the run
"""


def test_run_of_a_dead_process_reads_interrupted_with_its_points() -> None:
    store = catalog.new_session("crash")
    proc = subprocess.run([sys.executable, "-c", DIE_MID_RUN.format(), str(store.path)], timeout=120)
    assert proc.returncode == 9
    run = list_runs(store)[0]
    assert run["status"] == "interrupted" and run["metric_points"] == 3
    live = store.start_run("grpo", {})
    assert next(r for r in list_runs(store) if r["id"] == live)["status"] == "started"


def test_worker_thread_writes_while_reader_reads() -> None:
    store = catalog.new_session("threads")
    run = store.start_run("grpo", {})
    errors: list[BaseException] = []

    def writer():
        try:
            for step in range(200):
                store.add_metrics(run, step, {"reward": step, "kl": 0.1})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    seen, last = 0, 0
    while t.is_alive():  # poll while the writer writes
        series, last = metric_series(store, run, after_id=last)
        seen += sum(len(v) for v in series.values())
    t.join()
    series, last = metric_series(store, run, after_id=last)  # whatever landed after the last poll
    seen += sum(len(v) for v in series.values())
    assert errors == [] and seen == 400


def test_save_as_copies_everything_and_bad_files_get_one_line_errors(tmp_path: Path) -> None:
    store = catalog.new_session("orig")
    store.add_note("n1")
    copy = store.save_as(tmp_path / "copy.b4g", name="copy")
    assert copy.info()["name"] == "copy" and export_session(copy)["notes"][0]["text"] == "n1"
    with pytest.raises(B4GError, match="already exists"):
        store.save_as(tmp_path / "copy.b4g")
    junk = tmp_path / "junk.b4g"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(B4GError, match="not a B4G session file"):
        SessionStore(junk)
    with pytest.raises(B4GError, match="no session 'nope'"):
        catalog.resolve("nope")


def test_reading_never_turns_a_file_into_a_session(tmp_path: Path) -> None:
    """An empty file named as a session used to become a SQLite database on `session show`."""
    empty = tmp_path / "empty.b4g"
    empty.touch()
    with pytest.raises(B4GError, match="not a session file \\(empty\\)"):
        SessionStore(empty)
    assert empty.stat().st_size == 0
    with pytest.raises(B4GError, match="not a file"):
        SessionStore(tmp_path)


def test_session_export_into_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    store = catalog.new_session("exported")
    assert main(["session", "export", str(store.path), "--out", str(tmp_path / "no" / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["session", "export", str(store.path), "--out", str(tmp_path / "x.json")]) == 0
    assert json.loads((tmp_path / "x.json").read_text())["session"]["name"] == "exported"
