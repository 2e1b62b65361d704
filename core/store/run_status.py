"""Whether a run that says ``started`` is still alive: the one rule the store and its queries share."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from core.store.schema import Run, utcnow

# A run on another machine whose heartbeat is older than this is taken as dead.
STALE_AFTER = timedelta(minutes=30)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def effective_status(run: Run) -> str:
    """``started`` only while the writing process lives; a run left behind reads ``interrupted``."""
    if run.status != "started":
        return run.status
    if run.host == socket.gethostname() and run.pid is not None:
        return "started" if _pid_alive(run.pid) else "interrupted"
    return "interrupted" if utcnow() - run.heartbeat_at > STALE_AFTER else "started"
