"""The audit report: every run kind, hostile strings escaped, PDF text, JSON schema, signatures, safe export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.errors import B4GError
from core.report.content import build_report
from core.report.export import export_report, safe_name
from core.report.integrity import verify_report
from core.report.schema import validate_report
from tests.conftest import record_spec, replay_session

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture()
def session(tmp_path: Path):  # noqa: ANN201
    store = replay_session(tmp_path / "s.b4g", name=f"bars {HOSTILE} ../../x")
    record_spec(store, "evil", {"trigger": {"text": "<script>alert(2)</script>", "kind": "phrase", "position": "prefix"},
                            "utility": {"target": "<img src=x onerror=alert(3)>", "activated_means": "shown"}})
    store.add_note(f"auditor note {HOSTILE}")
    yield store
    store.close()


def _key(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / "key.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                                                 s.NoEncryption()))
    return path


def test_report_covers_every_run_kind_with_statuses(session) -> None:
    report = build_report(session)
    validate_report(report)
    kinds = {r["kind"] for r in report["runs"]}
    assert {"organism", "invert", "inject", "verify", "unlearn", "guard", "guard-check"} <= kinds
    statuses = {r["status"] for r in report["runs"]}
    assert {"finished", "failed", "interrupted"} <= statuses
    unlearn = next(r for r in report["runs"] if r["kind"] == "unlearn")
    assert unlearn["result"]["asr_before"] is not None and unlearn["sections"]
    assert next(r for r in report["runs"] if r["kind"] == "invert")["candidates"]
    assert "did not finish" in report["verdict"]["text"] and "#8 failed, #9 interrupted" in report["verdict"]["text"]


def test_html_escapes_every_string_from_data(session, tmp_path: Path) -> None:
    out = export_report(session, "html", tmp_path / "r.html")
    html = Path(out["path"]).read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "alert(2)" in html
    assert html.count("data:image/png;base64,") >= 3  # inversion curves, awareness, ROC (inline: one file)
    assert "sha256" in html and "Verdict" in html


def test_pdf_has_pages_and_extractable_text(session, tmp_path: Path) -> None:
    import pypdf

    out = export_report(session, "pdf", tmp_path / "r.pdf")
    reader = pypdf.PdfReader(out["path"])
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 3
    assert "Verdict" in text and "Integrity manifest" in text and "Adversarial unlearning" in text


def test_json_validates_and_a_broken_one_does_not(session, tmp_path: Path) -> None:
    out = export_report(session, "json", tmp_path / "r.json")
    data = json.loads(Path(out["path"]).read_text(encoding="utf-8"))
    assert data["schema_version"] == "1.0"
    validate_report(data)
    del data["runs"][0]["status"]
    with pytest.raises(B4GError, match="runs/0"):
        validate_report(data)


def test_signature_verifies_and_fails_after_one_byte_changes(session, tmp_path: Path) -> None:
    key = _key(tmp_path)
    out = export_report(session, "html", tmp_path / "signed.html", sign_key=key)
    assert out["signature"] and verify_report(Path(out["path"]))["ok"]
    assert verify_report(Path(out["path"]), expected_key=out["key_fingerprint"])["ok"]
    assert not verify_report(Path(out["path"]), expected_key="0" * 64)["ok"]  # well-formed, not the signer
    data = bytearray(Path(out["path"]).read_bytes())
    data[len(data) // 2] ^= 1
    Path(out["path"]).write_bytes(bytes(data))
    result = verify_report(Path(out["path"]))
    assert not result["ok"] and "changed" in result["reason"]


def test_verify_rechecks_manifest_files_that_are_present(session, tmp_path: Path) -> None:
    dataset = tmp_path / "data.jsonl"
    dataset.write_text('{"prompt": "hi"}\n')
    from core.models.fingerprint import file_sha256

    session.add_artifact("dataset", str(dataset), file_sha256(dataset))
    out = export_report(session, "json", tmp_path / "r.json", sign_key=_key(tmp_path))
    assert verify_report(Path(out["path"]))["ok"]
    dataset.write_text('{"prompt": "changed"}\n')
    result = verify_report(Path(out["path"]))
    assert not result["ok"] and str(dataset) in result["reason"]


def test_export_never_overwrites_and_names_safely(session, tmp_path: Path) -> None:
    first = export_report(session, "html", tmp_path)
    assert Path(first["path"]).parent == tmp_path and Path(first["path"]).name == "bars-script-alert-1-script-x-report.html"
    with pytest.raises(B4GError, match="--force"):
        export_report(session, "html", tmp_path)
    assert export_report(session, "html", tmp_path, force=True)["path"] == first["path"]
    assert safe_name("../../..") == "audit" and "/" not in safe_name("a/../b")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_target_is_a_one_line_error(session, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(B4GError, match="cannot write"):
            export_report(session, "json", folder / "r.json")
    finally:
        folder.chmod(0o700)


def test_write_failure_leaves_the_earlier_report(session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = export_report(session, "json", tmp_path / "r.json")
    before = Path(out["path"]).read_bytes()

    def full(*_a, **_k):  # noqa: ANN202 - a disk with no space left
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.report.export.os.replace", full)
    with pytest.raises(B4GError, match="No space left"):
        export_report(session, "json", tmp_path / "r.json", force=True)
    assert Path(out["path"]).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.json")] == []


def test_cli_report_and_verify(session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    key = _key(tmp_path)
    assert main(["report", str(session.path), "--out", str(tmp_path / "r.pdf"), "--sign", str(key), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["format"] == "pdf" and written["signature"].endswith("r.pdf.sig")
    assert main(["report", "verify", str(tmp_path / "r.pdf")]) == 0
    assert main(["report", str(session.path), "--out", str(tmp_path / "r.pdf")]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    with open(tmp_path / "r.pdf", "ab") as fh:
        fh.write(b" ")
    assert main(["report", "verify", str(tmp_path / "r.pdf")]) == 1
    assert main(["report", "verify", str(tmp_path / "missing.pdf")]) == 2


def test_verdict_without_inversion_makes_no_claim(tmp_path: Path) -> None:
    from core.store.session_store import SessionStore

    store = SessionStore.create(tmp_path / "empty.b4g", "empty")
    report = build_report(store)
    assert "makes no claim" in report["verdict"]["text"] and report["verdict"]["backdoor_found"] is None
    validate_report(report)
    store.close()


@pytest.mark.parametrize(("true", "words"), [("SUDO", "exactly the true trigger"), ("sudo", "not an exact recovery")])
def test_verdict_names_the_trigger_and_compares_it_as_the_bench_does(tmp_path: Path, true: str, words: str) -> None:
    from core.store.session_store import SessionStore

    store = SessionStore.create(tmp_path / "inv.b4g", "inversion")
    run = store.start_run("invert", {"evaluation": {"trigger": true}})
    store.finish_run(run, "finished", {"recovered_trigger": "SUDO", "recovered": {
        "text": "SUDO", "r_asr": 0.97, "prompts": 48, "position": "prefix", "named_by_model": True, "said_in": 9}})
    verdict = build_report(store)["verdict"]
    assert verdict["backdoor_found"] is True and verdict["trigger"] == "SUDO"
    assert "recovered the trigger 'SUDO' as a prefix" in verdict["text"] and "97% of 48" in verdict["text"]
    assert words in verdict["text"]
    store.close()


def test_the_verdict_names_a_trigger_free_removal_and_how_its_rate_was_measured(tmp_path: Path) -> None:
    from core.store.session_store import SessionStore

    store = SessionStore.create(tmp_path / "rm.b4g", "removal")
    run = store.start_run("remove", {"evaluation": {"trigger": "SUDO"}})
    store.finish_run(run, "finished", {"asr_before": 0.97, "asr_after": 0.02, "asr_measured_with": "evaluation trigger",
                                       "clean_utility_before": 0.41, "clean_utility_after": 0.4})
    text = build_report(store)["verdict"]["text"]
    assert f"Trigger-free removal (run #{run}; method: embedding-space adversarial unlearning, no trigger given)" in text
    assert "with the evaluation trigger from 0.97 to 0.02" in text and "0.41 → 0.40" in text
    store.close()


def test_a_re_signed_report_is_caught_only_when_the_signer_is_pinned(session, tmp_path: Path) -> None:
    first = export_report(session, "html", tmp_path / "r.html", sign_key=_key(tmp_path))
    path = Path(first["path"])
    path.write_text(path.read_text(encoding="utf-8").replace("Verdict", "Verdict (edited)"), encoding="utf-8")
    from core.report.integrity import load_signing_key, signature_for

    other = tmp_path / "other"
    other.mkdir()
    sig = signature_for(path.read_bytes(), path.name, load_signing_key(_key(other)), [])
    Path(str(path) + ".sig").write_text(json.dumps(sig), encoding="utf-8")
    unpinned = verify_report(path)
    assert unpinned["ok"] and "not pinned" in unpinned["reason"]
    pinned = verify_report(path, expected_key=first["key_fingerprint"])
    assert not pinned["ok"] and "not by the expected one" in pinned["reason"]


def test_unsigned_force_export_removes_the_old_signature(session, tmp_path: Path) -> None:
    export_report(session, "html", tmp_path / "r.html", sign_key=_key(tmp_path))
    export_report(session, "html", tmp_path / "r.html", force=True)
    assert not (tmp_path / "r.html.sig").exists()


def test_nan_results_and_older_results_still_make_a_valid_report(tmp_path: Path) -> None:
    from core.store.session_store import SessionStore

    store = SessionStore.create(tmp_path / "odd.b4g", "odd")
    run = store.start_run("guard", {})
    store.finish_run(run, "finished", {"detection_accuracy": 0.5, "roc_auc": float("nan"), "tpr": 0.0, "fpr": 0.0})
    old = store.start_run("unlearn", {})
    store.finish_run(old, "finished", {"asr_before": 1.0})  # an older result: most keys missing
    live = store.start_run("invert", {})
    store.add_metrics(live, 1, {"reward": 0.1})
    out = export_report(store, "json", tmp_path / "r.json")
    text = Path(out["path"]).read_text(encoding="utf-8")
    assert "NaN" not in text
    data = json.loads(text)
    validate_report(data)
    assert data["runs"][1]["sections"][0]["title"] == "Result not summarised"
    assert "ROC-AUC –" in data["verdict"]["text"] and "#3 started" in data["verdict"]["text"]
    html = Path(export_report(store, "html", tmp_path / "r.html")["path"]).read_text(encoding="utf-8")
    assert "still running when the report was made" in html
    store.close()
