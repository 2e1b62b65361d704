"""The one way to write a report, shared by ``b4g report`` and the Reports page.

Never overwrites unless asked, never replaces anything but a regular file (a device, a FIFO, a
link), removes a ``.sig`` only with the report it signs, names files from a sanitised session name,
writes through a temporary file in the target folder (a full disk or a read-only folder gives a
one-line error and leaves any earlier report intact), and records the report as an artifact of the session.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from core.errors import B4GError
from core.report.content import build_report
from core.report.integrity import SIG_SUFFIX, load_signing_key, signature_for
from core.store.session_store import SessionStore

FORMATS = ("html", "pdf", "json")


def safe_name(name: str, limit: int = 80) -> str:
    """A file name from a session name: letters, digits, ``._-`` only, no leading dot, never empty,
    so ``../../x`` or ``<script>`` cannot steer where a report lands."""
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "-", name)).strip("-.")[:limit].strip("-.")
    return cleaned or "audit"


def default_path(session_name: str, fmt: str, folder: Path) -> Path:
    return folder / f"{safe_name(session_name)}-report.{fmt}"


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "html":
        from core.report.html import render_html

        return render_html(report).encode("utf-8", "backslashreplace")  # a lone surrogate stays visible
    if fmt == "pdf":
        from core.report.pdf import render_pdf

        return render_pdf(report)
    if fmt == "json":
        from core.report.schema import validate_report

        clean = finite(report)
        validate_report(clean)
        return (json.dumps(clean, indent=1, ensure_ascii=False, default=str, allow_nan=False) + "\n").encode("utf-8", "backslashreplace")
    raise B4GError(f"unknown report format '{fmt}' (choose one of {', '.join(FORMATS)})")


def finite(value: Any) -> Any:
    """NaN and infinities as null: JSON has no NaN (an empty set's ROC-AUC is one)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def target_path(store: SessionStore, fmt: str, out: Path | None, force: bool) -> Path:
    """Where the report goes; a folder gets the default name; an existing file needs ``force``."""
    if fmt not in FORMATS:
        raise B4GError(f"unknown report format '{fmt}' (choose one of {', '.join(FORMATS)})")
    out = Path(out).expanduser() if out else Path.cwd()
    if out.is_dir():
        out = default_path(store.info().get("name", ""), fmt, out)
    check_target(out, force)
    return out


def check_target(out: Path, force: bool) -> None:
    """A file B4G may write: in an existing folder, new, or (with ``force``) a regular file."""
    if not out.parent.is_dir():
        raise B4GError(f"cannot write {out}: the folder {out.parent} does not exist")
    check_regular(out)
    if os.path.lexists(out) and not force:
        raise B4GError(f"{out} exists; pass --force to overwrite it")


# What a path is, for the one-line refusal (lstat: a link is judged itself, not what it points to).
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def check_regular(path: Path) -> None:
    """Refuse to replace anything but a regular file, ``--force`` or not: renaming over ``/dev/full``
    or a FIFO swapped it for a plain file. ``lstat`` never opens it, so a FIFO cannot block this."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise B4GError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise B4GError(f"{path} is {kind}: B4G replaces only regular files (choose another path)")


def write_files(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary beside it, then rename them all: a full disk or a read-only
    folder leaves the earlier files as they were, never a new report beside an old signature."""
    temps: dict[Path, str] = {}
    mode = 0o666 & ~_umask()
    try:
        for path, data in files.items():
            fd, temps[path] = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(temps[path], mode)  # mkstemp makes 0600; a report is meant to be read by others
        for path, tmp in temps.items():
            os.replace(tmp, path)
    except OSError as exc:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
        failed = exc.filename or next(iter(files))
        raise B4GError(f"cannot write {failed}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export_report(store: SessionStore, fmt: str, out: Path | None = None, force: bool = False,
                  sign_key: Path | None = None) -> dict[str, Any]:
    """Build, render and write one report (optionally signed); returns where it went and its hash."""
    path = target_path(store, fmt, out, force)
    sig_path = Path(str(path) + SIG_SUFFIX)
    replacing = path.exists()  # only then is a .sig beside it that report's, to replace or remove
    if sign_key or replacing:
        check_regular(sig_path)
    if sign_key and sig_path.exists() and not force:
        raise B4GError(f"{sig_path} exists; pass --force to overwrite it")
    key = load_signing_key(Path(sign_key).expanduser()) if sign_key else None  # a bad key writes nothing
    report = build_report(store)
    data = render(report, fmt)
    files = {path: data}
    signed = signature_for(data, path.name, key, report["manifest"]) if key else None
    if signed:
        files[sig_path] = (json.dumps(signed, indent=1) + "\n").encode("utf-8")
    write_files(files)
    if not signed and replacing and sig_path.exists():
        sig_path.unlink()  # the signature of the report this one replaced would now fail to verify
    digest = hashlib.sha256(data).hexdigest()
    try:
        store.add_artifact("report", str(path), digest)
    except Exception:  # noqa: BLE001 - a read-only session file still yields its report
        pass
    return {"path": str(path), "format": fmt, "sha256": digest, "bytes": len(data),
            "signature": str(sig_path) if signed else None,
            "key_fingerprint": signed["key_fingerprint"] if signed else None,
            "runs": len(report["runs"]), "verdict": report["verdict"]["text"]}
