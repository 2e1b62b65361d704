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
import re
from pathlib import Path
from typing import Any

from core.errors import B4GError

SIG_FORMAT = "b4g-report-signature/1"
SIG_SUFFIX = ".sig"


def sha256_file(path: Path) -> str:
    """Uncached on purpose (unlike core.models.fingerprint): verification must not trust a cache
    keyed on size and mtime, which a tamperer can restore."""
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


# Files beside the weights that decide what a model or adapter does: an adapter's config (its
# ``lora_alpha`` scales every update), the model's config, generation defaults, the tokenizer and
# the chat template (what the model is actually shown). A manifest without them signed weights
# whose behaviour could still be changed unnoticed.
BEHAVIOUR_FILES = ("adapter_config.json", "config.json", "generation_config.json", "tokenizer.json",
                   "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json",
                   "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json")


def with_behaviour_files(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The manifest with, after each folder's entry, an entry (hashed now) for every behaviour
    file in that folder, so ``verify`` names the one that changed."""
    out, seen = [], {e["path"] for e in manifest}
    for entry in manifest:
        out.append(entry)
        folder = Path(entry["path"])
        if not folder.is_dir():
            continue
        for name in BEHAVIOUR_FILES:
            file = folder / name
            if file.is_file() and str(file) not in seen:
                seen.add(str(file))
                kind = entry["kind"].removesuffix(" weights")
                out.append({"kind": f"{kind} file", "path": str(file), "sha256": sha256_file(file)})
    return out


def check_expected_key(text: str) -> str:
    """``--key``: a fingerprint (64 hex digits) or a base64 ed25519 public key, lower-cased for
    comparison; anything else is a one-line error, not a quiet 'signed by another key'."""
    key = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", key):
        return key.lower()
    try:
        if len(base64.b64decode(key, validate=True)) == 32:
            return key
    except ValueError:
        pass
    raise B4GError(f"--key {text!r} is not a key fingerprint (64 hex digits) or a base64 ed25519 public key; "
                   "'b4g report verify PATH' prints the signer's fingerprint")


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
    """The name of a public key to compare and pin: the sha256 (64 hex digits) of its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()


def signature_for(report_bytes: bytes, name: str, key: Any, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    """The content of ``REPORT.sig`` for these report bytes, signed with ``key`` (:func:`load_signing_key`)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = base64.b64encode(raw).decode()
    digest = hashlib.sha256(report_bytes).hexdigest()
    return {"format": SIG_FORMAT, "report": name, "report_sha256": digest, "manifest": manifest,
            "public_key": public, "key_fingerprint": fingerprint(public),
            "signature": base64.b64encode(key.sign(_payload(digest, manifest, public))).decode()}


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
    well_formed = (isinstance(sig, dict) and sig.get("format") == SIG_FORMAT
                   and all(isinstance(sig.get(k), str) for k in ("report_sha256", "public_key", "signature"))
                   and isinstance(sig.get("manifest"), list)
                   and all(isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("sha256"), str)
                           for e in sig["manifest"]))
    if not well_formed:
        raise B4GError(f"{path} is not a well-formed B4G report signature")
    return sig


def verify_report(report: Path, expected_key: str | None = None) -> dict[str, Any]:
    """Check a report against its signature and the manifest's files that are present.

    ``ok`` is False with a one-line ``reason`` when the report changed, the signature does not
    hold, the signer is not ``expected_key`` (its fingerprint or base64 key) or a present file
    changed. Without ``expected_key`` the signature proves the report is unchanged since *someone*
    signed it; who, only the fingerprint says, so the reason names it and says it was not pinned.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    expected_key = check_expected_key(expected_key) if expected_key else None
    sig = _read_sig(report)
    digest = sha256_file(report)
    out: dict[str, Any] = {"report": str(report), "report_sha256": digest, "files": [], "pinned": bool(expected_key)}
    if digest != sig["report_sha256"]:
        return {**out, "ok": False, "reason": "the report changed after it was signed (its sha256 differs)"}
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
        key.verify(base64.b64decode(sig["signature"]), _payload(digest, sig["manifest"], sig["public_key"]))
    except (InvalidSignature, ValueError, TypeError):
        return {**out, "ok": False, "reason": "the signature does not hold for this report and manifest"}
    fp = out["key_fingerprint"] = fingerprint(sig["public_key"])
    if expected_key and expected_key not in (sig["public_key"], fp):
        return {**out, "ok": False, "reason": f"signed by key {fp}, not by the expected one"}
    out["files"] = [_check_file(e) for e in sig["manifest"]]
    changed = [f for f in out["files"] if f["status"] == "changed"]
    if changed:
        return {**out, "ok": False, "reason": f"{len(changed)} file(s) in the manifest changed: {_names(changed)}"}
    present = sum(f["status"] == "ok" for f in out["files"])
    who = f"key {fp}" + ("" if expected_key else " (not pinned: pass --key FINGERPRINT to require this signer)")
    return {**out, "ok": True, "reason": f"signature holds, signed by {who}; {present} of {len(out['files'])} "
                                          "manifest files present here and unchanged"}


def _names(files: list[dict[str, Any]], limit: int = 4) -> str:
    """Which files changed, on one line: the first few paths, then how many more."""
    names = ", ".join(f["path"] for f in files[:limit])
    return names + (f" and {len(files) - limit} more" if len(files) > limit else "")


def _check_file(entry: dict[str, Any]) -> dict[str, Any]:
    actual = path_digest(Path(entry["path"]))
    status = "absent" if actual is None else ("ok" if actual == entry["sha256"] else "changed")
    return {**entry, "actual": actual, "status": status}
