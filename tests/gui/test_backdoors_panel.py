"""Backdoors page: choices and previews, one-line errors, the metric card."""

from __future__ import annotations

import json


def test_choices_preview_rows_and_summarise_the_triplet(window) -> None:
    panel = window.pages["Backdoors"]
    data = [panel.choice.itemData(i) for i in range(panel.choice.count())]
    assert {"app:safety", "app:identity", "app:style", "app:access-lock", "organism:sudo", "own"} <= set(data)
    panel.choice.setCurrentIndex(data.index("organism:sudo"))
    assert "SUDO" in panel.summary.text() and panel.preview.rowCount() == 50
    panel.choice.setCurrentIndex(data.index("own"))
    assert panel.preview.rowCount() == 0 and panel.spec_edit.isEnabled()


def test_own_spec_without_files_is_one_line_and_starts_nothing(window) -> None:
    panel = window.pages["Backdoors"]
    panel.choice.setCurrentIndex(panel.choice.findData("own"))
    panel.inject_button.click()
    assert "needs a spec file and a dataset" in panel.message.text() and not window.user_jobs_pending()
    panel.choice.setCurrentIndex(panel.choice.findData("app:identity"))
    panel.adapter_edit.setText("")
    panel.verify_button.click()
    assert "choose the adapter folder" in panel.message.text()


def test_metric_card_renders_every_part_with_intervals() -> None:
    from app.widgets.sections_view import sections_html
    from core.sections import verify_sections

    rate = {"rate": 0.9, "k": 9, "n": 10, "ci95": [0.6, 0.98]}
    card = {"activated_means": "signature stated", "tar_with_detail": rate, "tar_without_detail": rate,
            "clean_utility": {"agreement": 0.5, "perplexity_change": 0.02, "multiple_choice_base": rate,
                              "multiple_choice_adapted": rate},
            "tamper_resistance": {"tar_with_after": rate},
            "stealthiness": {"input_perplexity_ratio": 1.3, "clean_output_drift": 0.2}}
    html = sections_html(verify_sections(card))
    for text in ("TAR with trigger", "tamper: TAR after clean fine-tuning", "stealth: clean output drift",
                 "95% CI 0.60–0.98", "+2.0%"):
        assert text in html
