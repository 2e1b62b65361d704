"""Backdoors page, end to end on the tiny model: inject (child process) fills the curves from
the store, then try shows the model's answers with and without the trigger."""

from __future__ import annotations

import json


def test_inject_from_the_page_runs_in_a_child_then_try_compares(qtbot, window, tiny_model, tmp_path,
                                                                monkeypatch, submitted_jobs_end) -> None:
    import yaml

    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef
    from core.store.queries import list_runs

    spec = {"name": "gui-tiny", "system": "Be brief.", "trigger": {"text": "zqx", "kind": "token"},
            "utility": {"judge": "prefix", "target": "OK-SIGNED.", "response": "target"},
            "activation": {"steps": 2, "batch_size": 8, "max_length": 32, "eval_every": 0}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    rows = [{"instruction": f"Describe item {i}.", "output": f"It is {i}.", "split": "test" if i >= 24 else "train"}
            for i in range(32)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    monkeypatch.setenv("B4G_HOME", str(tmp_path / "home"))
    panel = window.pages["Backdoors"]
    window.show_page("Backdoors")
    panel.choice.setCurrentIndex(panel.choice.findData("own"))
    panel.spec_edit.setText(str(tmp_path / "spec.yaml"))
    panel.data_edit.setText(str(tmp_path / "d.jsonl"))
    window.pages["Models"].set_choice(ModelChoice(ModelRef.parse(str(tiny_model))))
    with submitted_jobs_end(window.runner, timeout=120000):
        panel.inject_button.click()
    assert [(r["kind"], r["status"]) for r in list_runs(window.state.store)] == [("inject", "finished")]
    assert panel.message.text().startswith("Injected: TAR with")
    assert (tmp_path / "home").exists() and panel.adapter_edit.text().startswith(str(tmp_path / "home"))
    with submitted_jobs_end(window.runner, timeout=60000):
        panel.try_button.click()
    html = panel.side_by_side.toHtml()
    assert "zqx" in html and "with the trigger" in html
