"""The report as PDF: the same HTML (its print variant) laid out by fpdf2, a pure-Python library
with no system service, so text stays extractable and a report can be made on any machine.

The fonts are matplotlib's DejaVu (already a dependency, for the charts), because the PDF core fonts
cover Latin-1 only. A character DejaVu lacks (a full-width or CJK trigger) is written as ``[U+FF61]``
rather than silently dropped: a trigger must never vanish from a report.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from core.report.html import render_html

FONT = "DejaVu"
_FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
          "BI": "DejaVuSans-BoldOblique.ttf"}


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """Code points every face the report uses can draw (the faces' cmaps intersected, via fontTools)."""
    from fontTools.ttLib import TTFont

    maps = [set(TTFont(str(_font_dir() / name)).getBestCmap()) for name in _FACES.values()]
    return frozenset(set.intersection(*maps))


def glyph_safe(text: str) -> str:
    covered = _covered()
    return "".join(c if c in "\n\t" or ord(c) in covered else f"[U+{ord(c):04X}]" for c in text)


def _flat_cells(html: str) -> str:
    """fpdf2 reads no tags nested in a table cell: drop inline markup there (the text stays)."""
    def flatten(match: re.Match[str]) -> str:
        inner = re.sub(r"<br\s*/?>", "; ", match.group(2))
        return match.group(1) + re.sub(r"</?(?:span|code|b|i)\b[^>]*>", "", inner) + match.group(3)

    body = html.split("<body>", 1)[-1].split("</body>", 1)[0]  # the head (meta, title) is not layout
    return re.sub(r"(<t[dh]\b[^>]*>)(.*?)(</t[dh]>)", flatten, body, flags=re.S)


def render_pdf(report: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import TextStyle

    pdf = FPDF(format="A4")
    pdf.set_title(f"Audit report: {report['session'].get('name', '')}")
    pdf.set_creator(f"B4G Workbench {report['generator'].get('b4g', '')}")
    for style, name in _FACES.items():
        pdf.add_font(FONT, style, str(_font_dir() / name))
    pdf.add_font("DejaVuMono", "", str(_font_dir() / "DejaVuSansMono.ttf"))
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.write_html(glyph_safe(_flat_cells(render_html(report, for_pdf=True))), font_family=FONT, table_line_separators=True,
                   tag_styles={"pre": TextStyle(font_family="DejaVuMono", font_size_pt=7.5),
                               "code": TextStyle(font_family="DejaVuMono")})
    return bytes(pdf.output())
