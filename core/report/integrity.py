"""Hashes and the detached ed25519 signature of a report (``cryptography``).

A signed report ``R`` gets ``R.sig`` beside it: JSON holding the report's sha256, the manifest of
input hashes, the signer's public key and an ed25519 signature over all three (canonical JSON).
Beside, not inside, so the report's bytes are exactly what was signed and any viewer shows it
unchanged. ``verify`` re-hashes the report, checks the signature and, for every manifest file
present on this machine, its hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from core.errors import B4GError

SIG_FORMAT = "b4g-report-signature/1"
SIG_SUFFIX = ".sig"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def path_digest(path: Path) -> str | None:
    """The digest a manifest entry holds: a file's sha256; a folder's (adapter, model) over its
    weight files, combined as :func:`core.models.fingerprint.files_sha256` does when recording."""
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir():
        return None
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    if not files:
        return None
    if len(files) == 1:
        return sha256_file(files[0])
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}:{sha256_file(p)}\n".encode())
    return h.hexdigest()


def _payload(report_sha256: str, manifest: list[dict[str, Any]], public_key: str) -> bytes:
    return json.dumps({"format": SIG_FORMAT, "report_sha256": report_sha256, "manifest": manifest,
                       "public_key": public_key}, sort_keys=True, separators=(",", ":")).encode()


def load_signing_key(key_path: Path) -> Any:
    """The ed25519 private key in a PEM file, or a one-line error (read before any report is written)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except OSError as exc:
        raise B4GError(f"cannot read the signing key {key_path}: {exc.strerror or exc}") from exc
    except (ValueError, TypeError) as exc:
        raise B4GError(f"{key_path} is not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise B4GError(f"{key_path} is not an ed25519 key (report signatures are ed25519)")
    return key


def fingerprint(public_key_b64: str) -> str:
    """A short, comparable name of a public key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def sign_report(report: Path, key: Any, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    """Write ``report.sig`` with ``key`` (from :func:`load_signing_key`) and return its content."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = base64.b64encode(raw).decode()
    digest = sha256_file(report)
    sig = {"format": SIG_FORMAT, "report": report.name, "report_sha256": digest, "manifest": manifest,
           "public_key": public, "key_fingerprint": fingerprint(public),
           "signature": base64.b64encode(key.sign(_payload(digest, manifest, public))).decode()}
    Path(str(report) + SIG_SUFFIX).write_text(json.dumps(sig, indent=1) + "\n", encoding="utf-8")
    return sig


def _read_sig(report: Path) -> dict[str, Any]:
    path = Path(str(report) + SIG_SUFFIX)
    if not report.is_file():
        raise B4GError(f"no report at {report}")
    try:
        sig = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise B4GError(f"{report} is not signed: no {path.name} beside it") from None
    except (OSError, ValueError) as exc:
        raise B4GError(f"cannot read the signature {path}: {exc}") from exc
    if not isinstance(sig, dict) or sig.get("format") != SIG_FORMAT:
        raise B4GError(f"{path} is not a B4G report signature")
    return sig


def verify_report(report: Path, expected_key: str | None = None) -> dict[str, Any]:
    """Check a report against its signature and the manifest's files that are present.

    ``ok`` is False with a one-line ``reason`` when the report changed, the signature does not
    hold, the key is not ``expected_key`` (a fingerprint or base64 key) or a present file changed.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = _read_sig(report)
    digest = sha256_file(report)
    out: dict[str, Any] = {"report": str(report), "report_sha256": digest, "key_fingerprint": sig.get("key_fingerprint"),
                           "files": []}
    if digest != sig.get("report_sha256"):
        return {**out, "ok": False, "reason": "the report changed after it was signed (its sha256 differs)"}
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
        key.verify(base64.b64decode(sig["signature"]), _payload(digest, sig["manifest"], sig["public_key"]))
    except (InvalidSignature, KeyError, ValueError):
        return {**out, "ok": False, "reason": "the signature does not hold for this report and manifest"}
    if expected_key and expected_key not in (sig["public_key"], fingerprint(sig["public_key"])):
        return {**out, "ok": False, "reason": f"signed by key {fingerprint(sig['public_key'])}, not the expected one"}
    out["files"] = [_check_file(e) for e in sig["manifest"]]
    changed = [f for f in out["files"] if f["status"] == "changed"]
    if changed:
        return {**out, "ok": False, "reason": f"{len(changed)} file(s) in the manifest changed, first {changed[0]['path']}"}
    return {**out, "ok": True, "reason": "signature holds"}


def _check_file(entry: dict[str, Any]) -> dict[str, Any]:
    actual = path_digest(Path(entry["path"]))
    status = "absent" if actual is None else ("ok" if actual == entry["sha256"] else "changed")
    return {**entry, "actual": actual, "status": status}
