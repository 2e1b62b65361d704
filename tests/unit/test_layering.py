"""core/ is the engine: importing it, and every submodule, must not pull in Qt."""

import subprocess
import sys

SCRIPT = """
import core, importlib, pkgutil, sys
for m in pkgutil.walk_packages(core.__path__, 'core.'):
    importlib.import_module(m.name)
qt = sorted(k for k in sys.modules if k.startswith(('PySide6', 'PyQt', 'pyqtgraph')))
print(','.join(qt))
"""


def test_core_and_all_submodules_import_without_qt() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"core pulled in Qt modules: {out.stdout.strip()}"


def test_app_may_import_core_but_core_never_names_app() -> None:
    from pathlib import Path

    core_dir = Path(__file__).resolve().parents[2] / "core"
    offenders = [p for p in core_dir.rglob("*.py") if "from app" in p.read_text() or "import app" in p.read_text()]
    assert offenders == []


def test_the_declared_layers_hold() -> None:
    """The import-linter contracts in pyproject.toml (the window above the engine, the engine's layers,
    no job importing another, no cycle between the engine's packages) hold for the code as it is."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_the_cli_parser_starts_without_torch() -> None:
    """``b4g --help`` and every argument error come from the parser alone: building it must not import
    torch or transformers (seconds per call, for every script and test that runs ``b4g``)."""
    code = ("import sys; from core.cli import build_parser; build_parser(); "
            "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"building the CLI parser imported {out.stdout.strip()}"
