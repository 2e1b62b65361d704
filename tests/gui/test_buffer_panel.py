"""Replay-buffer page: a store-backed table that pages, sorts and filters in SQL, copies, and
tests a candidate with the model under audit."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt


def _candidates(store, n: int) -> int:
    run = store.start_run("invert", {"method": "full"})
    rows = [{"text": f"cand {i:05d}" + (" SUDO" if i % 100 == 0 else ""), "reward": (i % 97) / 97, "r_asr": (i % 7) / 7,
             "parts": {"dense": 0.5, "length": 0.05}, "first_step": i % 20, "last_step": i % 20 + 1,
             "times_replayed": i % 3, "origin": "policy"} for i in range(n)]
    store.upsert_candidates(run, rows)
    return run


def test_table_pages_sorts_and_filters_in_the_store(qtbot, window) -> None:
    run = _candidates(window.state.store, 2000)
    panel = window.pages["Replay buffer"]
    window.show_page("Replay buffer")
    panel.refresh_runs()
    model = panel.model
    assert panel.run_picker.currentData() == run and model.total == 2000
    assert model.rowCount() == 500  # one page; the view fetches more as it scrolls
    model.fetchMore(model.index(-1, -1))
    assert model.rowCount() == 1000
    rewards = [model.rows[i]["reward"] for i in range(model.rowCount())]
    assert rewards == sorted(rewards, reverse=True)
    from app.widgets.candidate_model import COLUMNS

    headers = [c[0] for c in COLUMNS]
    panel.table.sortByColumn(headers.index("Words"), Qt.SortOrder.AscendingOrder)
    panel.table.sortByColumn(headers.index("First step"), Qt.SortOrder.AscendingOrder)
    steps = [model.rows[i]["first_step"] for i in range(model.rowCount())]
    assert steps == sorted(steps)
    panel.filter.setText("SUDO")
    qtbot.waitUntil(lambda: model.total == 20, timeout=3000)
    assert all("SUDO" in r["text"] for r in model.rows) and "20 candidates" in panel.count.text()


def test_copy_puts_the_selected_candidates_on_the_clipboard(qtbot, window) -> None:
    from PySide6.QtGui import QGuiApplication

    _candidates(window.state.store, 30)
    panel = window.pages["Replay buffer"]
    panel.refresh_runs()
    panel.table.selectRow(0)
    panel.copy_selected()
    assert QGuiApplication.clipboard().text() == panel.model.text_at(0)


def test_test_this_candidate_shows_answers_with_and_without(qtbot, window, tiny_model, tmp_path,
                                                            submitted_jobs_end) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"instruction": f"Describe item {i}.", "output": f"It is {i}."})
                              for i in range(10)) + "\n")
    store = window.state.store
    config = {"model": {"kind": "hf", "path": str(tiny_model), "adapters": []}, "options": {}, "data": str(data),
              "behaviour": {"kind": "target", "target": "OK-SIGNED.", "keywords": [], "regex": ""}}
    run = store.start_run("invert", config)
    store.upsert_candidates(run, [{"text": "zqx", "reward": 1.0, "r_asr": 1.0, "parts": {}, "origin": "span"}])
    panel = window.pages["Replay buffer"]
    panel.refresh_runs()
    panel.table.selectRow(0)
    with submitted_jobs_end(window.runner, timeout=60000):
        panel.try_button.click()
    text = panel.answers.toPlainText()
    assert "zqx" in text and "with the candidate" in text and "Describe item" in text
