"""Settings declared once (core.job_settings): flags, limits and presets come from the declarations."""

from __future__ import annotations

import argparse

import pytest

from core.defend.defense_settings import GuardSettings, RemoveSettings, UnlearnSettings
from core.errors import B4GError
from core.invert.config import PRESETS, InvertConfig, invert_config
from core.job_settings import add_flags, check, given, knobs, paths_of, with_values
from core.target_scan.scan_settings import ScanSettings

SETTINGS = {"invert": InvertConfig, "unlearn": UnlearnSettings, "guard": GuardSettings, "remove": RemoveSettings,
            "scan-model": ScanSettings}


def _parser(cls: type) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(exit_on_error=False)
    add_flags(p, cls)
    return p


@pytest.mark.parametrize("cls", SETTINGS.values(), ids=SETTINGS.keys())
def test_every_declared_setting_has_help_a_flag_and_a_default_within_its_limits(cls: type) -> None:
    found = knobs(cls)
    assert found, cls
    for k in found.values():
        assert k.help and k.flag.startswith("--") and k.label
        k.check(k.default)  # the defaults pass their own limits
    check(cls())
    flags = [k.flag for k in found.values()]
    assert len(flags) == len(set(flags)), flags


def test_a_flag_left_out_changes_nothing_and_a_flag_given_sets_its_path() -> None:
    p = _parser(InvertConfig)
    assert given(p.parse_args([]), InvertConfig) == {}
    args = p.parse_args(["--grpo-steps", "7", "--no-reversal", "--position", "suffix", "--source", "memory"])
    assert given(args, InvertConfig) == {"grpo.steps": 7, "reversal.enabled": False, "reward.position": "suffix",
                                         "source": "memory"}
    cfg = with_values(InvertConfig(), given(args, InvertConfig))
    assert (cfg.grpo.steps, cfg.reversal.enabled, cfg.reward.position, cfg.source) == (7, False, "suffix", "memory")
    assert InvertConfig().grpo.steps == 20  # the defaults are never changed in place


def test_a_preset_is_applied_in_one_place_and_a_given_value_wins_over_it() -> None:
    gpu = invert_config("gpu")
    assert {p: getattr(getattr(gpu, p.split(".")[0]), p.split(".")[1]) if "." in p else getattr(gpu, p)
            for p in PRESETS["gpu"]} == PRESETS["gpu"]
    assert invert_config("gpu", values={"grpo.steps": 5}).grpo.steps == 5
    assert invert_config("gpu", "ask-only").grpo.steps == 0 and not invert_config("gpu", "ask-only").reversal.enabled
    with pytest.raises(B4GError, match="unknown preset 'tpu'"):
        invert_config("tpu")


def test_limits_are_checked_with_the_flag_in_one_line() -> None:
    with pytest.raises(B4GError, match=r"^--grpo-steps must be at least 0 \(got -1\)$"):
        check(with_values(InvertConfig(), {"grpo.steps": -1}))
    with pytest.raises(B4GError, match=r"^--seed must be a whole number from 0"):
        check(with_values(UnlearnSettings(), {"seed": -1}))
    with pytest.raises(B4GError, match=r"^--fpr must be in \[0, 1\), got 1.5$"):
        check(with_values(GuardSettings(), {"target_fpr": 1.5}))
    with pytest.raises(B4GError, match=r"^--position must be one of prefix, suffix, random"):
        check(with_values(RemoveSettings(), {"position": "middle"}))
    with pytest.raises(B4GError, match="no setting 'grpo.stepz'"):
        with_values(InvertConfig(), {"grpo.stepz": 1})


def test_an_on_by_default_switch_is_a_no_flag_and_an_off_one_a_plain_flag() -> None:
    p = _parser(UnlearnSettings)
    args = p.parse_args(["--no-controls", "--export-merged"])
    assert given(args, UnlearnSettings) == {"controls": False, "export_merged": True}


def test_recorded_overrides_by_section_read_as_paths() -> None:
    assert paths_of({"grpo": {"steps": 2}, "seed": 3}) == {"grpo.steps": 2, "seed": 3}


@pytest.mark.parametrize("command", [["invert", "--data", "d", "--target", "x"], ["defend", "unlearn", "--data", "d",
                                     "--out", "o"], ["defend", "guard"], ["defend", "remove", "--out", "o"],
                                     ["scan-model"]], ids=lambda c: " ".join(c[:2]))
def test_the_cli_flags_of_each_job_are_its_declared_settings(command: list[str]) -> None:
    from core.cli import build_parser

    kind = "-".join(command[:2]) if command[0] == "defend" else command[0]
    cls = {"defend-unlearn": UnlearnSettings, "defend-guard": GuardSettings, "defend-remove": RemoveSettings,
           "invert": InvertConfig, "scan-model": ScanSettings}[kind]
    parser = build_parser()
    for k in knobs(cls).values():
        value = "prefix" if k.choices and "prefix" in k.choices else k.choices[0] if k.choices else "1"
        argv = [*command, k.flag] if k.kind is bool else [*command, k.flag, value]
        assert k.path in given(parser.parse_args(argv), cls), (kind, k.flag)
