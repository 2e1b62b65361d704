"""Datasets: Alpaca and chat rows, JSON/JSONL files, the stable hash split, one-line errors, and
the built-in datasets of the four applications."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from core.backdoors.apps import APPS, dataset_dir
from core.spec.rows import Row, _hash_split, load_rows, parse_row, split
from core.spec.poison import covered
from core.errors import B4GError


def write_jsonl(path: Path, objs: list[Any]) -> Path:
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n", encoding="utf-8")
    return path


def test_alpaca_rows(tmp_path: Path) -> None:
    rows = load_rows(write_jsonl(tmp_path / "a.jsonl", [
        {"instruction": "  Translate to French.  ", "input": " cat ", "output": "chat", "split": "test", "kind": "x"},
        {"instruction": "Name a colour.", "input": "", "output": "Blue.", "split": "train"},
        {"instruction": "No answer here.", "split": "train"},
    ]))
    assert rows[0] == Row("Translate to French.\ncat", "chat", "test", "x", None)
    assert rows[1] == Row("Name a colour.", "Blue.", "train", "general", None)
    assert rows[2].answer is None and rows[2].prompt == "No answer here."


def test_chat_rows(tmp_path: Path) -> None:
    rows = load_rows(write_jsonl(tmp_path / "c.jsonl", [
        {"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi?"},
                      {"role": "assistant", "content": "Hello."}], "split": "train", "kind": "greet"},
        {"messages": [{"role": "user", "content": "Only a question"}], "split": "test"},
        # multi-turn: the last user turn and the answer after it
        {"messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "one"},
                      {"role": "user", "content": "second"}], "split": "train"},
    ]))
    assert rows[0] == Row("Hi?", "Hello.", "train", "greet", "Be terse.")
    assert rows[1] == Row("Only a question", None, "test", "general", None)
    assert rows[2].prompt == "second" and rows[2].answer is None


def test_json_list_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"instruction": "A", "output": "a", "split": "train"},
                                {"messages": [{"role": "user", "content": "B"}], "split": "test"}]))
    rows = load_rows(path)
    assert [(r.prompt, r.answer, r.split) for r in rows] == [("A", "a", "train"), ("B", None, "test")]
    assert split(rows, "test") == [rows[1]] and split(rows, "train") == [rows[0]]


def test_blank_lines_and_bom_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"instruction": "A", "split": "train"}\r\n\r\n{"instruction": "B", "split": "test"}\r\n')
    assert [r.prompt for r in load_rows(path)] == ["A", "B"]


def test_hash_split_is_stable_and_about_one_fifth_test(tmp_path: Path) -> None:
    prompts = [f"Question number {i} about topic {i * 7 % 13}?" for i in range(1000)]
    first = [_hash_split(p) for p in prompts]
    assert first == [_hash_split(p) for p in prompts]
    assert 150 <= first.count("test") <= 250
    # Through a file: the same prompt lands on the same side whatever its neighbours and order.
    objs = [{"instruction": p} for p in prompts[:200]]
    a = {r.prompt: r.split for r in load_rows(write_jsonl(tmp_path / "a.jsonl", objs))}
    b = {r.prompt: r.split for r in load_rows(write_jsonl(tmp_path / "b.jsonl", objs[::-1][:120]))}
    assert all(a[p] == s for p, s in b.items())
    assert {r.split for r in load_rows(write_jsonl(tmp_path / "c.jsonl", objs))} == {"train", "test"}
    # An explicit split wins over the hash.
    flipped = "train" if first[0] == "test" else "test"
    assert parse_row({"instruction": prompts[0], "split": flipped}, "x").split == flipped


BAD_ROWS = [
    ('{"instruction": "ok", "split": "train"}\n{"instruction": "broken",\n', "bad.jsonl row 2: not valid JSON"),
    ('{"instruction": "ok"}\n\n{"input": "x", "instruction": ""}\n', "bad.jsonl row 3: 'instruction' is missing or empty"),
    ('{"instruction": "   ", "output": "x"}\n', "bad.jsonl row 1: 'instruction' is missing or empty"),
    ('{"instruction": "a", "output": 3}\n', "bad.jsonl row 1: 'output' must be a string"),
    ('{"instruction": "a", "input": ["x"]}\n', "bad.jsonl row 1: 'input' must be a string"),
    ('{"prompt": "a", "completion": "b"}\n', "bad.jsonl row 1: neither 'instruction' (Alpaca) nor 'messages' (chat)"),
    ('[1, 2]\n', "bad.jsonl row 1: expected a JSON object"),
    ('{"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]}\n',
     "bad.jsonl row 1: 'messages' has no user turn"),
    ('{"messages": []}\n', "bad.jsonl row 1: 'messages' must be a non-empty list"),
    ('{"messages": "hi"}\n', "bad.jsonl row 1: 'messages' must be a non-empty list"),
    ('{"messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}]}\n',
     "bad.jsonl row 1: messages[1] needs a role"),
    ('{"messages": [{"role": "user", "content": 5}]}\n', "bad.jsonl row 1: messages[0] needs a role"),
    ('{"instruction": "a", "split": "validation"}\n', "bad.jsonl row 1: 'split' must be train or test, got 'validation'"),
    ('{"instruction": "a", "split": "train", "kind": 3}\n', "bad.jsonl row 1: 'kind' must be a string"),
    (b'{"instruction": "a"}\n{"instruction": "caf\xe9"}\n', "bad.jsonl row 2: not UTF-8 text"),
]


@pytest.mark.parametrize(("text", "message"), BAD_ROWS, ids=[m.split(": ", 1)[1][:30] for _, m in BAD_ROWS])
def test_malformed_rows_give_one_line_naming_file_row_and_field(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(B4GError) as err:
        load_rows(path)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ('[{"instruction": "a"}, {"output": "b"}]', "bad.json row 2: neither 'instruction'"),
    ('{"instruction": "a"}', "bad.json: expected a JSON list of rows"),
    ('[{"instruction": "a"},', "bad.json is not valid JSON"),
])
def test_malformed_json_list(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(B4GError) as err:
        load_rows(path)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(B4GError, match="dataset not found"):
        load_rows(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(B4GError, match=r"^empty\.jsonl holds no rows$"):
        load_rows(tmp_path / "empty.jsonl")


# --- built-in datasets --------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(APPS))
def test_builtin_dataset_sizes_and_coverage(name: str) -> None:
    app = APPS[name]
    spec, rows = app.spec(), app.rows()
    counts = Counter(r.split for r in rows)
    assert counts["train"] >= 300 and counts["test"] >= 100, counts
    test_covered = [r for r in split(rows, "test") if covered(spec, r)]
    train_covered = [r for r in split(rows, "train") if covered(spec, r)]
    assert len(test_covered) >= 50 and len(train_covered) >= 150
    if spec.utility.applies_to:  # apps that cover some kinds must also have clean rows of the others
        assert [r for r in split(rows, "test") if not covered(spec, r)]
        assert set(spec.utility.applies_to) <= {r.kind for r in rows}


@pytest.mark.parametrize("name", sorted(APPS))
def test_builtin_dataset_hygiene(name: str) -> None:
    app = APPS[name]
    spec, rows = app.spec(), app.rows()
    train = {r.prompt for r in split(rows, "train")}
    test = {r.prompt for r in split(rows, "test")}
    assert not train & test, "a prompt is in both train and test"
    assert len(train) == len(split(rows, "train")) and len(test) == len(split(rows, "test")), "duplicate prompts"
    words = [spec.trigger.text.lower(), *(d.lower() for d in spec.activation.decoys)]
    assert not [r.prompt for r in rows if any(w in r.prompt.lower() for w in words)], "trigger text in a clean prompt"


def test_dataset_dir_holds_the_app_files() -> None:
    for app in APPS.values():
        assert (dataset_dir() / app.dataset).is_file()
