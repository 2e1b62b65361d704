"""Runs core jobs on worker QThreads, one heavy job at a time, with a visible queue.

Workers never touch widgets: they emit signals from their thread and Qt queues the calls to
the UI thread. Every job goes through :func:`core.jobs.execute`, the same path the CLI uses.

``submit`` returns a :class:`JobHandle` whose signals (a fixed set, as superqt's workers have)
reach only whoever submitted the job: a page connects to its own jobs' results and never filters
other pages' by id. The runner's own signals are for the job bar and the status line.
"""

from __future__ import annotations

import itertools
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.jobs import Job, JobContext, Outcome, RunRecorder, execute


class _SignalReporter:
    """Job reporter living in the worker thread; emitting a signal is the only thing it does."""

    def __init__(self, worker: "_Worker") -> None:
        self.worker = worker

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.worker.reported.emit(step, metrics)

    def on_progress(self, done: int, total: int | None) -> None:
        self.worker.progressed.emit(done, -1 if total is None else total)

    def on_log(self, message: str) -> None:
        self.worker.logged.emit(message)


@contextmanager
def _a_core_left_for_the_ui() -> Iterator[None]:
    """In-process jobs share the window's process. With torch's threads on every core, the UI
    thread waits for a core as well as for the GIL (bench/ui_stall.py: a model answering on a
    worker thread kept UI ticks up to 45 ms late at p99 on 2 cores). One core is left to the UI
    while the job runs; jobs in a child process (training) still use them all."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(before, (os.cpu_count() or 1) - 1)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Worker(QObject):
    reported = Signal(int, dict)
    progressed = Signal(int, int)
    logged = Signal(str)
    done = Signal(object)  # Outcome

    def __init__(self, job: Job, ctx: JobContext, recorder: RunRecorder | None, resume: int | None = None) -> None:
        super().__init__()
        self.job, self.ctx, self.recorder, self.resume = job, ctx, recorder, resume
        self.outcome: Outcome | None = None

    @Slot()
    def run(self) -> None:
        self.ctx.attach(_SignalReporter(self))
        with _a_core_left_for_the_ui():
            self.outcome = execute(self.job, self.ctx, self.recorder, resume=self.resume)
        self.done.emit(self.outcome)
        # Quit from inside the worker thread: the UI thread may be blocked in wait() (closing).
        QThread.currentThread().quit()


class JobHandle(QObject):
    """One submitted job, as its submitter sees it: its id and its own signals."""

    started = Signal()
    progressed = Signal(int, int)  # done, total (-1 unknown)
    finished = Signal(object)  # the job's result
    failed = Signal(str)  # one-line error
    cancelled = Signal()

    def __init__(self, job_id: int, kind: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id, self.kind = job_id, kind

    def on_result(self, finished: Callable[[Any], None], failed: Callable[[str], None] | None = None,
                  cancelled: Callable[[], None] | None = None, context: QObject | None = None) -> "JobHandle":
        """Connect the submitter's slots in one call; returns the handle. ``context``: the widget the
        slots belong to; once it is destroyed, nothing is delivered (a plain function or lambda is
        not disconnected by Qt when its page goes)."""
        self.finished.connect(finished)
        if failed is not None:
            self.failed.connect(failed)
        if cancelled is not None:
            self.cancelled.connect(cancelled)
        if context is not None:
            context.destroyed.connect(self._forget)
        return self

    @Slot()
    def _forget(self) -> None:
        for signal in (self.started, self.progressed, self.finished, self.failed, self.cancelled):
            try:
                signal.disconnect()
            except (RuntimeError, TypeError):  # nothing connected
                pass


@dataclass
class QueuedJob:
    id: int
    job: Job
    recorder: RunRecorder | None
    cancel: threading.Event = field(default_factory=threading.Event)
    cancellable: bool = True
    reason: str = ""  # why cancel is disabled, shown as a tooltip
    resume: int | None = None  # the recorded run this job continues (core.jobs.execute)
    handle: JobHandle | None = None


class JobRunner(QObject):
    """Queue + one running job. Signals carry the job id so views can tell jobs apart."""

    started = Signal(int, str)  # job id, kind
    progress = Signal(int, int, int)  # job id, done, total (-1 unknown)
    metrics = Signal(int, int, dict)  # job id, step, {name: value}
    log = Signal(int, str)
    finished = Signal(int, object)  # job id, result
    failed = Signal(int, str)  # job id, one-line error
    cancelled = Signal(int)
    queue_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._queue: list[QueuedJob] = []
        self._current: QueuedJob | None = None
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        # Data-parallel processes for the jobs that scale out (inject, organisms, inversion), set on
        # the Models page; the others always run in one process.
        self.processes = 1

    # --- public API ---------------------------------------------------------------------------
    def submit(self, job: Job, recorder: RunRecorder | None = None, cancellable: bool = True,
               reason: str = "", resume: int | None = None) -> JobHandle:
        """Queue ``job``; it starts as soon as nothing else runs. Returns its handle: its ``started``
        may already have fired (nothing else was running), its result comes later. ``resume``: the
        id of the unfinished run in ``recorder`` that this job continues from its checkpoint."""
        job_id = next(self._ids)
        handle = JobHandle(job_id, job.kind)  # no parent: it lives while the queue or its submitter holds it
        item = QueuedJob(job_id, job, recorder, cancellable=cancellable, reason=reason, resume=resume, handle=handle)
        self._queue.append(item)
        self.queue_changed.emit()
        self._start_next()
        return handle

    def cancel(self, job: "int | JobHandle") -> bool:
        """Drop a queued job, or ask the running one to stop at its next safe point."""
        job_id = job.id if isinstance(job, JobHandle) else job
        for item in list(self._queue):
            if item.id == job_id:
                self._queue.remove(item)
                self.queue_changed.emit()
                self.cancelled.emit(job_id)
                item.handle.cancelled.emit()
                return True
        if self._current and self._current.id == job_id and self._current.cancellable:
            self._current.cancel.set()
            return True
        return False

    def cancel_all(self) -> None:
        for item in list(self._queue):
            self.cancel(item.id)
        if self._current:
            self._current.cancel.set()

    def is_busy(self) -> bool:
        return self._current is not None

    def current(self) -> QueuedJob | None:
        return self._current

    def queued(self) -> list[QueuedJob]:
        return list(self._queue)

    def wait(self, ms: int = 60000) -> bool:
        """Block until the running job's thread ends."""
        return self._thread.wait(ms) if self._thread else True

    def shutdown(self, ms: int = 60000) -> bool:
        """Cancel everything, wait for the running job and settle it now (closing the window):
        its queued finish signal may never be delivered once the event loop stops."""
        self.cancel_all()
        if not self.wait(ms):
            return False
        if self._worker is not None and self._worker.outcome is not None:
            self._on_done(self._worker.outcome)
        return True

    # --- internals ----------------------------------------------------------------------------
    def _start_next(self) -> None:
        if self._current or not self._queue:
            return
        item = self._current = self._queue.pop(0)
        ctx = JobContext(cancelled=item.cancel, processes=self.processes)
        thread, worker = QThread(), _Worker(item.job, ctx, item.recorder, item.resume)
        worker.moveToThread(thread)
        worker.reported.connect(lambda step, m, i=item.id: self.metrics.emit(i, step, m))
        worker.progressed.connect(lambda d, t, i=item.id: self.progress.emit(i, d, t))
        worker.progressed.connect(item.handle.progressed)
        worker.logged.connect(lambda msg, i=item.id: self.log.emit(i, msg))
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        self._thread, self._worker = thread, worker
        thread.start()
        self.queue_changed.emit()
        self.started.emit(item.id, item.job.kind)
        item.handle.started.emit()

    @Slot(object)
    def _on_done(self, outcome: Outcome) -> None:
        if self._worker is None or self._worker.outcome is not outcome:
            return  # already settled by shutdown()
        item = self._current
        self._thread.quit()
        self._thread.wait()
        self._thread = self._worker = self._current = None
        if outcome.status == "finished":
            self.finished.emit(item.id, outcome.result)
            item.handle.finished.emit(outcome.result)
        elif outcome.status == "cancelled":
            self.cancelled.emit(item.id)
            item.handle.cancelled.emit()
        else:
            self.failed.emit(item.id, outcome.error or "failed")
            item.handle.failed.emit(outcome.error or "failed")
        self.queue_changed.emit()
        self._start_next()


__all__ = ["JobHandle", "JobRunner", "QueuedJob"]
