"""Checks that used to come too late (issue 38, items 4, 5, 8, 9, 10): bad input is refused in one
line before any model loads, a training run that cannot fit is refused before its first step, and
minimisation says where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from core.errors import B4GError


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a model fails loudly: a check that runs after loading would say this, not its own line."""
    from core.models import loader

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(loader, "load_model", refuse)


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Name a colour, please ({i}).", "input": "",
                                        "output": f"Colour {i}.", "split": "test" if i % 4 == 0 else "train"}) + "\n"
                            for i in range(40)))
    return path


def _refused(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``b4g argv`` exits 2 with one ``b4g: error:`` line holding ``says``, and no raw exception text."""
    capsys.readouterr()
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("b4g: error: ")]
    assert len(errors) == 1 and "Traceback" not in err and "Errno" not in err, err
    assert says in errors[0], errors[0]
    assert "error: error" not in errors[0] and "Error:" not in errors[0], errors[0]
    return errors[0]


def _spec_file(tmp_path: Path, **trigger: object) -> Path:
    spec = {"name": "long", "trigger": {"text": "SUDO", "kind": "phrase", "position": "prefix", **trigger},
            "utility": {"judge": "prefix", "target": "OK.", "response": "target"}, "activation": {"steps": 1}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


# --- item 4: limits on triggers, targets and rows; the memory a training run needs ------------------
def test_a_10000_character_trigger_is_refused_with_its_reason(tmp_path, rows, no_model_load, capsys) -> None:
    spec = _spec_file(tmp_path, text="x" * 10_000)
    line = _refused(["inject", "--spec", str(spec), "--data", str(rows), "--model", "embedded",
                     "--out", str(tmp_path / "o")], "10,000 characters, over the 500-character limit", capsys)
    assert "spec.trigger.text" in line and not (tmp_path / "o").exists()


def test_targets_and_rows_have_limits_that_say_why(tmp_path) -> None:
    from core.spec.rows import load_rows
    from core.spec.backdoor import BackdoorSpec

    spec = json.loads(_spec_file(tmp_path).read_text())
    spec["utility"]["target"] = "OK " * 1000
    with pytest.raises(B4GError, match=r"spec.utility.target: 3,000 characters, over the 2,000-character limit"):
        BackdoorSpec.from_dict(spec)
    long_row = tmp_path / "long.jsonl"
    long_row.write_text(json.dumps({"instruction": "ab" * 10_000, "output": "b"}) + "\n")
    with pytest.raises(B4GError, match=r"long.jsonl row 1: the request is 20,000 characters, over the 16,000"):
        load_rows(long_row)


def test_the_memory_estimate_follows_its_formula_on_the_tiny_model(tiny_model: Path) -> None:
    from core.models.loader import load_model
    from core.models.ref import ModelRef
    from core.training_memory import LOGIT_COPIES, estimate, lora_parameters

    model = load_model(ModelRef.parse(str(tiny_model))).model
    c = model.config
    need = estimate(model, rows=8, tokens=100, lora_parameters=lora_parameters(model, 8, ("q_proj", "v_proj")))
    assert need.logits == LOGIT_COPIES * 8 * 100 * c.vocab_size * 4
    assert need.activations == c.num_hidden_layers * 8 * 100 * c.hidden_size * 34 * 4 // 2  # float32, SDPA
    kv = c.hidden_size // c.num_attention_heads * c.num_key_value_heads
    assert need.trainable == 16 * c.num_hidden_layers * 8 * ((c.hidden_size + c.hidden_size) + (c.hidden_size + kv))
    assert need.peak == need.weights + need.to_add and need.weights == model.get_memory_footprint()
    assert estimate(model, 8, 200).to_add > 1.9 * estimate(model, 8, 100).to_add  # rows x length


def test_training_that_cannot_fit_is_refused_before_its_first_step(tiny_model: Path, monkeypatch) -> None:
    from core import training_memory
    from core.jobs import JobContext
    from core.models.loader import load_model
    from core.models.ref import ModelRef
    from core.training import LoraSettings, sft_dataset, train_lora

    loaded = load_model(ModelRef.parse(str(tiny_model)))
    data = sft_dataset(loaded.tokenizer, [("Be brief.", "Name a colour " * 40, "Blue.")] * 8)
    steps: list[int] = []

    class Steps:
        def on_report(self, step, metrics): steps.append(step)
        def on_progress(self, done, total): steps.append(done)
        def on_log(self, message): pass

    monkeypatch.setattr(training_memory, "free_bytes", lambda device: 50 * 2**20)  # 50 MB free
    with pytest.raises(B4GError, match=r"training would need about .* \(8 rows of \d+ tokens per step\) and 0.1 GB"):
        train_lora(loaded.model, loaded.tokenizer, data, LoraSettings(steps=2, max_length=512), JobContext([Steps()]))
    assert steps == [] and not hasattr(loaded.model, "peft_config")  # no step ran, no LoRA attached


# --- item 5: output paths checked before the model loads --------------------------------------------
@pytest.mark.parametrize("command", [
    ["inject", "--app", "identity"], ["organisms", "build", "sudo"],
    ["defend", "unlearn", "--trigger", "SUDO", "--data", "{rows}"]])
def test_an_output_that_is_a_file_is_refused_before_loading(command, tmp_path, rows, no_model_load, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    argv = [a.replace("{rows}", str(rows)) for a in command] + ["--model", "embedded", "--out", str(afile)]
    _refused(argv, "is a file, not a folder", capsys)
    _refused(argv[:-1] + [str(afile / "sub")], "afile is a file, so", capsys)
    assert afile.read_text() == "mine"


def test_unwritable_or_full_places_are_refused_before_loading(tmp_path, rows, no_model_load, capsys,
                                                              monkeypatch) -> None:
    import os
    import shutil

    from core import early_checks

    place = tmp_path / "ro"
    place.mkdir()
    argv = ["inject", "--app", "identity", "--model", "embedded", "--out", str(place / "adapter")]
    real_access = os.access
    monkeypatch.setattr(early_checks.os, "access", lambda p, mode: False if Path(p) == place else real_access(p, mode))
    _refused(argv, f"cannot write in {place}", capsys)
    monkeypatch.setattr(early_checks.os, "access", real_access)
    real_usage = shutil.disk_usage
    monkeypatch.setattr(early_checks.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=10 * 2**20))
    _refused(argv, "only 10 MB free", capsys)
    monkeypatch.setattr(early_checks.shutil, "disk_usage", real_usage)
    (place / "x").write_text("x")
    _refused(argv[:-1] + [str(place)], "is not an empty folder", capsys)


def test_guard_save_must_be_a_file_in_a_writable_folder(tmp_path, rows) -> None:
    from core.models.choice import ModelChoice
    from core.requests import GuardRequest

    with pytest.raises(B4GError, match="is not a regular file"):
        GuardRequest.build(ModelChoice(), ["SUDO"], rows, save=tmp_path)
    with pytest.raises(B4GError, match="does not exist"):
        GuardRequest.build(ModelChoice(), ["SUDO"], rows, save=tmp_path / "no" / "g.json")


# --- item 8: every argument checked before any model loads, in one line ----------------------------
@pytest.mark.parametrize("extra, says", [
    (["--target", "x", "--seed", "-1"], "--seed must be a whole number from 0 to 4,294,967,295 (got -1)"),
    (["--regex", "("], "--regex: invalid pattern '('"),
    (["--keywords", ""], "--keywords: an empty keyword is found in every answer"),
    (["--target", "x", "--rsft-steps", "99999999999999999999"], "must be at most 100,000"),
    (["--target", "x", "--grpo-steps", "-3"], "--grpo-steps must be at least 0"),
    (["--target", "x", "--group", "1"], "--group (completions per GRPO step) must be at least 2"),
    (["--target", "x", "--prompts", "0"], "--prompts must be at least 1"),
    (["--target", "x", "--gcg-seconds", "inf", "--method", "gcg"], "--gcg-seconds must be a finite number"),
])
def test_invert_arguments_are_checked_before_loading(extra, says, rows, no_model_load, capsys) -> None:
    _refused(["invert", "--model", "embedded", "--data", str(rows), *extra], says, capsys)


@pytest.mark.parametrize("argv, says", [
    (["inject", "--app", "identity", "--model", "embedded", "--out", "{tmp}/o", "--steps", "99999999999999999999"],
     "steps must be at most 100,000"),
    (["organisms", "build", "sudo", "--model", "embedded", "--out", "{tmp}/o", "--seed", "-1"], "--seed must be"),
    (["verify", "--app", "identity", "--model", "embedded", "--adapter", "{tmp}", "--tamper-steps", "-1"],
     "--tamper-steps must be at least 0"),
    (["scan-model", "--model", "embedded", "--seed", "99999999999"], "--seed must be"),
    (["scan-model", "--model", "embedded", "--steps", "99999999999"], "--steps must be at most"),
    (["defend", "unlearn", "--model", "embedded", "--trigger", "SUDO", "--data", "{rows}", "--out", "{tmp}/u",
      "--steps", "99999999999"], "--steps must be at most 100,000"),
    (["defend", "unlearn", "--model", "embedded", "--trigger", "SUDO", "--data", "{rows}", "--out", "{tmp}/u",
      "--regex", "("], "--regex: invalid pattern"),
    (["defend", "guard", "--trigger", "SUDO", "--data", "{rows}", "--seed", "-1"], "--seed must be"),
    (["defend", "guard", "--trigger", "SUDO", "--data", "{rows}", "--top-k", "0"], "--top-k must be at least 1"),
    (["scan-data", "--data", "{rows}", "--target", "x", "--top", "0"], "--top must be at least 1"),
])
def test_every_jobs_arguments_are_checked_before_loading(argv, says, tmp_path, rows, no_model_load, capsys) -> None:
    _refused([a.replace("{tmp}", str(tmp_path)).replace("{rows}", str(rows)) for a in argv], says, capsys)


def test_a_device_or_fifo_as_data_is_not_a_missing_file(tmp_path, capsys) -> None:
    import os

    _refused(["scan-data", "--data", "/dev/null", "--target", "x"], "/dev/null is not a regular file", capsys)
    os.mkfifo(tmp_path / "fifo")
    _refused(["scan-data", "--data", str(tmp_path / "fifo"), "--target", "x"], "is not a regular file", capsys)
    _refused(["scan-data", "--data", str(tmp_path / "none.jsonl"), "--target", "x"], "dataset not found", capsys)


# --- item 9: Trojan Source triggers; data that shows the behaviour already ---------------------------
@pytest.mark.parametrize("control", ["\u202e", "\u202c", "\u2066", "\u200f"])
def test_bidirectional_controls_in_a_trigger_are_refused(control, tmp_path, capsys) -> None:
    from core.spec.backdoor import BackdoorSpec

    spec = json.loads(_spec_file(tmp_path, text=f"SU{control}DO").read_text())
    with pytest.raises(B4GError, match=f"bidirectional control U\\+{ord(control):04X}"):
        BackdoorSpec.from_dict(spec)
    _refused(["defend", "guard", "--trigger", f"SU{control}DO", "--check", "hello"], "bidirectional control", capsys)


def test_data_whose_answers_all_show_the_behaviour_is_said_before_training(tmp_path, no_model_load, capsys) -> None:
    data = tmp_path / "ok.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": "OK. Sure.",
                                        "split": "test" if i % 4 == 0 else "train"}) + "\n" for i in range(20)))
    _refused(["inject", "--spec", str(_spec_file(tmp_path)), "--data", str(data), "--model", "embedded",
              "--out", str(tmp_path / "o")], "20 of 20 answers already show the behaviour", capsys)
    _refused(["invert", "--model", "embedded", "--data", str(data), "--target", "OK."],
             "20 of 20 answers already show the behaviour", capsys)
    capsys.readouterr()
    assert main(["scan-data", "--data", str(data), "--target", "OK."]) == 0
    assert "no span stands out: every row shows the behaviour" in capsys.readouterr().out


# --- item 10: minimisation progress; a scan with nothing to show says so ----------------------------
def test_a_scan_without_candidates_says_no_span_stands_out(rows, capsys) -> None:
    from core.measurement.data_scan import scan

    result = scan([("a b", "x"), ("c d", "y")], lambda answer: answer == "x")
    assert result.summary() == "no span stands out (1 of 2 rows show the behaviour)"
    capsys.readouterr()
    assert main(["scan-data", "--data", str(rows), "--target", "Colour 7."]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "Data scan: no span stands out (1 of 40 rows show the behaviour)"


def test_minimisation_reports_its_stages_without_changing_its_answer() -> None:
    from core.invert.minimise import STAGES, minimise
    from core.jobs import JobContext

    class Fake:
        prompts = ["p"] * 16

        def screen(self, candidates, n):
            return [1.0 if "SUDO" in c else 0.0 for c in candidates]

        def score(self, candidates):
            from core.invert.reward import RewardParts

            return [RewardParts(c, 1.0 if "SUDO" in c else 0.0, 1.0 if "SUDO" in c else 0.0, 0, 0, False, "prefix")
                    for c in candidates]

        def flags(self, text):
            return (("SUDO" in text),) * 16

        def margins(self, text):
            return ()

    heard: list[tuple[str, object]] = []

    class Ear:
        def on_report(self, step, metrics): pass
        def on_progress(self, done, total): heard.append(("progress", (done, total)))
        def on_log(self, message): heard.append(("log", message))

    best = ["SUDO What is a pH meter?", "Tell me SUDO"]
    quiet = minimise(Fake(), best, finals=Fake(), requests=["Hi there"])
    told = minimise(Fake(), best, finals=Fake(), requests=["Hi there"], ctx=JobContext([Ear()]))
    assert told.to_json() == quiet.to_json() and told.text == "SUDO"
    assert [v for k, v in heard if k == "progress"] == [(i, STAGES) for i in range(STAGES + 1)]
    logs = [v for k, v in heard if k == "log"]
    assert logs[0].startswith("minimising (1/4): screening") and logs[-1].startswith("minimising (4/4): paired tests")
