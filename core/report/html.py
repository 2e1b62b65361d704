"""The report as one self-contained HTML file (CSS inline, images as data URIs), via Jinja2.

Autoescaping is on for the whole template: a trigger, prompt, model answer, dataset path or
session name is data, and a trigger may well be ``<script>…``. Nothing is marked safe except the
data URIs this module makes itself.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from core.report import charts


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("core.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = lambda s: repr(s) if isinstance(s, str) else ("–" if s is None else str(s))
    env.filters["num"] = lambda v, fmt=".2f": "–" if v is None else format(v, fmt)
    env.filters["short"] = lambda h, n=16: "–" if not h else f"{h[:n]}…"
    env.filters["parts"] = _parts
    env.filters["compact"] = lambda v: json.dumps(v, ensure_ascii=False, default=str, separators=(", ", ": "))
    env.filters["pretty"] = lambda v: json.dumps(v, indent=1, ensure_ascii=False, default=str)
    return env


def _parts(parts: dict[str, Any] | None) -> str:
    """A candidate's reward parts, numbers only (the stored row may also hold its whole record)."""
    skip = {"reward", "r_asr", "prompts", "said_in", "first_step", "last_step"}
    shown = [f"{k} {v:.3f}" for k, v in (parts or {}).items()
             if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in skip]
    if (parts or {}).get("position"):
        shown.append(f"at the {parts['position']}")
    return "; ".join(shown) or "–"


def _uri(png: bytes | None) -> Markup | None:
    return Markup("data:image/png;base64," + base64.b64encode(png).decode()) if png else None


def run_images(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The pictures a run gets: curves of its metric points, the guardrail's ROC."""
    images, res = [], run.get("result") or {}
    series = run.get("curves") or {}
    if run["kind"] == "invert":
        k = res.get("k", 5)
        images.append(("Inversion curves", charts.curves_png("Reward and R_asr", series, charts.INVERSION_CURVES,
                                                             res.get("emergence_step"), "emergence step")))
        images.append((f"Awareness@{k}", charts.awareness_png(series, k, res.get("emergence_step"))))
    elif run["kind"] in ("unlearn", "inject", "organism"):
        images.append(("Training loss", charts.curves_png("Training loss", series, charts.TRAINING_CURVES)))
    elif run["kind"] == "remove":
        images.append(("Removal curves", charts.curves_png("Inner objective and outer loss", series,
                                                           charts.REMOVAL_CURVES)))
    elif run["kind"] == "guard" and (res.get("guardrail") or {}).get("roc"):
        g = res["guardrail"]
        images.append(("Guardrail ROC", charts.roc_png(g["roc"], g["roc_auc"], g["fpr"], g["tpr"])))
    return [{"title": title, "src": _uri(png)} for title, png in images if png]


def render_html(report: dict[str, Any], for_pdf: bool = False) -> str:
    """The report's HTML; ``for_pdf`` drops what the PDF renderer does not read (CSS, <details>)."""
    images = {run["id"]: run_images(run) for run in report["runs"]}
    template = _environment().get_template("report.html.j2")
    return template.render(r=report, images=images, for_pdf=for_pdf)
