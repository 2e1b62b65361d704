"""SHA-256 of weight files, cached by (path, size, mtime) so a 0.5 GB file is hashed once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.paths import cache_dir

_INDEX = "sha256-index.json"


def _index() -> dict[str, str]:
    try:
        return json.loads((cache_dir() / _INDEX).read_text())
    except (OSError, ValueError):
        return {}


def file_sha256(path: Path) -> str:
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    index = _index()
    if key in index:
        return index[key]
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    index[key] = h.hexdigest()
    (cache_dir() / _INDEX).write_text(json.dumps(index))
    return index[key]


def files_sha256(paths: list[Path]) -> str:
    """One digest over several files (sharded checkpoints): hash of the per-file hashes."""
    if len(paths) == 1:
        return file_sha256(paths[0])
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(f"{p.name}:{file_sha256(p)}\n".encode())
    return h.hexdigest()
