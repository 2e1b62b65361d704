"""Result sections (core.sections) as HTML for the pages' text views: rows, notes, tables."""

from __future__ import annotations

import html
from typing import Any


def sections_html(sections: list[Any]) -> str:
    """Every value is escaped: results quote model output and user data."""
    e = html.escape
    parts = []
    for section in sections:
        rows = "".join(f"<tr><td><b>{e(r.label)}</b></td><td>{e(r.value)}</td><td><i>{e(r.note)}</i></td></tr>"
                       for r in section.rows)
        parts.append(f"<h3>{e(section.title)}</h3><table cellpadding='4'>{rows}</table>")
        for table in section.tables:
            if not table.rows:
                continue
            head = "".join(f"<th align='left'>{e(c)}</th>" for c in table.columns)
            body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in table.rows)
            parts.append(f"<p><b>{e(table.title)}</b></p><table cellpadding='4'><tr>{head}</tr>{body}</table>")
    return "".join(parts)
