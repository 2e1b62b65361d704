"""Run a job in a child process (spawn), supervised from the caller's thread.

Training (inject, reversal SFT, GRPO, unlearning) can crash the interpreter: a CUDA error, an
out-of-memory kill, a segfault in a native kernel. Run in a spawned child, such a crash only ends
the child: the supervisor reports it as a one-line failure and the window stays alive.

A job that crosses the process boundary is a :class:`Recipe`: the dotted name of a function
``fn(config, ctx) -> JSON result`` and its JSON config. The child runs it under a JobContext
whose reporter writes every report/progress/log/candidates call to a pipe as one JSON line; the
supervisor replays them into the caller's context (so the audit store and the GUI see them as if
the job ran in process) and forwards Cancel.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from core.errors import B4GError, JobCancelled
from core.jobs import JobContext

POLL_SECONDS = 0.05


@dataclass
class Recipe:
    target: str  # "package.module:function", called as fn(config, ctx)
    config: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> Callable[[dict[str, Any], JobContext], Any]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def run(self, ctx: JobContext) -> Any:
        """In process (the CLI, tests)."""
        return self.resolve()(self.config, ctx)


class _PipeReporter:
    """In the child: each job event becomes one JSON line on the pipe."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _send(self, kind: str, **payload: Any) -> None:
        self.conn.send_bytes(json.dumps({"kind": kind, **payload}, default=str).encode())

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self._send("report", step=step, metrics=metrics)

    def on_progress(self, done: int, total: int | None) -> None:
        self._send("progress", done=done, total=total)

    def on_log(self, message: str) -> None:
        self._send("log", message=message)

    def on_candidates(self, rows: list[dict[str, Any]]) -> None:
        self._send("candidates", rows=rows)


def _child_main(recipe: Recipe, conn: Any, cancel: Any, checkpoints: str | None = None,
                processes: int = 1) -> None:  # in the child
    from core.quiet import quiet_libraries

    quiet_libraries()
    if processes > 1:
        _launch_ranks(recipe, conn, cancel, processes)
        return
    try:
        _run_rank(recipe, conn, cancel, checkpoints)
    finally:
        conn.close()


def _run_rank(recipe: Recipe, conn: Any, cancel: Any, checkpoints: str | None, reraise: bool = False,
              silent: tuple[type[BaseException], ...] = ()) -> None:
    """Run the recipe, sending its events and its one final event (result, error, cancelled);
    ``silent`` exceptions send nothing (the launcher reports them)."""
    reporter = _PipeReporter(conn)
    ctx = JobContext([reporter], checkpoints=checkpoints)
    _watch(cancel, ctx)
    try:
        reporter._send("result", result=recipe.run(ctx))
    except silent:
        raise
    except JobCancelled:
        reporter._send("cancelled")
        if reraise:
            raise
    except B4GError as exc:
        reporter._send("error", message=str(exc))
        if reraise:
            raise
    except BaseException as exc:  # noqa: BLE001 - everything must reach the supervisor as one line
        reporter._send("error", message=f"{type(exc).__name__}: {exc}".splitlines()[0])
        if reraise:
            raise


def _watch(cancel: Any, ctx: JobContext) -> None:
    def watch_cancel() -> None:
        cancel.wait()
        ctx.cancelled.set()

    threading.Thread(target=watch_cancel, daemon=True).start()


def _launch_ranks(recipe: Recipe, conn: Any, cancel: Any, processes: int) -> None:
    """Data parallel from the window: torch's elastic launcher (what ``torchrun`` and ``accelerate
    launch`` use) starts ``processes`` ranks of the recipe on this machine, forked from this child
    before any model is loaded. Rank 0 streams the job's events and result to the supervisor;
    the other ranks train their share silently (see :mod:`core.distributed`). A rank that fails
    fails the launch, which stops the others (no checkpoints under several processes)."""
    import uuid

    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=processes, run_id=f"b4g-{uuid.uuid4().hex[:8]}",
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, start_method="fork",
                          monitor_interval=0.5)
    try:
        elastic_launch(config, _rank_main)(recipe, conn, cancel)
    except BaseException as exc:  # noqa: BLE001 - a rank failed; rank 0 may already have said why
        _PipeReporter(conn)._send("error", message=f"a training process failed: {_rank_failure(exc)}")
    finally:
        conn.close()


def _rank_failure(exc: BaseException) -> str:
    """One line for a failed launch: the first failed rank and the last line of its error."""
    first = getattr(exc, "get_first_failure", None)
    if first is None:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    rank, failure = first()
    message = failure.message.get("message", "") if isinstance(failure.message, dict) else str(failure.message)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return f"rank {rank}: {lines[-1] if lines else f'exit code {failure.exitcode}'}"


def _rank_main(recipe: Recipe, conn: Any, cancel: Any) -> None:  # in each rank
    from torch.distributed.elastic.multiprocessing.api import SignalException

    from core.distributed import is_main_process

    if is_main_process():
        # Re-raised: the launcher stops the other ranks. A SignalException is the launcher stopping
        # this rank because another failed: the launcher reports that one.
        _run_rank(recipe, conn, cancel, None, reraise=True, silent=(SignalException,))
        return
    ctx = JobContext()
    _watch(cancel, ctx)
    recipe.run(ctx)


def _replay(event: dict[str, Any], ctx: JobContext) -> None:
    kind = event["kind"]
    if kind == "report":
        ctx.report(event["step"], **event["metrics"])
    elif kind == "progress":
        ctx.progress(event["done"], event["total"])
    elif kind == "log":
        ctx.log(event["message"])
    elif kind == "candidates":
        ctx.candidates(event["rows"])


def run_in_child(recipe: Recipe, ctx: JobContext, processes: int = 1) -> Any:
    """Run ``recipe`` in a spawned process (with ``processes`` > 1: that many data-parallel ranks,
    rank 0 reporting); returns its result, raises JobCancelled on Cancel and B4GError (one line) on
    failure, including a child that dies without a word."""
    mp = multiprocessing.get_context("spawn")
    receiver, sender = mp.Pipe(duplex=False)
    cancel = mp.Event()
    checkpoints = str(ctx.checkpoints) if ctx.checkpoints and processes == 1 else None
    # daemonic processes may not have children: the launcher's ranks are the child's children
    proc = mp.Process(target=_child_main, args=(recipe, sender, cancel, checkpoints, processes),
                      daemon=processes == 1, name=f"b4g-{recipe.target}")
    proc.start()
    sender.close()  # only the child writes; EOF once it exits
    final: dict[str, Any] | None = None
    try:
        while final is None:
            if ctx.cancelled.is_set():
                cancel.set()
            if not receiver.poll(POLL_SECONDS):
                if not proc.is_alive() and not receiver.poll(0):
                    break
                continue
            try:
                event = json.loads(receiver.recv_bytes())
            except EOFError:
                break
            if event["kind"] in ("result", "error", "cancelled"):
                final = event
            else:
                _replay(event, ctx)
    finally:
        proc.join(timeout=30)
        if proc.is_alive() and processes > 1:
            proc.terminate()  # the launcher passes SIGTERM on to its ranks (SIGKILL would orphan them)
            proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    if final is None:
        raise B4GError(f"the job's process died without a result (exit code {proc.exitcode}: "
                       f"{_exit_reason(proc.exitcode)})")
    if final["kind"] == "cancelled":
        raise JobCancelled()
    if final["kind"] == "error":
        raise B4GError(final["message"])
    return final["result"]


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}, e.g. out of memory"
        except ValueError:
            return "killed by a signal"
    return "crashed"
