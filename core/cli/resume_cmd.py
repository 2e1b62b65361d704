"""``b4g resume RUN``: continue a run that did not finish, from its last checkpoint.

The run's recorded config is the request it was started from (:func:`core.run_kinds.request_for_run`),
so the resumed job is the same job; its training stages pick up their checkpoints (every
``core.training.CHECKPOINT_EVERY`` steps) and the run's record continues under the same id.
"""

from __future__ import annotations

import argparse

from core.cli.common import emit_result, session_store
from core.cli.progress import RichReporter
from core.errors import B4GError
from core.jobs import JobContext, execute


def cmd_resume(args: argparse.Namespace) -> int:
    from core.run_kinds import request_for_run
    from core.store.queries import get_run

    store = session_store(args)
    run = get_run(store, args.run)  # a finished or live run is refused by the store's resume_run
    request = request_for_run(run["kind"], run["config"])
    with RichReporter(request.KIND, quiet=args.json) as reporter:
        outcome = execute(request.job(in_child=False), JobContext([reporter]), store, resume=int(args.run))
    if outcome.status != "finished":
        raise B4GError(outcome.error or outcome.status)
    emit_result(run["kind"], outcome.result, args)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint",
                       description="Continue a run that was interrupted (killed, cancelled or failed) from its "
                                   "last training checkpoint, recorded under the same run.")
    p.add_argument("run", type=int, metavar="RUN", help="the run's id ('b4g session show' lists them)")
    p.add_argument("--session", metavar="ID|PATH", help="the session holding the run (default: the most recently used)")
    p.set_defaults(func=cmd_resume)
