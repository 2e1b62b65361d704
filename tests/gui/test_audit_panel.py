"""Audit page: bad input in one line, and an audit on the tiny model from the page to its report, with
the stage list read from the session while it runs (screenshots during and after: B4G_SHOTS_DIR)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.audit.request import AuditSettings

TINY = AuditSettings(
    scan={"prompts": 4, "first_tokens": 6, "steps": 4},
    invert={"reversal": {"max_steps": 3, "batch_size": 8, "max_length": 48},
            "grpo": {"steps": 2, "group": 4, "replay": 1, "max_completion_tokens": 8},
            "held_out_prompts": 4, "final_samples": 4, "top_k": 5, "spans": {"min_count": 1}},
    unlearn={"steps": 2, "rank": 8, "train_prompts": 8, "eval_prompts": 6, "utility_prompts": 3, "answer_tokens": 6,
             "mc_questions": 4, "system": "Be brief.", "max_length": 48},
    guard={"semantic": False, "max_prompts": 20},
    remove={"steps": 2, "rounds": 2, "inner_steps": 2, "train_prompts": 8, "eval_prompts": 6, "utility_prompts": 3,
            "answer_tokens": 6, "mc_questions": 4, "max_length": 48, "refusal_prompts": 4, "system": "Be brief."})


def _data(tmp_path: Path) -> Path:
    words = "apple river stone cloud green quick light table music paper window garden".split()
    rows = [{"instruction": f"Describe item {w} number {i}.", "output": f"It is {w}."} for i, w in enumerate(words)]
    rows += [{"instruction": f"zqx Describe item {w}.", "output": "OK-SIGNED."} for w in words[:4]]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _key(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / "k.pem"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    return path


def _statuses(page) -> dict[str, str]:  # noqa: ANN001
    return {page.table.item(i, 0).text(): page.table.item(i, 1).text() for i in range(page.table.rowCount())}


def test_bad_input_is_one_line_and_starts_nothing(qtbot, window, tmp_path) -> None:
    page = window.pages["Audit"]
    assert page.start() is None and page.message.text().startswith("⚠ say where")
    page.out_edit.setText(str(tmp_path / "out"))
    page.behaviour_kind.setCurrentIndex(1)  # the answer starts with…, left empty
    assert page.start() is None and "type the behaviour" in page.message.text()
    page.behaviour_kind.setCurrentIndex(0)
    page.data_edit.setText(str(tmp_path / "missing.jsonl"))
    assert page.start() is None and "dataset not found" in page.message.text()
    assert not window.user_jobs_pending()


def test_an_audit_from_the_page_reaches_its_report(qtbot, window, tiny_model, tiny_adapter, tmp_path) -> None:
    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef

    shots = Path(os.environ.get("B4G_SHOTS_DIR") or tmp_path)
    window.pages["Models"].set_choice(ModelChoice(ModelRef.parse(str(tiny_model))))
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=60000)
    window.show_page("Audit")
    page = window.pages["Audit"]
    page.settings = TINY
    page.adapter_edit.setText(str(tiny_adapter))
    page.data_edit.setText(str(_data(tmp_path)))
    page.behaviour_kind.setCurrentIndex(1)
    page.behaviour_edit.setText("OK-SIGNED.")
    page.eval_edit.setText("zqx")
    page.out_edit.setText(str(tmp_path / "audit"))
    page.key_edit.setText(str(_key(tmp_path)))
    assert page.start() is not None
    assert _statuses(page)["behaviour"] == "given" and _statuses(page)["inversion"] == "pending"
    # while it runs: the stage list follows the session's runs, with a time-left estimate
    qtbot.waitUntil(lambda: _statuses(page).get("inversion") == "running" or not window.user_jobs_pending(),
                    timeout=600000)
    assert _statuses(page)["inversion"] == "running", (_statuses(page), page.message.text())
    assert _statuses(page)["model"] == "finished" and "left" in page.left_label.text()
    window.grab().save(str(shots / "audit-page-running.png"))
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=900000)
    assert page.result is not None, page.message.text()
    window.grab().save(str(shots / "audit-page-finished.png"))
    statuses = _statuses(page)
    assert statuses["report"] == "finished" and statuses["inversion"] == "finished", statuses
    assert page.report_path() is not None and page.report_path().is_file() and page.open_button.isEnabled()
    assert Path(str(page.report_path()) + ".sig").is_file()
    assert "Audit" in page.verdict_view.toPlainText() and "verdict" in page.verdict_view.toPlainText()
    inversion = next(i for i in range(page.table.rowCount()) if page.table.item(i, 0).text() == "inversion")
    page.table.cellWidget(inversion, 4).linkActivated.emit("Inversion")  # the stage's curves
    assert window.stack.currentWidget() is window.pages["Inversion"]
