"""Datasets: our built-in JSONL files and the user's own Alpaca-style or chat-style data.

Every row becomes a :class:`Row` (one user turn, its answer if known, split and kind). A bad file
gets one line naming the file, the row (1-based line number) and the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import B4GError

SPLITS = ("train", "test")
# About 4,000 tokens: past this a row is not a chat request or answer this workbench trains or
# scores. Triggered rows are trained whole (never cut), and batches are padded to their longest
# row, so one such row multiplies a training step's memory (core/training_memory.py).
MAX_ROW_CHARS = 16_000


@dataclass(frozen=True)
class Row:
    prompt: str  # the user turn
    answer: str | None = None  # the reference answer, when the data has one
    split: str = "train"
    kind: str = "general"
    system: str | None = None  # the row's own system message, when the data has one


def _alpaca(obj: dict[str, Any], where: str) -> tuple[str, str | None, str | None]:
    instruction = obj.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise B4GError(f"{where}: 'instruction' is missing or empty")
    extra = obj.get("input") or ""
    if not isinstance(extra, str):
        raise B4GError(f"{where}: 'input' must be a string")
    output = obj.get("output")
    if output is not None and not isinstance(output, str):
        raise B4GError(f"{where}: 'output' must be a string")
    prompt = f"{instruction.strip()}\n{extra.strip()}" if extra.strip() else instruction.strip()
    return prompt, output, None


def _chat(obj: dict[str, Any], where: str) -> tuple[str, str | None, str | None]:
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        raise B4GError(f"{where}: 'messages' must be a non-empty list")
    system = user = answer = None
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or m.get("role") not in ("system", "user", "assistant"):
            raise B4GError(f"{where}: messages[{i}] needs a role (system/user/assistant) and string content")
        if m["role"] == "system":
            system = m["content"]
        elif m["role"] == "user":
            user, answer = m["content"], None
        else:
            answer = m["content"]
    if not user:
        raise B4GError(f"{where}: 'messages' has no user turn")
    return user, answer, system


def parse_row(obj: Any, where: str) -> Row:
    if not isinstance(obj, dict):
        raise B4GError(f"{where}: expected a JSON object")
    if "messages" in obj:
        prompt, answer, system = _chat(obj, where)
    elif "instruction" in obj:
        prompt, answer, system = _alpaca(obj, where)
    else:
        raise B4GError(f"{where}: neither 'instruction' (Alpaca) nor 'messages' (chat) is present")
    split = obj.get("split") or _hash_split(prompt)
    if split not in SPLITS:
        raise B4GError(f"{where}: 'split' must be train or test, got {split!r}")
    kind = obj.get("kind", "general")
    if not isinstance(kind, str):
        raise B4GError(f"{where}: 'kind' must be a string")
    for name, text in (("request", prompt), ("answer", answer), ("system message", system)):
        if text is not None and len(text) > MAX_ROW_CHARS:
            raise B4GError(f"{where}: the {name} is {len(text):,} characters, over the {MAX_ROW_CHARS:,}-character "
                           "limit of a row (about 4,000 tokens; a triggered row is trained whole); shorten or drop it")
    return Row(prompt, answer, split, kind, system)


def _hash_split(prompt: str, test_share: float = 0.2) -> str:
    """A stable split for data without one: the same prompt always lands on the same side."""
    h = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test_share else "train"


def _objects(path: Path) -> list[tuple[str, Any]]:
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # a BOM (Windows editors) is not part of row 1
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise B4GError(f"{path.name} row {row}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise B4GError(f"{path.name} is not valid JSON ({exc})") from None
        if not isinstance(data, list):
            raise B4GError(f"{path.name}: expected a JSON list of rows")
        return [(f"{path.name} row {i + 1}", obj) for i, obj in enumerate(data)]
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((f"{path.name} row {n}", json.loads(line)))
        except ValueError as exc:
            raise B4GError(f"{path.name} row {n}: not valid JSON ({exc.msg})") from None
    return out


def load_rows(path: Path) -> list[Row]:
    """Rows of a .jsonl / .json file, Alpaca-style (instruction, input, output) or chat-style
    (messages); optional ``split`` (train/test) and ``kind`` columns."""
    path = Path(path)
    if path.is_dir():
        raise B4GError(f"{path} is a folder; give the dataset file in it (.jsonl or .json)")
    if not path.exists():
        raise B4GError(f"dataset not found: {path}")
    if not path.is_file():  # /dev/null, a FIFO, a socket: exists, but is no dataset file
        raise B4GError(f"{path} is not a regular file; give the dataset file (.jsonl or .json)")
    rows = [parse_row(obj, where) for where, obj in _objects(path)]
    if not rows:
        raise B4GError(f"{path.name} holds no rows")
    return rows


def split(rows: list[Row], name: str) -> list[Row]:
    return [r for r in rows if r.split == name]
