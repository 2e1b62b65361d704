"""The workbench's shipped data (datasets, styles, icons, defense word lists) and its one lookup.

Only data ships: the generator scripts next to the datasets (``build_prompts.py`` and the like)
are how the files were made, not something the installed workbench runs, so pyproject.toml leaves
them out of the wheel.
"""

from __future__ import annotations

import sys
from importlib import resources as _importlib_resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """The path of a shipped resource, e.g. ``resource_path("datasets", "mc", "clean_mc.jsonl")``.

    Modules find their data through here, so that one place knows the two layouts
    (tests/unit/test_packaging.py checks that no module asks importlib.resources itself):

    - installed (wheel, editable install, source checkout): the data sits next to this package, and
      ``importlib.resources`` finds it wherever pip put it;
    - frozen (a PyInstaller bundle): ``sys.frozen`` is set and the data was collected under
      ``sys._MEIPASS/resources`` (``--collect-data resources``, see packaging/pyinstaller.md), which
      is where a frozen program must look rather than relying on its import machinery.

    The path is not checked for existence: callers decide whether a missing file is an error.
    """
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS, __name__, *parts)
    # Path(str(...)): the package is always a plain folder (no zip installs), and callers want a Path
    return Path(str(_importlib_resources.files(__name__).joinpath(*parts)))
