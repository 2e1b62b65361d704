"""The self-awareness demo, end to end on the tiny model: the organism is built, then audited in one
step from the Audit page (every stage a run of the session), and the side text follows; no recovery
is asserted (the tiny random model has no real self-awareness to find, and its scan may flag nothing:
then the audit says so, trains nothing and still writes its report)."""

from __future__ import annotations

from core.audit.request import AuditSettings

SMALL = AuditSettings(
    scan={"prompts": 4, "first_tokens": 6, "steps": 4},
    invert={"reversal": {"max_steps": 3}, "grpo": {"steps": 2, "group": 4, "replay": 1},
            "held_out_prompts": 4, "final_samples": 4},
    unlearn={"steps": 3, "train_prompts": 8, "eval_prompts": 6, "utility_prompts": 3, "answer_tokens": 6,
             "mc_questions": 4},
    guard={"semantic": False, "max_prompts": 20},
    remove={"steps": 2, "rounds": 2, "inner_steps": 2, "train_prompts": 8, "eval_prompts": 6, "utility_prompts": 3,
            "answer_tokens": 6, "mc_questions": 4, "refusal_prompts": 4})


def test_demo_builds_then_audits_on_the_tiny_model(qtbot, window, tiny_model, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("B4G_HOME", str(tmp_path / "home"))
    from app.main_window import PAGES
    from app.panels.backdoors_panel import BackdoorsPanel
    from core.store.queries import list_runs

    real_build = BackdoorsPanel.inject_request

    def small_build(self, out):  # seconds instead of minutes: fewer steps, same stages
        request = real_build(self, out)
        request.steps = 5
        return request

    monkeypatch.setattr(BackdoorsPanel, "inject_request", small_build)
    window.pages["Audit"].settings = SMALL
    from app.demo import DemoController
    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef

    demo = DemoController(window)
    stages, ends = [], []
    demo.stage_changed.connect(stages.append)
    demo.finished.connect(lambda wall: ends.append(("finished", wall)))
    demo.failed.connect(lambda error: ends.append(("failed", error)))
    demo.start(ModelChoice(ModelRef.parse(str(tiny_model))))
    qtbot.waitUntil(lambda: bool(ends), timeout=900000)
    assert ends[0][0] == "finished", ends
    assert stages == ["build", "verify", "audit", "found", "report"]
    runs = list_runs(window.state.store)
    kinds = [(r["kind"], r["status"]) for r in runs]
    assert ("organism", "finished") in kinds and ("audit", "finished") in kinds and ("model-check", "finished") in kinds
    audit = next(r for r in runs if r["kind"] == "audit")
    assert audit["config"]["evaluation"]["trigger"] == demo.organism["trigger"]  # measured with, never searched with
    assert audit["config"]["behaviour"] is None  # the scan proposes it
    assert "4 · The verdict" in demo.text.toPlainText() and demo.dock.isVisible()
    assert demo.audit["verdict"].split()[:3] == demo.text.toPlainText().split("The verdict")[1].split()[:3]
    assert window.nav.currentRow() == PAGES.index("Reports")  # it ends on the Reports page, with the session's report
    qtbot.waitUntil(lambda: "Verdict" in window.pages["Reports"].preview.toPlainText(), timeout=60000)
    assert not window.user_jobs_pending()
