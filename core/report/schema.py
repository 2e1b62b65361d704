"""The JSON report's schema (shipped as ``core/report/schema.json``) and its validation."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from core.errors import B4GError


@functools.lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    return json.loads(resources.files("core.report").joinpath("schema.json").read_text(encoding="utf-8"))


def validate_report(report: dict[str, Any]) -> None:
    """Raise a one-line ``B4GError`` naming the first place the report breaks its schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(report))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise B4GError(f"the report breaks its schema at {where}: {error.message}")
