"""Reports page: a preview that follows the session, exports off the UI thread, signing, one-line errors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import replay_session


def _key(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / "key.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    return path


def test_preview_follows_the_session_and_exports(qtbot, window, tmp_path) -> None:
    from core.report.integrity import verify_report

    page = window.pages["Reports"]
    window.state.set_session(replay_session(tmp_path / "recorded.b4g", "recorded <b>audit</b>"))
    window.show_page("Reports")
    qtbot.waitUntil(lambda: "Adversarial unlearning" in page.preview.toPlainText(), timeout=60000)
    text = page.preview.toPlainText()
    assert "Verdict" in text and "recorded <b>audit</b>" in text  # shown as text, never as markup
    page.sign_box.setChecked(True)
    page.key_edit.setText(str(_key(tmp_path)))
    with qtbot.waitSignal(page.exported, timeout=60000) as got:
        page.export("pdf", tmp_path / "r.pdf")
    assert Path(got.args[0]["path"]).read_bytes().startswith(b"%PDF-")
    assert verify_report(tmp_path / "r.pdf")["ok"] and "signed, key" in page.status.text()
    page.export("pdf", tmp_path / "r.pdf")  # exists, and no confirmation was given: refused, file kept
    qtbot.waitUntil(lambda: "exists" in page.status.text(), timeout=30000)
    assert verify_report(tmp_path / "r.pdf")["ok"]


def test_signing_without_a_key_is_one_line(qtbot, window, tmp_path) -> None:
    page = window.pages["Reports"]
    page.sign_box.setChecked(True)
    page.key_edit.setText("")
    page.export("html", tmp_path / "r.html")
    assert "choose the signing key" in page.status.text() and not (tmp_path / "r.html").exists()
    page.key_edit.setText(str(tmp_path / "missing.pem"))
    page.export("html", tmp_path / "r2.html")
    qtbot.waitUntil(lambda: "cannot read the signing key" in page.status.text(), timeout=30000)
    assert not (tmp_path / "r2.html").exists()  # a bad key writes nothing
