"""The Sessions page offers Resume for a training run that did not finish, and queues that run's own
request to continue under the same run id (what ``b4g resume`` does); finished runs cannot be resumed."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.panels.sessions_panel import SessionsPanel
from app.workbench_state import WorkbenchState
from core.backdoors.apps import get_app
from core.models.choice import ModelChoice
from core.requests import InjectRequest
from core.store.catalog import new_session


class _Runner:
    def __init__(self) -> None:
        self.submitted: list[tuple] = []

    def submit(self, job, recorder=None, cancellable=True, reason="", resume=None) -> int:  # noqa: ANN001
        self.submitted.append((job, recorder, resume))
        return len(self.submitted)


def test_resume_queues_the_runs_own_request(qtbot, app_settings, tmp_path) -> None:
    store = new_session("resume")
    config = InjectRequest(ModelChoice(), get_app("identity").spec(), str(tmp_path / "data.jsonl"),
                           str(tmp_path / "out")).to_json()
    done = store.start_run("inject", config, 0)
    store.finish_run(done, "finished", {})
    stopped = store.start_run("inject", config, 0)
    store.add_metrics(stopped, 1, {"loss": 2.0})
    store.finish_run(stopped, "cancelled")
    runner = _Runner()
    panel = SessionsPanel(WorkbenchState(store), runner)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()
    assert not panel.resume_button.isEnabled()  # nothing selected yet

    panel.runs.selectRow(1)  # newest first: row 1 is the finished run
    assert panel.selected_run()["id"] == done and not panel.resume_button.isEnabled()
    panel.runs.selectRow(0)
    assert panel.selected_run()["id"] == stopped and panel.resume_button.isEnabled()
    qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    job, recorder, resume = runner.submitted[-1]
    assert resume == stopped and recorder is store and job.kind == "inject" and job.config == config
    assert "queued to resume" in panel.message.text()
    panel.refresh()  # the poll keeps the selection
    assert panel.selected_run()["id"] == stopped
    panel.grab().save(str(tmp_path / "sessions.png"))
