"""``b4g`` end to end, in process (``core.cli.main``) except for the installed script's --help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

INFO_KEYS = {"parameters", "dtype", "device", "estimated_bytes", "footprint_bytes", "load_seconds"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict | list:
    """Run a command that must succeed with ``--json``; return its parsed stdout."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_session_new_list_show_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    created = run(capsys, "session", "new", "--name", "cli audit", "--description", "d", "--json")
    sid = created["id"]
    assert created["name"] == "cli audit" and Path(created["path"]).exists()
    listed = run(capsys, "session", "list", "--json")
    assert [(s["id"], s["runs"]) for s in listed] == [(sid, 0)]
    shown = run(capsys, "session", "show", sid, "--json")
    assert shown["id"] == sid and shown["runs"] == []
    exported = run(capsys, "session", "export", sid, "--json")
    assert exported["session"]["id"] == sid and exported["runs"] == [] and exported["models"] == []
    out = tmp_path / "export.json"
    written = run(capsys, "session", "export", sid, "--out", str(out), "--json")
    assert written == {"path": str(out), "runs": 0}
    assert json.loads(out.read_text())["session"]["name"] == "cli audit"
    assert main(["session", "export", sid, "--out", str(out)]) == 2  # no overwrite without --force
    assert "--force" in capsys.readouterr().err


def test_models_info(capsys: pytest.CaptureFixture[str], tiny_model: Path) -> None:
    info = run(capsys, "models", "info", "--model", str(tiny_model), "--device", "cpu", "--json")
    assert INFO_KEYS <= set(info)
    assert (info["device"], info["dtype"], info["quantization"]) == ("cpu", "float32", "none")
    assert info["parameters"] > 1_000_000 and info["footprint_bytes"] > 0 and info["load_seconds"] > 0
    assert "model_record_id" not in info


def test_models_info_records_into_a_session(capsys: pytest.CaptureFixture[str], tiny_model: Path) -> None:
    sid = run(capsys, "session", "new", "--name", "rec", "--json")["id"]
    info = run(capsys, "models", "info", "--model", str(tiny_model), "--session", sid, "--json")
    shown = run(capsys, "session", "show", sid, "--json")
    (load,) = shown["runs"]
    assert (load["kind"], load["status"]) == ("load-model", "finished")
    assert load["result"]["parameters"] == info["parameters"]
    (model,) = run(capsys, "session", "export", sid, "--json")["models"]
    assert model["id"] == info["model_record_id"] and model["source"] == str(tiny_model)
    assert re.fullmatch(r"[0-9a-f]{64}", model["weights_sha256"])


def test_models_chat(capsys: pytest.CaptureFixture[str], tiny_model: Path) -> None:
    result = run(capsys, "models", "chat", "--model", str(tiny_model), "-p", "hi", "-p", "hello",
                 "--json", "--max-new-tokens", "5")
    assert result["model"] == str(tiny_model)
    assert [a["prompt"] for a in result["answers"]] == ["hi", "hello"]
    assert all(isinstance(a["answer"], str) for a in result["answers"])


@pytest.mark.parametrize("argv", [
    ["models", "info", "--model", "/nonexistent"],
    ["models", "chat", "--model", "/nonexistent.gguf", "-p", "hi"],
    ["models", "chat", "--model", "embedded"],  # no prompt
    ["session", "show", "no-such-session"],
])
def test_bad_input_is_exit_2_and_one_stderr_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("b4g: error: "), err


def test_installed_script_help_mentions_b4g_home() -> None:
    script = Path(sys.executable).parent / "b4g"
    assert script.exists(), "the b4g console script is not installed in this environment"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "B4G_HOME" in proc.stdout and "session" in proc.stdout and "models" in proc.stdout
