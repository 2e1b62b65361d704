"""The one way to write a report, shared by ``b4g report`` and the Reports page.

Never overwrites unless asked, names files from a sanitised session name, writes through a
temporary file in the target folder (a full disk or a read-only folder gives a one-line error and
leaves any earlier report intact), and records the report as an artifact of the session.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from core.errors import B4GError
from core.report.content import build_report
from core.report.integrity import SIG_SUFFIX, load_signing_key, sha256_file, sign_report
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

        return render_html(report).encode("utf-8")
    if fmt == "pdf":
        from core.report.pdf import render_pdf

        return render_pdf(report)
    if fmt == "json":
        from core.report.schema import validate_report

        validate_report(report)
        return (json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    raise B4GError(f"unknown report format '{fmt}' (choose one of {', '.join(FORMATS)})")


def target_path(store: SessionStore, fmt: str, out: Path | None, force: bool) -> Path:
    """Where the report goes; a folder gets the default name; an existing file needs ``force``."""
    if fmt not in FORMATS:
        raise B4GError(f"unknown report format '{fmt}' (choose one of {', '.join(FORMATS)})")
    out = Path(out).expanduser() if out else Path.cwd()
    if out.is_dir():
        out = default_path(store.info().get("name", ""), fmt, out)
    if not out.parent.is_dir():
        raise B4GError(f"cannot write {out}: the folder {out.parent} does not exist")
    if out.exists() and not force:
        raise B4GError(f"{out} exists; pass --force to overwrite it")
    return out


def write_bytes(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a failure never leaves half a report."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise B4GError(f"cannot write {path}: {exc.strerror or exc}") from exc


def export_report(store: SessionStore, fmt: str, out: Path | None = None, force: bool = False,
                  sign_key: Path | None = None) -> dict[str, Any]:
    """Build, render and write one report (optionally signed); returns where it went and its hash."""
    path = target_path(store, fmt, out, force)
    sig_path = Path(str(path) + SIG_SUFFIX)
    if sign_key and sig_path.exists() and not force:
        raise B4GError(f"{sig_path} exists; pass --force to overwrite it")
    key = load_signing_key(Path(sign_key).expanduser()) if sign_key else None  # a bad key writes nothing
    report = build_report(store)
    write_bytes(path, render(report, fmt))
    signed = sign_report(path, key, report["manifest"]) if key else None
    digest = sha256_file(path)
    try:
        store.add_artifact("report", str(path), digest)
    except Exception:  # noqa: BLE001 - a read-only session file still yields its report
        pass
    return {"path": str(path), "format": fmt, "sha256": digest, "bytes": path.stat().st_size,
            "signature": str(sig_path) if signed else None,
            "key_fingerprint": signed["key_fingerprint"] if signed else None,
            "runs": len(report["runs"]), "verdict": report["verdict"]["text"]}
