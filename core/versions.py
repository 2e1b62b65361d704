"""Library versions recorded with every run, so a result can be traced to its software."""

from __future__ import annotations

import platform
from importlib import metadata

import core

_LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes", "gguf", "sqlalchemy")


def library_versions() -> dict[str, str]:
    """Versions read from package metadata (no heavy imports), plus Python and the workbench."""
    out = {"b4g": core.__version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
