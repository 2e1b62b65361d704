import threading

from core.errors import B4GError
from core.jobs import Job, JobContext, execute


class Collect:
    def __init__(self) -> None:
        self.reports, self.progress, self.logs = [], [], []

    def on_report(self, step, metrics):
        self.reports.append((step, metrics))

    def on_progress(self, done, total):
        self.progress.append((done, total))

    def on_log(self, message):
        self.logs.append(message)


def test_context_fans_out_and_drops_non_finite_values() -> None:
    a, b = Collect(), Collect()
    ctx = JobContext([a, b])
    ctx.report(3, loss=0.5, bad=float("nan"), inf=float("inf"))
    ctx.progress(1, 4)
    ctx.log("hello")
    for c in (a, b):
        assert c.reports == [(3, {"loss": 0.5})]
        assert c.progress == [(1, 4)] and c.logs == ["hello"]


def test_execute_reports_finished_failed_and_cancelled() -> None:
    ok = execute(Job("t", lambda ctx: 41 + 1), JobContext())
    assert (ok.status, ok.result) == ("finished", 42)

    def bad(ctx):
        raise B4GError("model folder not found: /x")

    failed = execute(Job("t", bad), JobContext())
    assert failed.status == "failed" and failed.error == "model folder not found: /x"

    def crash(ctx):
        raise ZeroDivisionError("division by zero\nsecond line")

    crashed = execute(Job("t", crash), JobContext())
    assert crashed.status == "failed" and crashed.error == "ZeroDivisionError: division by zero"

    def loop(ctx):
        for i in range(1000):
            if i == 5:
                ctx.cancelled.set()
            ctx.raise_if_cancelled()
        return "never"

    cancelled = execute(Job("t", loop), JobContext(cancelled=threading.Event()))
    assert cancelled.status == "cancelled" and cancelled.result is None
