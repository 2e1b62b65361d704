"""Where the workbench keeps sessions and caches.

``B4G_HOME`` overrides the platform's user data directory; caches go to ``$B4G_HOME/cache``
when it is set, otherwise to the platform's user cache directory. ``B4G_CACHE`` overrides
the cache alone (tests use it to share the embedded model's converted copy).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

APP_NAME = "b4g-workbench"


def home_dir() -> Path:
    """Root of everything the workbench writes: sessions, settings, caches (when B4G_HOME is set)."""
    env = os.environ.get("B4G_HOME")
    path = Path(env).expanduser() if env else Path(user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Directory for derived, re-creatable files (converted model copies)."""
    if os.environ.get("B4G_CACHE"):
        path = Path(os.environ["B4G_CACHE"]).expanduser()
    elif os.environ.get("B4G_HOME"):
        path = home_dir() / "cache"
    else:
        path = Path(user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sessions_dir() -> Path:
    """Directory holding one SQLite file per audit session."""
    path = home_dir() / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path
