"""The job protocol shared by the CLI and the GUI.

A job is a plain function ``fn(ctx) -> result``. It reads its cancel token (``ctx.cancelled``)
and tells the world what it is doing through three calls: ``report`` (metric points for a step),
``progress`` and ``log`` (inversion jobs also hand over scored ``candidates``). Who listens is up to the caller: the CLI attaches a rich progress bar,
the GUI a Qt bridge, and :func:`execute` attaches the audit store so every report is recorded
under the run.
"""

from __future__ import annotations

import math
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from core.errors import B4GError, JobCancelled


class Reporter(Protocol):
    """Something that listens to a job: a progress bar, a Qt signal bridge, the audit store."""

    def on_report(self, step: int, metrics: dict[str, float]) -> None: ...

    def on_progress(self, done: int, total: int | None) -> None: ...

    def on_log(self, message: str) -> None: ...


class JobContext:
    """Handed to every job: cancel token plus report/progress/log fanned out to reporters."""

    def __init__(
        self, reporters: Iterable[Reporter] = (), cancelled: threading.Event | None = None,
        checkpoints: Path | None = None, processes: int = 1,
    ) -> None:
        self.cancelled = cancelled or threading.Event()
        self.processes = max(1, processes)  # data-parallel processes for a job that scales out (the window's)
        self._reporters: list[Reporter] = list(reporters)
        # Where training keeps resumable state for this run (None: nothing is kept). A job that
        # finds state there from an earlier, interrupted attempt continues from it.
        self.checkpoints = Path(checkpoints) if checkpoints else None
        self._stages = 0
        # The store and run this job is recorded as (set by execute): an orchestrating job (the
        # audit) records its stages as runs of the same session.
        self.recorder: Any = None
        self.run_id: int | None = None

    def next_stage_dir(self) -> Path | None:
        """The checkpoint folder of the job's next training stage (stage-1, stage-2, … in the
        order the job trains, which is fixed for a request, so a resumed run finds its own)."""
        if self.checkpoints is None:
            return None
        self._stages += 1
        return self.checkpoints / f"stage-{self._stages}"

    @property
    def resuming(self) -> bool:
        """Whether an earlier attempt of this run left state to continue from."""
        return self.checkpoints is not None and self.checkpoints.is_dir() and any(self.checkpoints.iterdir())

    def attach(self, reporter: Reporter) -> None:
        self._reporters.append(reporter)

    def detach(self, reporter: Reporter) -> None:
        self._reporters.remove(reporter)

    def report(self, step: int, **metrics: float) -> None:
        """Record one point per metric at ``step``; non-finite values are dropped, not stored."""
        clean = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
        if clean:
            for r in self._reporters:
                r.on_report(int(step), clean)

    def progress(self, done: int, total: int | None = None) -> None:
        for r in self._reporters:
            r.on_progress(int(done), None if total is None else int(total))

    def log(self, message: str) -> None:
        for r in self._reporters:
            r.on_log(str(message))

    def candidates(self, rows: list[dict[str, Any]]) -> None:
        """Hand over scored candidates (inversion jobs); reporters that keep them define
        ``on_candidates`` (the audit store does), the others never see them."""
        for r in self._reporters:
            sink = getattr(r, "on_candidates", None)
            if sink and rows:
                sink(rows)

    def raise_if_cancelled(self) -> None:
        """Call at safe points inside loops; raises :class:`JobCancelled` once cancel is set."""
        if self.cancelled.is_set():
            raise JobCancelled()


class RunRecorder(Protocol):
    """The part of the audit store :func:`execute` needs (kept abstract so tests can fake it)."""

    def start_run(self, kind: str, config: dict[str, Any], seed: int | None) -> int: ...

    def finish_run(self, run_id: int, status: str, result: Any = None, error: str | None = None) -> None: ...

    def metric_reporter(self, run_id: int) -> Reporter: ...

    def resume_run(self, run_id: int) -> int: ...

    def checkpoint_dir(self, run_id: int) -> Path: ...


@dataclass
class Job:
    """A unit of long work: a kind (``load-model``, ``inject``…), its JSON config, and the function."""

    kind: str
    fn: Callable[[JobContext], Any]
    config: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None


@dataclass
class Outcome:
    """What :func:`execute` returns: the status, the job's result, and the run id when recorded."""

    status: str  # finished | failed | cancelled
    result: Any = None
    error: str | None = None
    run_id: int | None = None


def execute(job: Job, ctx: JobContext, recorder: RunRecorder | None = None, resume: int | None = None) -> Outcome:
    """Run ``job`` under ``ctx``; when ``recorder`` is given, record the run and every report,
    and keep the run's training checkpoints until it finishes. ``resume``: the id of an earlier
    run of the same request that did not finish; it is continued (same run, its checkpoints).

    Never raises for job failures: a :class:`B4GError` keeps its one-line message, anything else
    is summarised as ``TypeName: message`` so the caller can show it and carry on.
    """
    run_id, session_checkpoints = None, False
    if recorder:
        run_id = recorder.resume_run(resume) if resume is not None else recorder.start_run(job.kind, job.config, job.seed)
        ctx.recorder, ctx.run_id = recorder, run_id
        if ctx.checkpoints is None and hasattr(recorder, "checkpoint_dir"):
            ctx.checkpoints, session_checkpoints = recorder.checkpoint_dir(run_id), True
    sink = recorder.metric_reporter(run_id) if recorder and run_id is not None else None
    if sink:
        ctx.attach(sink)
    try:
        outcome = Outcome("finished", result=job.fn(ctx), run_id=run_id)
    except JobCancelled as exc:
        outcome = Outcome("cancelled", error=str(exc), run_id=run_id)
    except B4GError as exc:
        outcome = Outcome("failed", error=str(exc), run_id=run_id)
    except Exception as exc:  # noqa: BLE001 - a job's crash must not take the caller down
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}".splitlines()[0], run_id=run_id)
    finally:
        if sink:
            ctx.detach(sink)
    if recorder and run_id is not None:
        recorder.finish_run(run_id, outcome.status, result=outcome.result, error=outcome.error)
    if ctx.checkpoints is not None:
        _tidy_checkpoints(ctx.checkpoints, outcome.status == "finished", session_checkpoints)
    return outcome


def _tidy_checkpoints(folder: Path, finished: bool, session_folder: bool) -> None:
    """A finished run's checkpoints go (they were kept only to resume it), and so does an unfinished
    run's folder that holds no file (nothing to resume from). ``session_folder``: ``folder`` is the
    store's ``SESSION.checkpoints/run-N``, whose parent goes too once empty (an empty
    ``*.checkpoints`` folder stayed beside the session after every run)."""
    if finished or (folder.is_dir() and not any(p.is_file() for p in folder.rglob("*"))):
        shutil.rmtree(folder, ignore_errors=True)
    if session_folder:
        try:
            folder.parent.rmdir()  # only when empty: another run may keep checkpoints there
        except OSError:
            pass
