"""What every ``b4g`` command shares: the session it records into, running a request through the one
job path, and printing its result (JSON or worded sections)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.cli.output import emit_json, emit_sections
from core.cli.progress import RichReporter
from core.errors import B4GError
from core.jobs import JobContext, execute


def session_store(args: argparse.Namespace) -> Any:
    """The session named by ``--session``, else the most recently used one (said on stderr)."""
    from core.store.catalog import current_or_new, open_session

    if args.session:
        return open_session(args.session)
    store = current_or_new()
    info = store.info()  # said on stderr because a silent default is how runs land in the wrong audit
    print(f"b4g: recording into session '{info['name']}' ({info['id']}), the most recently used; "
          f"--session chooses another", file=sys.stderr)
    return store


def run_request(request: Any, args: argparse.Namespace) -> Any:
    """Run a job request in process through the one job path, recorded in the session (the
    request's JSON is the run's config; what the job made is recorded when it finishes). Under
    ``accelerate launch`` only the main process records (:mod:`core.distributed`)."""
    from core.distributed import is_main_process

    store = session_store(args) if is_main_process() else None
    with RichReporter(request.KIND, quiet=args.json) as reporter:
        outcome = execute(request.job(in_child=False), JobContext([reporter]), store)
    if outcome.status != "finished":
        raise B4GError(outcome.error or outcome.status)
    return outcome.result


def emit_result(kind: str, result: dict[str, Any], args: argparse.Namespace) -> None:
    """``--json``: the result as recorded; otherwise its sections (core.sections)."""
    from core.sections import sections_for

    emit_json(result) if args.json else emit_sections(sections_for(kind, result))
