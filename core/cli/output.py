"""Printing results: JSON for scripts (``--json``), readable text for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table



def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def emit_pairs(title: str, pairs: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in pairs.items():
        table.add_row(key, str(value))
    Console().print(table)


def emit_rows(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console().print(table)


def emit_sections(sections: list[Any]) -> None:
    """Print :mod:`core.sections` sections: key/value rows, then each section's tables."""
    for section in sections:
        emit_pairs(section.title, section.pairs())
        for table in section.tables:
            if table.rows:
                emit_rows(table.title, table.columns, table.rows)
