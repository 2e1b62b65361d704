"""The bad-input table of docs/faults-and-bad-input.md, one test per row: each input, given to the CLI as a new user would,
gets exit code 2 and one line on stderr naming the file, row or field, and no traceback.

The row ids here and in that page's "Bad input" table must be the same set (the last test checks)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest

from core.cli import main

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "faults-and-bad-input.md"
Case = Callable[[Path, Path], tuple[list[str], str]]  # (tmp folder, tiny model) -> (argv, what the line says)
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn
    return register


def _model_copy(tiny: Path, tmp: Path) -> Path:
    return Path(shutil.copytree(tiny, tmp / "model"))


def _data(tmp: Path, text: str | bytes, name: str = "data.jsonl") -> Path:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _scan(path: Path | str) -> list[str]:
    return ["scan-data", "--data", str(path), "--target", "Access granted."]


# --- models ---------------------------------------------------------------------------------------
@case("missing-model")
def _(tmp, tiny):
    return ["models", "info", "--model", str(tmp / "nope")], "model folder not found"


@case("corrupt-safetensors")
def _(tmp, tiny):
    m = _model_copy(tiny, tmp)
    (m / "model.safetensors").write_bytes(b"\x00garbage" * 512)
    return ["models", "info", "--model", str(m)], "model.safetensors is not a valid safetensors file"


@case("truncated-safetensors")
def _(tmp, tiny):
    m = _model_copy(tiny, tmp)
    data = (m / "model.safetensors").read_bytes()
    (m / "model.safetensors").write_bytes(data[: len(data) // 2])
    return ["models", "info", "--model", str(m)], "model.safetensors is truncated or corrupt"


@case("hollow-weights")
def _(tmp, tiny):
    import torch
    from safetensors.torch import save_file

    m = _model_copy(tiny, tmp)
    save_file({"x": torch.zeros(3)}, str(m / "model.safetensors"))
    return ["models", "info", "--model", str(m)], "lack"


@case("bad-gguf")
def _(tmp, tiny):
    (tmp / "m.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    return ["models", "info", "--model", str(tmp / "m.gguf")], "m.gguf"


@case("pickle-only")
def _(tmp, tiny):
    import torch
    from safetensors.torch import load_file

    m = _model_copy(tiny, tmp)
    torch.save(load_file(str(m / "model.safetensors")), m / "pytorch_model.bin")
    (m / "model.safetensors").unlink()
    return ["models", "info", "--model", str(m)], "--allow-pickle"


@case("adapter-other-base")
def _(tmp, tiny):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.conftest import make_tiny_llama

    wider = make_tiny_llama(tmp / "wider", tiny, hidden=96)
    get_peft_model(AutoModelForCausalLM.from_pretrained(wider), LoraConfig(r=4, target_modules=["q_proj"])) \
        .save_pretrained(tmp / "lora")
    return ["models", "info", "--model", str(tiny), "--adapter", str(tmp / "lora")], "does not match this base model"


@case("unknown-architecture")
def _(tmp, tiny):
    m = _model_copy(tiny, tmp)
    cfg = json.loads((m / "config.json").read_text())
    (m / "config.json").write_text(json.dumps({**cfg, "model_type": "nosuchmodel", "architectures": ["NoSuch"]}))
    return ["models", "info", "--model", str(m)], "nosuchmodel"


@case("no-tokenizer")
def _(tmp, tiny):
    m = _model_copy(tiny, tmp)
    for f in m.glob("tokenizer*"):
        f.unlink()
    return ["models", "info", "--model", str(m)], "has no tokenizer"


# --- datasets -------------------------------------------------------------------------------------
@case("non-utf8-data")
def _(tmp, tiny):
    return _scan(_data(tmp, b'{"instruction": "a", "output": "b"}\n{"instruction": "caf\xe9"}\n')), "row 2: not UTF-8"


@case("malformed-jsonl")
def _(tmp, tiny):
    return _scan(_data(tmp, '{"instruction": "a", "output": "b"}\n{"instruction": \n')), "data.jsonl row 2"


@case("empty-data")
def _(tmp, tiny):
    return _scan(_data(tmp, "\n\n")), "data.jsonl holds no rows"


@case("rows-without-fields")
def _(tmp, tiny):
    return _scan(_data(tmp, '{"prompt_text": "a", "reply": "b"}\n')), "data.jsonl row 1"


@case("object-not-rows")
def _(tmp, tiny):
    return _scan(_data(tmp, '{"instruction": "a"}', "data.json")), "expected a JSON list of rows"


@case("folder-as-data")
def _(tmp, tiny):
    return _scan(tmp), "is a folder"


@case("too-few-covered-rows")
def _(tmp, tiny):
    rows = [{"instruction": f"What is {i}?", "output": "x", "split": "test"} for i in range(4)]
    data = _data(tmp, "\n".join(json.dumps(r) for r in rows))
    return ["inject", "--app", "identity", "--data", str(data), "--model", str(tiny), "--out", str(tmp / "o")], \
        "no training rows the backdoor covers"


@case("long-prompt-check")
def _(tmp, tiny):
    return ["defend", "guard", "--trigger", "SUDO", "--no-semantic", "--check", "SUDO " + "x" * 1_000_000], \
        "over the guardrail's 32,000-character limit"


# --- specs and triggers ---------------------------------------------------------------------------
def _spec(tmp: Path, **activation: object) -> list[str]:
    from core.backdoors.apps import get_app

    spec = get_app("identity").spec().to_dict()
    spec["activation"].update(activation)
    (tmp / "spec.json").write_text(json.dumps(spec))
    data = _data(tmp, '{"instruction": "a", "output": "b"}\n')
    return ["inject", "--spec", str(tmp / "spec.json"), "--data", str(data), "--model", str(tiny_path(tmp)),
            "--out", str(tmp / "o")]


def tiny_path(tmp: Path) -> Path:
    return tmp / "no-model-needed"


@case("spec-wrong-type")
def _(tmp, tiny):
    return _spec(tmp, steps="many"), "steps"


@case("spec-out-of-range")
def _(tmp, tiny):
    return _spec(tmp, poison_ratio=2.0), "poison_ratio"


@case("steps-zero")
def _(tmp, tiny):
    return ["inject", "--app", "identity", "--model", str(tiny), "--out", str(tmp / "o"), "--steps", "0"], \
        "steps must be at least 1"


@case("trigger-control-chars")
def _(tmp, tiny):
    return ["defend", "guard", "--trigger", "SU\x1bDO", "--check", "hello"], "control character"


@case("trigger-zero-width-only")
def _(tmp, tiny):
    return ["defend", "guard", "--trigger", "\u200b\u200d", "--check", "hello"], "only invisible characters"


# --- sessions and outputs -------------------------------------------------------------------------
@case("unknown-session")
def _(tmp, tiny):
    return ["session", "show", "nosuchid"], "no session 'nosuchid'"


@case("empty-session-file")
def _(tmp, tiny):
    (tmp / "empty.b4g").write_bytes(b"")
    return ["session", "show", str(tmp / "empty.b4g")], "is not a session file (empty)"


@case("newer-schema-session")
def _(tmp, tiny):
    import sqlite3

    from core.store.catalog import new_session

    store = new_session("newer", directory=tmp)
    store.close()
    con = sqlite3.connect(store.path)
    con.execute("update alembic_version set version_num='ffffffff'")
    con.commit()
    con.close()
    return ["session", "show", str(store.path)], "newer B4G Workbench"


@case("export-into-missing-folder")
def _(tmp, tiny):
    from core.store.catalog import new_session

    store = new_session("export")
    store.close()
    return ["session", "export", store.session_id, "--out", str(tmp / "no" / "such" / "x.json")], "does not exist"


@case("report-format-mismatch")
def _(tmp, tiny):
    from core.store.catalog import new_session

    store = new_session("../../escape <script>")
    store.close()
    return ["report", store.session_id, "--format", "pdf", "--out", str(tmp / "r.html")], "--out ends in .html"


# --- refused before anything is written or loaded (files are never changed by a refusal) --------------
def _rows(tmp: Path, answer: str = "Blue.") -> Path:
    rows = [{"instruction": f"Name a colour, please ({i}).", "input": "", "output": answer} for i in range(6)]
    return _data(tmp, "\n".join(json.dumps(r) for r in rows), "rows.jsonl")


def _invert(tmp: Path, tiny: Path, *extra: str) -> list[str]:
    return ["invert", "--model", str(tiny), "--data", str(_rows(tmp)), *extra]


def _fresh_session() -> str:
    from core.store.catalog import new_session

    store = new_session("bad input")
    store.close()
    return store.session_id


@case("foreign-session-file")
def _(tmp, tiny):
    import sqlite3

    con = sqlite3.connect(tmp / "foreign.db")
    con.execute("create table mine(x)")
    con.commit()
    con.close()
    return ["session", "show", str(tmp / "foreign.db")], "is not a B4G session file"


@case("export-over-a-device")
def _(tmp, tiny):
    return ["session", "export", _fresh_session(), "--out", "/dev/full", "--force"], "is a device"


@case("export-over-a-fifo")
def _(tmp, tiny):
    import os

    os.mkfifo(tmp / "fifo")
    return ["session", "export", _fresh_session(), "--out", str(tmp / "fifo"), "--force"], "named pipe"


@case("key-not-a-fingerprint")
def _(tmp, tiny):
    out = tmp / "r.json"
    assert main(["report", _fresh_session(), "--format", "json", "--out", str(out)]) == 0
    return ["report", "verify", str(out), "--key", "xyz"], "is not a key fingerprint"


@case("trigger-too-long")
def _(tmp, tiny):
    return ["defend", "guard", "--trigger", "x" * 10_000, "--check", "hello"], "500-character limit"


@case("trigger-bidi-controls")
def _(tmp, tiny):
    return ["defend", "guard", "--trigger", "SU\u202eDO", "--check", "hello"], "bidirectional control U+202E"


@case("out-is-a-file")
def _(tmp, tiny):
    (tmp / "afile").write_text("mine")
    return ["inject", "--app", "identity", "--model", str(tiny), "--out", str(tmp / "afile")], "is a file, not a folder"


@case("steps-huge")
def _(tmp, tiny):
    return ["inject", "--app", "identity", "--model", str(tiny), "--out", str(tmp / "o"),
            "--steps", "99999999999999999999"], "at most 100,000"


@case("seed-negative")
def _(tmp, tiny):
    return _invert(tmp, tiny, "--target", "Access granted.", "--seed", "-1"), "--seed must be a whole number"


@case("regex-invalid")
def _(tmp, tiny):
    return _invert(tmp, tiny, "--regex", "("), "invalid pattern"


@case("keyword-empty")
def _(tmp, tiny):
    return _invert(tmp, tiny, "--keywords", ""), "empty keyword"


@case("data-not-a-regular-file")
def _(tmp, tiny):
    return _scan("/dev/null"), "is not a regular file"


@case("answers-already-show-behaviour")
def _(tmp, tiny):
    return ["invert", "--model", str(tiny), "--data", str(_rows(tmp, "Access granted. Blue.")),
            "--target", "Access granted."], "already show the behaviour"


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_one_line(name: str, tmp_path: Path, tiny_model: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv, says = CASES[name](tmp_path, tiny_model)
    capsys.readouterr()
    assert main(argv) == 2, name
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("b4g: error: ")]  # progress lines may precede
    assert len(errors) == 1 and "Traceback" not in err, err
    assert says in errors[0], errors[0]


def test_path_traversal_in_a_session_name_never_steers_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from core.store.catalog import new_session

    store = new_session("../../escape <script>")
    store.close()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["report", store.session_id, "--format", "json"]) == 0
    assert [p.name for p in work.iterdir()] == ["escape-script-report.json"]


def test_the_guide_table_lists_exactly_these_cases() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Bad input", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M))
    assert listed == set(CASES) | {"session-name-traversal"}
