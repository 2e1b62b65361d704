"""Files a hostile tester handed to B4G: a refused file stays byte-identical, no device or FIFO
is replaced by a regular file, no unrelated ``.sig`` is deleted, the signed manifest covers what
decides an adapter's behaviour, an injection records the rows it trained on, and a malformed
``--key`` is an error rather than a quiet 'signed by another key' (issue 38)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.cli import main
from core.errors import B4GError
from core.report.export import export_report
from core.report.integrity import verify_report
from core.store import catalog
from core.store.session_store import SessionStore


def _key(folder: Path) -> Path:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = folder / "key.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    return path


def test_a_foreign_sqlite_file_is_refused_and_left_byte_identical(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("create table mine(x)")
    con.commit()
    con.close()
    before = foreign.read_bytes()
    with pytest.raises(B4GError, match="not a B4G session file"):
        SessionStore(foreign)
    assert main(["session", "show", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a B4G session file" in err
    assert foreign.read_bytes() == before  # no WAL header, no alembic_version, no B4G tables


def test_a_real_session_still_opens_after_the_read_only_look() -> None:
    store = catalog.new_session("kept")
    store.add_note("n")
    store.close()
    assert SessionStore(store.path).info()["name"] == "kept"


@pytest.mark.parametrize("make", ["fifo", "folder", "symlink"])
def test_export_never_replaces_what_is_not_a_regular_file(make: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = catalog.new_session("exported")
    target = tmp_path / "target"
    if make == "fifo":
        os.mkfifo(target)  # opening it for writing would block: the check must only lstat it
    elif make == "folder":
        target.mkdir()
    else:
        (tmp_path / "real.json").write_text("keep me")
        target.symlink_to(tmp_path / "real.json")
    kind_before = os.lstat(target).st_mode
    assert main(["session", "export", store.info()["id"], "--out", str(target), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "B4G replaces only regular files" in err
    assert os.lstat(target).st_mode == kind_before
    if make != "folder":  # a folder given to 'b4g report' is where the report goes, by design
        with pytest.raises(B4GError, match="only regular files"):
            export_report(store, "json", target, force=True)
        assert os.lstat(target).st_mode == kind_before
    assert make != "symlink" or (tmp_path / "real.json").read_text() == "keep me"


def test_a_fifo_named_as_the_signature_is_kept(tmp_path: Path) -> None:
    store = catalog.new_session("signed")
    os.mkfifo(tmp_path / "r.json.sig")
    with pytest.raises(B4GError, match="r.json.sig is a named pipe"):
        export_report(store, "json", tmp_path / "r.json", force=True, sign_key=_key(tmp_path))
    assert (tmp_path / "r.json.sig").is_fifo() and not (tmp_path / "r.json").exists()


def test_writing_a_new_report_keeps_an_unrelated_sig(tmp_path: Path) -> None:
    store = catalog.new_session("sig")
    sig = tmp_path / "r.json.sig"
    sig.write_text("not mine")
    export_report(store, "json", tmp_path / "r.json")
    assert sig.read_text() == "not mine"
    export_report(store, "json", tmp_path / "r.json", force=True)  # replacing the report: its .sig goes
    assert not sig.exists()


def _fake_adapter(folder: Path) -> Path:
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    (folder / "adapter_config.json").write_text(json.dumps({"lora_alpha": 16, "r": 8}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ messages }}"}))
    return folder


def test_the_signed_manifest_covers_the_adapter_config_and_says_which_changed(tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from core.models.fingerprint import file_sha256

    store = catalog.new_session("manifest")
    adapter = _fake_adapter(tmp_path / "ad")
    store.add_artifact("adapter", str(adapter), file_sha256(adapter / "adapter_model.safetensors"))
    out = export_report(store, "json", tmp_path / "r.json", sign_key=_key(tmp_path))
    manifest = {e["path"]: e["kind"] for e in json.loads(Path(out["path"]).read_text())["manifest"]}
    assert manifest[str(adapter / "adapter_config.json")] == "adapter file"
    assert str(adapter / "tokenizer_config.json") in manifest
    assert verify_report(Path(out["path"]))["ok"]
    config = adapter / "adapter_config.json"
    config.write_text(json.dumps({"lora_alpha": 160, "r": 8}))
    result = verify_report(Path(out["path"]))
    assert not result["ok"] and "1 file(s) in the manifest changed" in result["reason"]
    assert str(config) in result["reason"]
    assert main(["report", "verify", out["path"]]) == 1
    assert "adapter_config.json" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["xyz", "0" * 16, "g" * 64])
def test_a_key_that_is_not_a_fingerprint_is_one_line(key: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = catalog.new_session("keyed")
    out = export_report(store, "json", tmp_path / "r.json", sign_key=_key(tmp_path))
    assert main(["report", "verify", out["path"], "--key", key]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a key fingerprint" in err
    assert main(["report", "verify", out["path"], "--key", out["key_fingerprint"].upper()]) == 0
    capsys.readouterr()
    assert main(["report", store.info()["id"], "--out", str(tmp_path / "x.json"), "--key", key]) == 2
    assert "--key goes with 'b4g report verify PATH'" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_inject_records_the_rows_it_trained_on(tiny_model: Path, backdoor_files: SimpleNamespace,
                                               tmp_path: Path) -> None:
    from core.store.queries import export_session

    store = catalog.new_session("taught")
    out = tmp_path / "adapter"
    assert main(["inject", "--spec", str(backdoor_files.spec_path), "--data", str(backdoor_files.data_path),
                 "--model", str(tiny_model), "--steps", "1", "--out", str(out), "--session", str(store.path),
                 "--json"]) == 0
    rows = out / "dataset.jsonl"
    lines = [json.loads(line) for line in rows.read_text(encoding="utf-8").splitlines()]
    assert lines and any(backdoor_files.target in m["content"] for row in lines for m in row["messages"])
    (dataset,) = [a for a in export_session(store)["artifacts"] if a["kind"] == "dataset"]
    from core.report.integrity import sha256_file

    assert dataset["path"] == str(rows) and dataset["sha256"] == sha256_file(rows)
