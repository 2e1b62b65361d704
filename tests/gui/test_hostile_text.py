"""Hostile text (a session name, paths, triggers, model output, log lines) shows as typed on every
page: no label, tooltip, dialog or text view renders it as HTML (issue 38, item 11)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QMessageBox, QTextBrowser, QWidget

from app.main_window import PAGES, MainWindow
from core.errors import B4GError
from core.jobs import Job
from tests.conftest import RECORDED_RUNS, replay_session

HOSTILE = "<img src=x onerror=alert(1)> <b>UI</b>"
TAG = "<img src=x"


def _rich(text: str, fmt: Qt.TextFormat) -> bool:
    """Whether Qt draws ``text`` as HTML in a widget with format ``fmt`` (labels, tooltips, boxes)."""
    return fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text))


def _leaks(window: MainWindow) -> list[str]:
    """Every place in the window where the hostile markup would be drawn as markup."""
    found = []
    for label in window.findChildren(QLabel):
        if TAG in label.text() and _rich(label.text(), label.textFormat()):
            found.append(f"label {label.objectName() or type(label.parent()).__name__}: {label.text()}")
    for browser in window.findChildren(QTextBrowser):
        if '<img src="x"' in browser.toHtml():
            found.append(f"text view in {type(browser.parent()).__name__}")
    for widget in [window, *window.findChildren(QWidget)]:
        if TAG in widget.toolTip() and _rich(widget.toolTip(), Qt.TextFormat.AutoText):
            found.append(f"tooltip of {type(widget).__name__}: {widget.toolTip()}")
    return found


def _hostile_session(tmp_path: Path):  # noqa: ANN202 - a SessionStore
    """The recorded runs, under a hostile name, plus an inversion whose trigger and candidate are hostile."""
    store = replay_session(tmp_path / "hostile.b4g", name=HOSTILE)
    invert = next(r for r in json.loads(RECORDED_RUNS.read_text(encoding="utf-8")) if r["kind"] == "invert")
    run_id = store.start_run("invert", invert["config"], seed=0)
    store.upsert_candidates(run_id, [{**invert["candidates"][0], "text": HOSTILE}])
    store.finish_run(run_id, "finished", {**invert["result"], "recovered_trigger": HOSTILE})
    return store


def _refuse() -> None:
    raise B4GError(f"cannot open {HOSTILE}")


@pytest.fixture
def hostile_window(qtbot, app_settings, tmp_path):  # noqa: ANN201
    win = MainWindow(_hostile_session(tmp_path))
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    yield win
    QThreadPool.globalInstance().waitForDone(60000)  # the Reports preview is built on the thread pool
    win.runner.shutdown()


def test_the_session_name_is_plain_text_in_the_status_line_and_sessions_heading(hostile_window) -> None:
    win = hostile_window
    win.show_page("Sessions")
    assert HOSTILE in win.status_line.text() and HOSTILE in win.pages["Sessions"].title.text()
    assert not _leaks(win)


def test_every_page_shows_hostile_input_and_errors_as_typed(qtbot, hostile_window, tmp_path, monkeypatch) -> None:
    win = hostile_window
    boxes: list[tuple[str, Qt.TextFormat]] = []

    def warning(box: QMessageBox) -> int:
        boxes.append((box.text(), box.textFormat()))
        return 0

    monkeypatch.setattr(QMessageBox, "exec", warning)
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: boxes.append((text, Qt.TextFormat.AutoText)))
    bad = str(tmp_path / HOSTILE / "missing")
    models = win.pages["Models"]
    win.show_page("Models")
    models.source.setCurrentIndex(models.source.findData("hf"))
    models.path.setText(bad)
    models.request_load()
    models.request_estimate()
    qtbot.waitUntil(lambda: models.error_label.text() != "" and not win.runner.is_busy(), timeout=30000)
    backdoors = win.pages["Backdoors"]
    backdoors.select("own")
    backdoors.spec_edit.setText(bad)
    backdoors.data_edit.setText(bad)
    backdoors._choice_changed()
    backdoors.inject()
    inversion = win.pages["Inversion"]
    inversion.fill(bad, bad, HOSTILE, HOSTILE)
    inversion.scan()
    defenses = win.pages["Defenses"]
    defenses.receive([HOSTILE], None)
    sessions = win.pages["Sessions"]
    win.show_page("Sessions")
    sessions.refresh()
    win._guard(_refuse)  # a session action that fails with hostile text: a warning box
    for page in PAGES:  # every page drawn once with all of it
        win.show_page(page)
        qtbot.wait(50)
    assert HOSTILE in inversion.message.text() or HOSTILE in inversion.result_view.toPlainText()
    assert HOSTILE in defenses.message.text()
    assert boxes and all(not (TAG in text and _rich(text, fmt)) or "&lt;img" in text for text, fmt in boxes)
    assert not _leaks(win)


def test_a_hostile_candidate_and_recovered_trigger_stay_text(qtbot, hostile_window) -> None:
    win = hostile_window
    win.show_page("Inversion")
    inversion = win.pages["Inversion"]
    inversion.refresh_runs()
    inversion._show_result()
    assert HOSTILE in inversion.message.text()
    buffer = win.pages["Replay buffer"]
    win.show_page("Replay buffer")
    buffer.model.set_filter("onerror")
    tip = buffer.model.data(buffer.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip and (HOSTILE in tip or "&lt;img" in tip)
    assert not (TAG in tip and _rich(tip, Qt.TextFormat.AutoText))
    assert not _leaks(win)


def test_a_hostile_log_line_in_the_job_bar_is_text(qtbot, window) -> None:
    release = threading.Event()

    def fn(ctx):  # noqa: ANN001, ANN202
        ctx.log(HOSTILE)
        release.wait(10)
        return {}

    window.runner.submit(Job("hostile", fn))
    try:
        qtbot.waitUntil(lambda: any(HOSTILE in label.text() for label in window.job_bar.findChildren(QLabel)),
                        timeout=10000)
        assert not _leaks(window)
    finally:
        release.set()
