"""Jobs in a spawned child process: streaming, results, errors, Cancel, and a child that dies."""

from __future__ import annotations

import os
import threading
import time

import pytest

from core.child import Recipe, run_in_child
from core.errors import B4GError, JobCancelled
from core.jobs import JobContext


class Collect:
    def __init__(self) -> None:
        self.reports, self.progress, self.logs, self.candidates = [], [], [], []

    def on_report(self, step, metrics):
        self.reports.append((step, metrics))

    def on_progress(self, done, total):
        self.progress.append((done, total))

    def on_log(self, message):
        self.logs.append(message)

    def on_candidates(self, rows):
        self.candidates.extend(rows)


def test_child_streams_events_and_returns_its_result() -> None:
    sink = Collect()
    result = run_in_child(Recipe("child_recipes:counting", {"steps": 3}), JobContext([sink]))
    assert result["steps"] == 3 and result["pid"] != os.getpid()
    assert sink.reports == [(0, {"loss": 1.0}), (1, {"loss": 0.5}), (2, {"loss": pytest.approx(1 / 3)})]
    assert sink.progress[-1] == (3, 3) and sink.logs == ["counted"]
    assert sink.candidates == [{"text": "SUDO", "reward": 1.0}]


def test_child_error_keeps_its_one_line_message() -> None:
    with pytest.raises(B4GError, match="^spec.trigger.text: the trigger is empty$"):
        run_in_child(Recipe("child_recipes:bad_input"), JobContext())


def test_cancel_reaches_the_child() -> None:
    ctx = JobContext()

    class CancelOnFirstReport(Collect):
        def on_report(self, step, metrics):
            threading.Timer(0.1, ctx.cancelled.set).start()

    ctx.attach(CancelOnFirstReport())
    with pytest.raises(JobCancelled):
        run_in_child(Recipe("child_recipes:until_cancelled"), ctx)


def test_a_child_killed_mid_job_is_a_failure_not_a_crash() -> None:
    sink = Collect()
    with pytest.raises(B4GError, match="died without a result .*SIGKILL"):
        run_in_child(Recipe("child_recipes:crash"), JobContext([sink]))
    assert sink.logs == ["about to die"]


def test_recipe_runs_in_process_too() -> None:
    assert Recipe("child_recipes:counting", {"steps": 1}).run(JobContext())["pid"] == os.getpid()


def test_child_job_is_recorded_like_an_in_process_one() -> None:
    from core.jobs import Job, execute
    from core.store.catalog import new_session
    from core.store.queries import list_candidates, list_runs, metric_series

    store = new_session("child")
    recipe = Recipe("child_recipes:counting", {"steps": 4})
    outcome = execute(Job("inject", lambda ctx: run_in_child(recipe, ctx), recipe.config), JobContext(), store)
    assert outcome.status == "finished"
    series, _ = metric_series(store, outcome.run_id)
    assert [s for s, _v in series["loss"]] == [0, 1, 2, 3]
    assert [c["text"] for c in list_candidates(store, outcome.run_id)] == ["SUDO"]
    crashed = execute(Job("inject", lambda ctx: run_in_child(Recipe("child_recipes:crash"), ctx)), JobContext(), store)
    assert crashed.status == "failed" and "died without a result" in crashed.error
    assert [r["status"] for r in list_runs(store)] == ["finished", "failed"]
    store.close()


def test_several_processes_report_through_rank_zero_and_a_failed_rank_fails_the_job() -> None:
    """The window's N-process path (torch's elastic launcher forked from the child): rank 0 alone
    reports and returns; a rank that fails stops the others and the job reads failed, in one line."""
    from core.jobs import Job, execute
    from core.store.catalog import new_session
    from core.store.queries import list_runs, metric_series

    store = new_session("ranks")
    recipe = Recipe("child_recipes:ranked", {})
    ok = execute(Job("inject", lambda ctx: run_in_child(recipe, ctx, 2), recipe.config), JobContext(), store)
    assert ok.status == "finished" and ok.result["rank"] == 0 and ok.result["world"] == 2
    series, _ = metric_series(store, ok.run_id)
    assert series["rank"] == [(0, 0.0)]  # rank 1 ran too, but only rank 0 reported
    failing = Recipe("child_recipes:ranked", {"fail_rank": 1})
    start = time.monotonic()
    bad = execute(Job("inject", lambda ctx: run_in_child(failing, ctx, 2), failing.config), JobContext(), store)
    assert bad.status == "failed" and "a training process failed" in bad.error and "\n" not in bad.error
    assert time.monotonic() - start < 50  # rank 0 was stopped, not waited for
    assert [r["status"] for r in list_runs(store)] == ["finished", "failed"]
    store.close()
