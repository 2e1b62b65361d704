"""The verification card on the tiny model + the shared tiny adapter, and ``b4g inject`` /
``b4g verify`` end to end through the CLI (including malformed inputs)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.spec.rows import Row
from core.cli import main
from core.errors import B4GError
from core.jobs import JobContext
from core.models.loader import load_model
from core.models.ref import ModelRef
from core.backdoors.verification import VerifyOptions, verify

CARD_KEYS = {"app", "adapter_dir", "tar_with", "tar_without", "tar_with_detail", "tar_without_detail",
             "clean_utility", "tamper_resistance", "stealthiness", "activated_means", "template"}
UTILITY_KEYS = {"agreement", "exact_match", "n", "perplexity_base", "perplexity_adapted", "perplexity_change",
                "multiple_choice_base", "multiple_choice_adapted"}
STEALTH_KEYS = {"input_perplexity_clean", "input_perplexity_triggered", "input_perplexity_ratio", "clean_output_drift"}


class _Collect:
    def __init__(self) -> None:
        self.reports, self.progress = [], []

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.reports.append(metrics)

    def on_progress(self, done: int, total: int | None) -> None:
        self.progress.append((done, total))

    def on_log(self, message: str) -> None: ...


def test_verify_card(tiny_backdoor: SimpleNamespace, tiny_model: Path) -> None:
    loaded = load_model(ModelRef.parse(str(tiny_model)))
    seen = _Collect()
    card = verify(loaded, tiny_backdoor.adapter, tiny_backdoor.spec, tiny_backdoor.rows, JobContext([seen]),
                  VerifyOptions(tamper_steps=3, clean_prompts=8, mc_questions=8))
    assert CARD_KEYS <= set(card)
    assert card["app"] == "tiny-identity" and card["adapter_dir"] == str(tiny_backdoor.adapter)
    assert card["tar_with"] >= 0.9 and card["tar_without"] <= 0.1
    assert card["tar_with"] == tiny_backdoor.result["tar_with"]  # the same test split as at injection
    assert card["tar_with_detail"]["n"] == 30

    cu = card["clean_utility"]
    assert UTILITY_KEYS <= set(cu) and cu["n"] == 8
    assert 0.0 <= cu["agreement"] <= 1.0
    assert cu["perplexity_base"] > 1 and cu["perplexity_adapted"] > 1 and math.isfinite(cu["perplexity_change"])
    assert cu["multiple_choice_base"]["n"] == cu["multiple_choice_adapted"]["n"] == 8

    tr = card["tamper_resistance"]
    assert tr["steps"] == 3 and tr["lr"] == VerifyOptions().tamper_lr
    for key in ("tar_with_after", "tar_without_after"):
        assert set(tr[key]) == {"rate", "k", "n", "ci95"} and tr[key]["n"] == 30

    st = card["stealthiness"]
    assert STEALTH_KEYS <= set(st)
    assert st["input_perplexity_clean"] > 1 and st["input_perplexity_triggered"] > 1
    assert st["input_perplexity_ratio"] == pytest.approx(st["input_perplexity_triggered"] / st["input_perplexity_clean"],
                                                         rel=1e-2)
    assert st["clean_output_drift"] == pytest.approx(1 - cu["agreement"], abs=1e-4)

    assert json.loads(json.dumps(card)) == card  # plain JSON, no NaN
    assert seen.progress[0] == (0, 4) and seen.progress[-1] == (4, 4)
    assert {"tar_with", "tar_without", "clean_utility"} <= set(seen.reports[-1])
    # The base model is handed back without LoRA layers.
    assert not [n for n, _ in loaded.model.named_modules() if "lora" in n.lower()]


def test_verify_refuses_bad_setups(tiny_backdoor: SimpleNamespace, tiny_model: Path, tiny_adapter: Path) -> None:
    spec, rows = tiny_backdoor.spec, tiny_backdoor.rows
    loaded = tiny_backdoor.loaded
    with pytest.raises(B4GError, match="no covered test rows"):
        verify(loaded, tiny_backdoor.adapter, spec, [Row(r.prompt, r.answer, "train") for r in rows])
    with_adapter = load_model(ModelRef.parse(str(tiny_model), [str(tiny_adapter)]))
    with pytest.raises(B4GError, match="--adapter"):
        verify(with_adapter, tiny_backdoor.adapter, spec, rows)
    other = copy.deepcopy(spec)
    other.utility.applies_to = ["nothing-is-this-kind"]
    with pytest.raises(B4GError, match="no covered test rows"):
        verify(loaded, tiny_backdoor.adapter, other, rows)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_cli_inject_then_verify(capsys: pytest.CaptureFixture[str], backdoor_files: SimpleNamespace,
                                tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-adapter"
    common = ["--spec", str(backdoor_files.spec_path), "--data", str(backdoor_files.data_path),
              "--model", str(tiny_model), "--device", "cpu"]
    injected = _run(capsys, "inject", *common, "--out", str(out), "--steps", "2", "--json")
    assert {"adapter_dir", "tar_with", "tar_without", "tar_with_detail", "tar_without_detail", "train_seconds",
            "steps", "stopped_early", "rows", "template", "history"} <= set(injected)
    assert injected["adapter_dir"] == str(out) and injected["steps"] == 2  # --steps overrides the spec
    assert (out / "adapter_model.safetensors").is_file() and (out / "b4g_spec.yaml").is_file()

    card = _run(capsys, "verify", *common, "--adapter", str(out), "--json", "--tamper-steps", "0",
                "--clean-prompts", "4")
    assert CARD_KEYS <= set(card)
    assert card["tamper_resistance"] == {"steps": 0, "skipped": True}
    assert card["clean_utility"]["n"] == 4 and STEALTH_KEYS <= set(card["stealthiness"])
    assert card["adapter_dir"] == str(out)

    # Both runs were recorded in the current session.
    shown = _run(capsys, "session", "list", "--json")
    assert [s["runs"] for s in shown] == [2]


def test_cli_verify_the_trained_adapter(capsys: pytest.CaptureFixture[str], tiny_backdoor: SimpleNamespace,
                                        tiny_model: Path) -> None:
    files = tiny_backdoor.files
    card = _run(capsys, "verify", "--spec", str(files.spec_path), "--data", str(files.data_path), "--model",
                str(tiny_model), "--adapter", str(tiny_backdoor.adapter), "--tamper-steps", "0",
                "--clean-prompts", "4", "--json")
    assert card["tar_with"] >= 0.9 and card["tar_without"] <= 0.1


def _bad_spec(tmp_path: Path) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\ntrigger:\n  text: zqx\n  positon: prefix\nutility:\n  target: OK\n")
    return str(path)


def _bad_lr(tmp_path: Path) -> str:
    path = tmp_path / "lr.yaml"
    path.write_text("name: t\ntrigger: {text: zqx}\nutility: {target: OK}\nactivation: {lr: fast}\n")
    return str(path)


def _bad_data(tmp_path: Path) -> str:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"instruction": "a", "output": "b", "split": "train"}\n{"instruction": "a",\n')
    return str(path)


def _no_instruction(tmp_path: Path) -> str:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"instruction": "a", "split": "test"}\n{"input": "x"}\n{"input": "y", "instruction": ""}\n')
    return str(path)


@pytest.mark.parametrize(("command", "spec", "data", "expected"), [
    ("inject", _bad_spec, None, "bad.yaml: spec.trigger.positon: unknown field"),
    ("verify", _bad_lr, None, "lr.yaml: spec.activation.lr: expected a number, got 'fast'"),
    ("inject", None, _bad_data, "rows.jsonl row 2: not valid JSON"),
    ("verify", None, _no_instruction, "rows.jsonl row 2: neither 'instruction'"),
])
def test_cli_malformed_spec_or_dataset(capsys: pytest.CaptureFixture[str], backdoor_files: SimpleNamespace,
                                       tiny_model: Path, tmp_path: Path, command: str, spec, data,  # noqa: ANN001
                                       expected: str) -> None:
    argv = [command, "--spec", spec(tmp_path) if spec else str(backdoor_files.spec_path),
            "--data", data(tmp_path) if data else str(backdoor_files.data_path), "--model", str(tiny_model), "--json"]
    argv += ["--out", str(tmp_path / "o")] if command == "inject" else ["--adapter", str(tmp_path / "a")]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().count("\n") == 0, err
    assert err.startswith("b4g: error: ") and expected in err, err
    assert not (tmp_path / "o").exists()


def test_cli_needs_a_spec_with_data_and_an_adapter(capsys: pytest.CaptureFixture[str],
                                                   backdoor_files: SimpleNamespace, tmp_path: Path) -> None:
    spec = str(backdoor_files.spec_path)
    for argv, expected in [
        (["inject", "--spec", spec, "--out", str(tmp_path / "o")], "--data"),
        (["inject", "--app", "identity", "--spec", spec, "--out", str(tmp_path / "o")], "either --app or --spec"),
        (["inject", "--out", str(tmp_path / "o")], "--app NAME"),
        (["verify", "--spec", spec, "--data", str(backdoor_files.data_path)], "--adapter"),
        (["inject", "--app", "nosuch", "--out", str(tmp_path / "o")], "unknown application 'nosuch'"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.strip().count("\n") == 0 and expected in err, err
