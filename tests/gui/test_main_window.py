"""The window: navigation, Models panel load + chat on a tiny model, errors, sessions, closing."""

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from app.main_window import PAGES, MainWindow
from core.store.queries import list_runs


def _load_tiny(qtbot, window, folder: Path) -> None:
    panel = window.pages["Models"]
    panel.source.setCurrentIndex(panel.source.findData("hf"))
    panel.path.setText(str(folder))
    panel.request_load()
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=60000)


def test_every_page_is_in_the_navigation_and_reachable(window) -> None:
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == PAGES
    for name in ("Models", "Backdoors", "Inversion", "Replay buffer", "Defenses", "Reports", "Sessions"):
        window.show_page(name)
        assert window.stack.currentWidget() is window.pages[name]
    assert "gui test" in window.windowTitle()


def test_models_page_leads_to_the_audit(window) -> None:
    window.show_page("Models")
    window.pages["Models"].audit_link.linkActivated.emit("Audit")
    assert window.stack.currentWidget() is window.pages["Audit"]


def test_load_tiny_model_shows_footprint_and_chat_answers(qtbot, window, tiny_model) -> None:
    _load_tiny(qtbot, window, tiny_model)
    panel = window.pages["Models"]
    assert "M parameters" in panel.info.text() and "footprint" in panel.info.text()
    assert panel.chat.send_button.isEnabled()
    panel.chat.max_tokens.setValue(4)
    panel.chat.input.setText("hello")
    panel.chat._submit()
    qtbot.waitUntil(lambda: "Model:" in panel.chat.transcript.toPlainText(), timeout=30000)
    kinds = [r["kind"] for r in list_runs(window.state.store)]
    assert kinds == ["load-model", "chat"]
    assert window.state.model.record_id is not None


def test_memory_estimate_appears_before_loading(qtbot, window, tiny_model) -> None:
    panel = window.pages["Models"]
    panel.source.setCurrentIndex(panel.source.findData("hf"))
    panel.path.setText(str(tiny_model))
    panel.request_estimate()
    qtbot.waitUntil(lambda: "MiB" in panel.estimate_label.text(), timeout=30000)


def test_bad_model_path_gives_one_line_error_and_window_lives(qtbot, window, tmp_path) -> None:
    panel = window.pages["Models"]
    panel.source.setCurrentIndex(panel.source.findData("hf"))
    panel.path.setText(str(tmp_path / "missing"))
    panel.request_load()
    qtbot.waitUntil(lambda: panel.error_label.text() != "", timeout=30000)
    assert panel.error_label.text().startswith("model folder not found") and "\n" not in panel.error_label.text()
    assert panel.load_button.isEnabled() and window.isVisible()
    assert list_runs(window.state.store)[0]["status"] == "failed"


def test_cancel_is_disabled_with_a_reason_while_loading(qtbot, window, tiny_model) -> None:
    panel = window.pages["Models"]
    panel.source.setCurrentIndex(panel.source.findData("hf"))
    panel.path.setText(str(tiny_model))
    panel.request_load()
    if window.runner.current() and window.runner.current().job.kind == "load-model":
        assert not window.job_bar.cancel_button.isEnabled()
        assert "cannot be interrupted" in window.job_bar.cancel_button.toolTip()
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=60000)


def test_new_session_save_as_and_reopen_restore_runs(qtbot, window, tiny_model, tmp_path) -> None:
    _load_tiny(qtbot, window, tiny_model)
    window.save_session_as(str(tmp_path / "copy.b4g"), "copy")
    assert window.windowTitle().startswith("copy")
    assert [r["kind"] for r in list_runs(window.state.store)] == ["load-model"]
    window.new_session("fresh")
    assert window.windowTitle().startswith("fresh") and list_runs(window.state.store) == []
    window.open_session(str(tmp_path / "copy.b4g"))
    sessions = window.pages["Sessions"]
    window.show_page("Sessions")
    sessions.refresh()
    assert sessions.runs.rowCount() == 1 and sessions.runs.item(0, 1).text() == "load-model"


def test_second_window_on_the_same_session_reads_the_same_runs(qtbot, window, tiny_model) -> None:
    from core.store.session_store import SessionStore

    _load_tiny(qtbot, window, tiny_model)
    other = MainWindow(SessionStore(window.state.store.path))
    qtbot.addWidget(other)
    other.show_page("Sessions")
    other.pages["Sessions"].refresh()
    assert other.pages["Sessions"].runs.rowCount() == 1
    other.runner.shutdown()


def test_closing_while_a_job_runs_asks_then_cancels_cleanly(qtbot, window, monkeypatch) -> None:
    import threading

    from core.jobs import Job

    started = threading.Event()

    def forever(ctx):
        started.set()
        while True:
            ctx.raise_if_cancelled()
            ctx.cancelled.wait(0.01)

    window.runner.submit(Job("long", forever), recorder=window.state.store)
    qtbot.waitUntil(started.is_set, timeout=10000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.close()
    assert window.isVisible() and window.runner.is_busy()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.runner.cancelled, timeout=10000):
        window.close()
    assert not window.isVisible() and not window.runner.is_busy()
    assert list_runs(window.state.store)[-1]["status"] == "cancelled"


def test_without_a_display_make_run_explains_xvfb(monkeypatch, capsys) -> None:
    from app import main as app_main

    monkeypatch.setattr(app_main.sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert app_main.main(["b4g-workbench"]) == 2
    assert "xvfb-run" in capsys.readouterr().err


def test_dark_and_light_styles_load(app_settings) -> None:
    from app.style import apply_style, stylesheet

    assert "navigation" in stylesheet("dark") and "navigation" in stylesheet("light")
    assert apply_style(app_settings, "dark") == "dark"
    assert "#1e222a" in app_settings.styleSheet()
    apply_style(app_settings, "light")


def test_reopening_a_session_restores_an_interrupted_run_with_its_curves_and_buffer(qtbot, window, tmp_path) -> None:
    import subprocess
    import sys

    from core.store.catalog import new_session
    from core.store.schema import Run

    store = new_session("left behind", directory=tmp_path)
    run = store.start_run("invert", {"method": "full"})
    for step in range(1, 9):
        store.add_metrics(run, step, {"reward": step / 8, "rewards/asr/best": 0.5})
    store.upsert_candidates(run, [{"text": f"cand {i}", "reward": i / 10, "r_asr": 0.5, "parts": {},
                                   "first_step": 1, "last_step": 2, "times_replayed": 0, "origin": "policy"}
                                  for i in range(10)])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with store.transaction() as s:  # the process that wrote the run is gone (a crash, a power cut)
        s.get(Run, run).pid = int(dead.stdout)
    window.open_session(str(store.path))
    inversion, buffer = window.pages["Inversion"], window.pages["Replay buffer"]
    assert inversion.run_picker.currentData() == run and "interrupted" in inversion.run_picker.currentText()
    curve = inversion.plots.curves["reward"]
    qtbot.waitUntil(lambda: curve.xData is not None and len(curve.xData) == 8, timeout=3000)
    assert buffer.run_picker.currentData() == run and "interrupted" in buffer.run_picker.currentText()
    assert buffer.model.total == 10
