"""GUI tests run offscreen with pytest-qt; each gets its own session file and QSettings."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def app_settings(tmp_path, qapp):
    from PySide6.QtCore import QSettings

    from app.style import apply_style

    qapp.setOrganizationName("B4G-tests")
    qapp.setApplicationName("B4G Workbench tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    apply_style(qapp, "light")
    return qapp


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """Offscreen nobody answers a modal dialog: a question (closing while a job runs) would hang
    the teardown. Answer Yes; tests about the question patch it themselves and check it was asked."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)


@pytest.fixture
def window(qtbot, app_settings):
    from app.main_window import MainWindow
    from core.store.catalog import new_session

    win = MainWindow(new_session("gui test"))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.shutdown()


def _job_ids(runner) -> set[int]:
    current = runner.current()
    return {item.id for item in runner.queued()} | ({current.id} if current else set())


@contextlib.contextmanager
def _submitted_jobs_end(qtbot, runner, timeout: int) -> Iterator[None]:
    """Wait, after the block, until the jobs the block submitted have ended: not merely the first job
    to end, which may be another one (the Models page's memory estimate, started by a timer after show)."""
    ended: set[int] = set()

    def note(job_id: int, *_: object) -> None:
        ended.add(job_id)

    signals = (runner.finished, runner.failed, runner.cancelled)
    for signal in signals:
        signal.connect(note)
    try:
        before = _job_ids(runner)
        yield
        mine = _job_ids(runner) - before  # a job ends only through the event loop: still listed here
        assert mine, "the block submitted no job"
        qtbot.waitUntil(lambda: mine <= ended, timeout=timeout)
    finally:
        for signal in signals:
            signal.disconnect(note)


@pytest.fixture
def submitted_jobs_end(qtbot):
    """``with submitted_jobs_end(window.runner, timeout=ms): button.click()`` waits for that job."""
    return lambda runner, timeout: _submitted_jobs_end(qtbot, runner, timeout)
