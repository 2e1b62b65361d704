"""The clean-answer cache survives a line torn by a killed writer: that line is skipped (and later
regenerated), every whole line is still read."""

import json
from pathlib import Path

from core.backdoors.clean_answers import _key, _read


def test_a_torn_line_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    rows = [{"model": "m", "system": "s", "prompt": f"p{i}", "max_new_tokens": 8, "answer": f"a{i}"} for i in range(3)]
    lines = [json.dumps(r) for r in rows]
    cache = tmp_path / "clean_answers.jsonl"
    cache.write_text(lines[0] + "\n" + lines[1][:20] + "\n" + lines[2] + "\n\n", encoding="utf-8")
    got = _read(cache)
    assert got == {_key("m", "s", "p0", 8): "a0", _key("m", "s", "p2", 8): "a2"}
