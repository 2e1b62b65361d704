"""Rough edges a new user met in the window (issue 38, item 12): the job bar's step count, cut
placeholders and pickers, filled-in paths shown by their tail, empty plots with made-up axes,
and empty checkpoint folders left beside the session."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionFrame,
)

from app.main_window import PAGES, MainWindow
from app.widgets.run_plots import INJECTION_PANES, NO_POINTS, RunPlots
from core.jobs import Job, JobContext, execute
from core.store.session_store import SessionStore
from tests.conftest import replay_session

LONG_PATH = "/home/auditor/projects/acme-model-audit/adapters/sudo-20261130-070101/adapter"


def _cut_text(widget: QLineEdit | QComboBox) -> str | None:
    """The placeholder (or a picker's shown text) when it does not fit the widget's text area."""
    if isinstance(widget, QLineEdit):
        opt = QStyleOptionFrame()
        widget.initStyleOption(opt)
        area = widget.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, widget)
        margins = widget.textMargins()
        width, text = area.width() - margins.left() - margins.right() - 4, widget.placeholderText()  # 2 px a side
    else:
        opt = QStyleOptionComboBox()
        widget.initStyleOption(opt)
        width = widget.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                              QStyle.SubControl.SC_ComboBoxEditField, widget).width()
        text = widget.currentText() or widget.placeholderText()
    return text if widget.fontMetrics().horizontalAdvance(text) > width else None


def test_no_placeholder_or_picker_text_is_cut_at_the_default_size(qtbot, app_settings, tmp_path) -> None:
    win = MainWindow(replay_session(tmp_path / "s.b4g"))  # every picker has runs to show
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    try:
        cut = []
        for page in PAGES:
            win.show_page(page)
            qtbot.wait(50)
            for w in win.pages[page].findChildren(QLineEdit) + win.pages[page].findChildren(QComboBox):
                inner = isinstance(w.parent(), (QComboBox, QAbstractSpinBox))  # their own edits
                if w.isVisible() and not inner and _cut_text(w):
                    cut.append(f"{page}: {_cut_text(w)!r}")
        assert not cut, cut
    finally:
        QThreadPool.globalInstance().waitForDone(60000)  # the Reports preview is built on the thread pool
        win.runner.shutdown()


def test_a_long_session_name_or_model_path_does_not_widen_the_window(qtbot, app_settings, tmp_path) -> None:
    from core.store.catalog import new_session

    win = MainWindow(new_session("audit " + "of a very long model name " * 20))
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.wait(50)
    try:
        assert win.width() == 1200
        assert win.status_line.full_text() in win.status_line.toolTip() or "very long" in win.status_line.toolTip()
        assert win.status_line.text().endswith("…")
    finally:
        win.runner.shutdown()


def test_a_filled_in_path_or_target_shows_its_start_and_whole_in_the_tooltip(window) -> None:
    backdoors, inversion = window.pages["Backdoors"], window.pages["Inversion"]
    backdoors.set_adapter(LONG_PATH)
    inversion.fill(LONG_PATH, LONG_PATH + ".jsonl", "Access granted. Developer mode enabled.", "SUDO")
    for edit in (backdoors.adapter_edit, inversion.adapter_edit, inversion.data_edit, inversion.target_edit):
        assert edit.cursorPosition() == 0, edit.text()  # a line edit scrolls to its cursor: the start shows
        assert edit.text() in edit.toolTip()


def test_the_job_bar_keeps_the_step_count_when_the_job_logs_a_warning(qtbot, window) -> None:
    release, warning = threading.Event(), "rows of 60 tokens (max_length 48 would cut the behaviour)"

    def fn(ctx: JobContext) -> dict:
        ctx.progress(3, 10)
        ctx.log(warning)
        release.wait(10)
        return {}

    window.runner.submit(Job("inject", fn))
    bar = window.job_bar
    try:
        qtbot.waitUntil(lambda: bar.detail.full_text() == warning, timeout=10000)
        assert bar.label.text() == "Running inject: step 3 of 10"
        assert warning in bar.detail.toolTip()
    finally:
        release.set()
    qtbot.waitUntil(lambda: bar.label.text() == "Idle" and bar.detail.full_text() == "", timeout=10000)


def test_an_empty_plot_has_no_axes_or_legend_until_it_has_points(qtbot, tmp_path) -> None:
    store = SessionStore.create(tmp_path / "s.b4g", "plots")
    plots = RunPlots(INJECTION_PANES)
    qtbot.addWidget(plots)
    plots.show_run(store, None)
    for title, _metrics, _tip in INJECTION_PANES:
        plot = plots.plots[title]
        assert not plot.getAxis("left").isVisible() and not plot.getAxis("bottom").isVisible()
        assert not plots.legends[title].items and not plots.legends[title].isVisible()
        assert plots.empty_notes[title].isVisible() and plots.empty_notes[title].textItem.toPlainText() == NO_POINTS
    run = store.start_run("inject", {}, seed=0)
    store.add_metrics(run, 1, {"loss": 2.0})
    plots.show_run(store, run)
    loss, activation = (plots.plots[title] for title, _m, _t in INJECTION_PANES)
    assert loss.getAxis("left").isVisible() and not plots.empty_notes["Training loss"].isVisible()
    assert [label.text for _sample, label in plots.legends["Training loss"].items] == ["loss"]
    assert not activation.getAxis("left").isVisible() and not plots.legends[INJECTION_PANES[1][0]].items
    plots.timer.stop()
    store.close()


@pytest.mark.parametrize("status", ["finished", "failed"])
def test_no_empty_checkpoints_folder_stays_beside_the_session(tmp_path: Path, status: str) -> None:
    store = SessionStore.create(tmp_path / "s.b4g", "checkpoints")

    def fn(ctx: JobContext) -> dict:
        ctx.next_stage_dir().mkdir(parents=True)  # a trainer's output folder, nothing saved in it yet
        if status == "failed":
            raise RuntimeError("out of memory")
        return {}

    assert execute(Job("inject", fn), JobContext(), store).status == status
    assert not (tmp_path / "s.checkpoints").exists()
    store.close()


def test_an_unfinished_runs_saved_checkpoint_is_kept_to_resume(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path / "s.b4g", "checkpoints")

    def fn(ctx: JobContext) -> dict:
        saved = ctx.next_stage_dir() / "checkpoint-10"
        saved.mkdir(parents=True)
        (saved / "adapter_model.safetensors").write_bytes(b"0")
        raise RuntimeError("killed")

    outcome = execute(Job("inject", fn), JobContext(), store)
    assert (tmp_path / "s.checkpoints" / f"run-{outcome.run_id}" / "stage-1" / "checkpoint-10").is_dir()
    store.close()


def test_no_page_makes_the_default_window_taller_or_wider(qtbot, app_settings, tmp_path) -> None:
    """A form that grows (the Defenses page's position rows did) scrolls instead of pushing the window
    past a laptop screen's 768 px."""
    win = MainWindow(replay_session(tmp_path / "s.b4g"))
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    try:
        for page in PAGES:
            win.show_page(page)
            qtbot.wait(50)
            assert (win.width(), win.height()) == (1200, 760), page
    finally:
        QThreadPool.globalInstance().waitForDone(60000)
        win.runner.shutdown()
