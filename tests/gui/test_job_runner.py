"""The QThread runner: results, failures, cancel, queue order, store records, no widget access."""

import threading

from app.job_runner import JobRunner
from core.errors import B4GError
from core.jobs import Job
from core.store.catalog import new_session
from core.store.queries import list_runs, metric_series


def _loop_until_cancelled(started: threading.Event):
    def run(ctx):
        step = 0
        started.set()
        while True:
            ctx.raise_if_cancelled()
            ctx.report(step, reward=step)
            step += 1
            ctx.cancelled.wait(0.01)

    return run


def test_result_metrics_and_progress_arrive_on_the_ui_thread(qtbot, qapp) -> None:
    runner = JobRunner()
    seen, threads = [], []

    def job(ctx):
        for i in range(3):
            ctx.report(i, loss=1.0 / (i + 1))
            ctx.progress(i + 1, 3)
        return "done"

    runner.metrics.connect(lambda _i, step, m: (seen.append((step, m)), threads.append(threading.current_thread())))
    with qtbot.waitSignal(runner.finished, timeout=10000) as blocker:
        runner.submit(Job("t", job))
    assert blocker.args[1] == "done"
    assert [s for s, _ in seen] == [0, 1, 2] and seen[2][1] == {"loss": 1 / 3}
    assert all(t is threading.main_thread() for t in threads)
    assert not runner.is_busy()


def test_failure_is_a_one_line_message_and_the_runner_carries_on(qtbot) -> None:
    runner = JobRunner()

    def bad(ctx):
        raise B4GError("model folder not found: /nope")

    with qtbot.waitSignal(runner.failed, timeout=10000) as blocker:
        runner.submit(Job("load-model", bad))
    assert blocker.args[1] == "model folder not found: /nope"
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.submit(Job("t", lambda ctx: 1))


def test_cancel_running_job_and_drop_queued_one_in_order(qtbot) -> None:
    runner = JobRunner()
    store = new_session("runner")
    started = threading.Event()
    order = []
    runner.started.connect(lambda i, kind: order.append(kind))
    first = runner.submit(Job("grpo", _loop_until_cancelled(started)), recorder=store)
    second = runner.submit(Job("queued", lambda ctx: 2))
    third = runner.submit(Job("last", lambda ctx: 3))
    assert [q.id for q in runner.queued()] == [second.id, third.id]
    qtbot.waitUntil(started.is_set, timeout=10000)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        assert runner.cancel(second)
    with qtbot.waitSignal(runner.cancelled, timeout=10000) as blocker:
        runner.cancel(first)
    assert blocker.args[0] == first.id
    qtbot.waitUntil(lambda: not runner.is_busy() and not runner.queued(), timeout=10000)
    assert order == ["grpo", "last"]
    run = list_runs(store)[0]
    assert run["status"] == "cancelled" and metric_series(store, run["id"])[0]["reward"]


def test_a_job_marked_not_cancellable_ignores_cancel(qtbot) -> None:
    runner = JobRunner()
    gate = threading.Event()
    runner.submit(Job("load-model", lambda ctx: gate.wait(5)), cancellable=False, reason="loading")
    assert runner.current().reason == "loading"
    assert runner.cancel(runner.current().id) is False
    gate.set()
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=10000)


def test_an_in_process_job_leaves_a_core_to_the_ui_and_gives_it_back(qtbot, monkeypatch) -> None:
    import os

    import torch

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        runner = JobRunner()
        with qtbot.waitSignal(runner.finished, timeout=10000) as blocker:
            runner.submit(Job("threads", lambda ctx: torch.get_num_threads()))
        assert blocker.args[1] == 3  # one of the four cores stays with the UI thread
        runner.shutdown()
        assert torch.get_num_threads() == 4  # the window's own setting is back
    finally:
        torch.set_num_threads(before)


def test_a_result_reaches_only_the_handle_of_the_job_that_made_it(qtbot) -> None:
    """Pages connect to their own jobs' handles: no page filters another page's results by id."""
    runner = JobRunner()
    heard: dict[str, list] = {"a": [], "b": [], "b-failed": [], "c-cancelled": []}
    gate = threading.Event()
    a = runner.submit(Job("a", lambda ctx: gate.wait(5) and "A")).on_result(heard["a"].append)
    b = runner.submit(Job("b", lambda ctx: 1 / 0)).on_result(heard["b"].append, heard["b-failed"].append)
    c = runner.submit(Job("c", lambda ctx: "C")).on_result(heard["a"].append, cancelled=lambda: heard["c-cancelled"].append(1))
    assert runner.cancel(c)  # queued: dropped, and only its own handle hears it
    with qtbot.waitSignal(b.failed, timeout=10000):
        gate.set()
    assert heard == {"a": ["A"], "b": [], "b-failed": [heard["b-failed"][0]], "c-cancelled": [1]}
    assert "division by zero" in heard["b-failed"][0] and a.id != b.id
