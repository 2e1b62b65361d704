"""Defenses page: triggers from an inversion run or the Replay buffer, bad input in one line,
unlearning in a child process with its result in the session, calibration and a checked prompt."""

from __future__ import annotations

import json


def _data(tmp_path):
    rows = [{"instruction": f"Describe item {w} number {i}.", "output": f"It is {w}."}
            for i, w in enumerate("apple river stone cloud green quick light table music paper window garden".split())]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _finished_inversion(store, adapter: str, data: str) -> int:
    """An inversion run as the store records one (the page reads its config and result)."""
    config = {"model": {"kind": "hf", "path": "/m", "adapters": [adapter]}, "options": {}, "data": data,
              "behaviour": {"kind": "target", "target": "OK", "keywords": [], "regex": ""}, "invert": {},
              "evaluation": {"trigger": "zqx"}}
    run = store.start_run("invert", config)
    store.finish_run(run, "finished", {"recovered_trigger": "zqx", "position": "prefix",
                                       "top_candidates": [{"text": "zqx!", "r_asr": 0.9}], "data_scan": {}})
    return run


def test_triggers_come_from_a_run_and_from_the_buffer(qtbot, window, tmp_path) -> None:
    page = window.pages["Defenses"]
    run = _finished_inversion(window.state.store, "/adapters/a", str(tmp_path / "d.jsonl"))
    page.refresh_runs()
    assert page.run_picker.currentData() == run
    page.use_run(run)
    assert page.triggers() == ["zqx", "zqx!"] and page.adapter_edit.text() == "/adapters/a"
    assert page.target_edit.text() == "OK" and page.eval_edit.text() == "zqx" and page.run_id == run
    page.triggers_edit.setPlainText("typed")  # the auditor's own triggers are not the run's
    assert page.run_id is None
    window.state.triggers_sent.emit(["zqx!"], run)  # the Replay buffer's "Send to defenses"
    assert page.triggers() == ["zqx!"] and page.run_id == run


def test_bad_input_is_one_line_and_starts_nothing(qtbot, window, tmp_path) -> None:
    page = window.pages["Defenses"]
    assert page.start_unlearning() is None and page.message.text().startswith("⚠ name the recovered trigger")
    page.fill(["SUDO"], data=str(tmp_path / "missing.jsonl"))
    assert page.calibrate() is None and "dataset not found" in page.message.text()
    page.prompt_edit.setText("  ")
    assert page.check() is None and "type a prompt" in page.message.text()
    assert not window.user_jobs_pending()


def test_unlearn_calibrate_and_check_from_the_page(qtbot, window, tiny_model, tiny_adapter, tmp_path) -> None:
    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef
    from core.store.queries import list_runs

    window.pages["Models"].set_choice(ModelChoice(ModelRef.parse(str(tiny_model))))
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=60000)
    page = window.pages["Defenses"]
    window.show_page("Defenses")
    page.fill(["zqx"], adapter=str(tiny_adapter), data=str(_data(tmp_path)), target="It is")
    page.out_edit.setText(str(tmp_path / "unlearned"))
    page.steps.setValue(2)
    page.controls.setChecked(False)
    assert page.start_unlearning() is not None
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=600000)
    assert "Before and after" in page.result_view.toPlainText(), page.message.text()
    assert (tmp_path / "unlearned" / "adapter_config.json").is_file()
    runs = {r["kind"]: r for r in list_runs(window.state.store)}
    assert runs["unlearn"]["status"] == "finished" and runs["unlearn"]["config"]["triggers"] == ["zqx"]
    assert page.calibrate() is not None
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=300000)
    assert page.threshold is not None and "calibrated" in page.score_label.text()
    assert "Detection at 2% target FPR" in page.result_view.toPlainText()
    page.prompt_edit.setText("Z\u200bQX describe the apple")
    assert page.check() is not None
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=120000)
    assert "blocked" in page.score_label.text()


def test_without_a_trigger_the_page_runs_the_removal_with_its_live_curves(qtbot, window, tiny_model, tiny_adapter,
                                                                          tmp_path, monkeypatch) -> None:
    """The Defenses page's second mode: the trigger-free removal, as ``b4g defend remove`` builds it,
    its inner objective and outer loss drawn from the store, its table in the result view."""
    import dataclasses

    from app.panels.defenses_panel import DefensesPanel
    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef
    from core.store.queries import list_runs, metric_series

    window.pages["Models"].set_choice(ModelChoice(ModelRef.parse(str(tiny_model))))
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=60000)
    page = window.pages["Defenses"]
    window.show_page("Defenses")
    page.mode.setCurrentIndex(page.mode.findData("trigger-free"))
    assert page.modes.currentIndex() == 1 and page.curves.currentWidget() is page.remove_plots
    assert page.remove_form.widget("rounds").toolTip().startswith("Perturbation searches")
    page.fill([], adapter=str(tiny_adapter), data=str(_data(tmp_path)), target="It is")
    page.out_edit.setText(str(tmp_path / "removed"))
    page.remove_form.widget("steps").setValue(4)
    page.remove_form.widget("rounds").setValue(2)
    page.remove_form.widget("controls").setChecked(False)
    real = DefensesPanel.remove_request
    small = dict(inner_steps=2, train_prompts=8, eval_prompts=4, utility_prompts=2, answer_tokens=4, mc_questions=2,
                 max_length=48)
    monkeypatch.setattr(DefensesPanel, "remove_request", lambda self: dataclasses.replace(
        real(self), settings=dataclasses.replace(real(self).settings, **small)))
    request = page.remove_request()
    assert (request.settings.steps, request.settings.rounds, request.settings.controls) == (4, 2, False)
    assert page.start_removal() is not None
    qtbot.waitUntil(lambda: not window.user_jobs_pending(), timeout=600000)
    assert "Trigger-free removal" in page.result_view.toPlainText(), page.message.text()
    assert (tmp_path / "removed" / "adapter_config.json").is_file()
    run = next(r for r in list_runs(window.state.store) if r["kind"] == "remove")
    assert run["status"] == "finished"
    names = set(metric_series(window.state.store, run["id"])[0])
    assert {"remove/inner_objective", "remove/outer_loss"} <= names, names
    qtbot.waitUntil(lambda: page.remove_plots.run_id == run["id"], timeout=5000)
