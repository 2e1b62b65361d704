"""GUI tests run offscreen with pytest-qt; each gets its own session file and QSettings."""

from __future__ import annotations

import os

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
