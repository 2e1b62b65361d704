"""The self-awareness demo, end to end on the tiny model: every stage runs and lands in the
session, the side text follows, the buffer inspector tests what was recovered, and the Defenses
page takes over (no recovery is asserted: the tiny random model has no real self-awareness to
find; with nothing recovered, the demo says there is nothing to defend against)."""

from __future__ import annotations


def test_demo_runs_every_stage_on_the_tiny_model(qtbot, window, tiny_model, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("B4G_HOME", str(tmp_path / "home"))
    from core.store.queries import list_runs

    from app.panels.backdoors_panel import BackdoorsPanel
    from app.panels.inversion_panel import InversionPanel
    from core.invert.config import InvertConfig

    real_build, real_invert = BackdoorsPanel.inject_request, InversionPanel.build_request

    def small_build(self, out):  # seconds instead of minutes: fewer steps everywhere, same stages
        request = real_build(self, out)
        request.steps = 5
        return request

    def small_invert(self):
        request = real_invert(self)
        request.config = InvertConfig.from_dict({"reversal": {"max_steps": 3}, "grpo": {"steps": 2, "group": 4, "replay": 1},
                                                 "held_out_prompts": 4, "final_samples": 4})
        return request

    monkeypatch.setattr(BackdoorsPanel, "inject_request", small_build)
    monkeypatch.setattr(InversionPanel, "build_request", small_invert)
    from app.panels.defenses_panel import DefensesPanel

    real_unlearn = DefensesPanel.unlearn_request

    def small_unlearn(self):
        request = real_unlearn(self)
        request.settings.steps, request.settings.controls = 3, False
        return request

    monkeypatch.setattr(DefensesPanel, "unlearn_request", small_unlearn)
    from app.demo import DemoController
    from core.models.choice import ModelChoice
    from core.models.ref import ModelRef

    demo = DemoController(window)
    stages, ends = [], []
    demo.stage_changed.connect(stages.append)
    demo.finished.connect(lambda wall: ends.append(("finished", wall)))
    demo.failed.connect(lambda error: ends.append(("failed", error)))
    demo.start(ModelChoice(ModelRef.parse(str(tiny_model))))
    qtbot.waitUntil(lambda: bool(ends), timeout=600000)
    assert ends[0][0] == "finished", ends
    assert stages[:4] == ["build", "verify", "invert", "test"]
    assert stages[4:] in (["report"], ["nothing", "report"], ["unlearn", "guard", "done", "report"])
    kinds = [(r["kind"], r["status"]) for r in list_runs(window.state.store)]
    assert ("organism", "finished") in kinds and ("invert", "finished") in kinds
    assert "The recovered trigger" in demo.text.toPlainText() and demo.dock.isVisible()
    assert window.nav.currentRow() == 5  # it ends on the Reports page, with the session's report
    qtbot.waitUntil(lambda: "Verdict" in window.pages["Reports"].preview.toPlainText(), timeout=60000)
    assert not window.user_jobs_pending()  # the buffer test and the defenses are part of the demo
    if demo.inversion["recovered_trigger"]:  # the tiny model may recover nothing; when it does, it was tested
        assert "with the candidate" in window.pages["Replay buffer"].answers.toHtml()
    if "done" in stages:
        assert any((r["kind"], r["status"]) == ("unlearn", "finished") for r in list_runs(window.state.store))
        assert "Hardened" in demo.text.toPlainText()
