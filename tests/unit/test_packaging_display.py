"""packaging/qt_display_check.py: before `make run`, name the Debian packages Qt's display plugins
lack, and stop only when no platform Qt would try can start (Qt itself aborts with exit 134)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "qt_display_check.py"

# `ldd libqxcb.so` on Debian 12 with xvfb installed and nothing else (PySide6 6.11.3), abridged
LDD_XCB = """\
\tlinux-vdso.so.1 (0x00007ffd5a1f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f0c1c000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0c1bfd0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
"""


def _load():
    spec = importlib.util.spec_from_file_location("b4g_qt_display_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_mod = _load()


def _missing_for(**by_plugin: list[str]):
    """A fake ldd: plugin file stem (e.g. "libqxcb") -> missing sonames."""
    return lambda path: by_plugin.get(path.stem, [])


def test_parse_ldd_keeps_each_missing_soname_once() -> None:
    assert check_mod.parse_ldd(LDD_XCB) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_candidates_follow_qt_qpa_platform_then_the_session() -> None:
    assert check_mod.candidate_platforms({}) == ["xcb"]
    assert check_mod.candidate_platforms({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert check_mod.candidate_platforms({"QT_QPA_PLATFORM": "offscreen"}) == ["offscreen"]
    assert check_mod.candidate_platforms({"QT_QPA_PLATFORM": "wayland-egl;xcb:nograb"}) == ["wayland-egl", "xcb"]


def test_missing_xcb_libraries_stop_the_window_with_the_apt_get_line(tmp_path: Path) -> None:
    ok, lines = check_mod.check({"DISPLAY": ":99"}, tmp_path,
                                _missing_for(libqxcb=["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]))
    text = "\n".join(lines)
    assert not ok
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in text
    assert "QT_QPA_PLATFORM=offscreen" in text


def test_offscreen_does_not_need_the_xcb_libraries(tmp_path: Path) -> None:
    ok, lines = check_mod.check({"QT_QPA_PLATFORM": "offscreen"}, tmp_path,
                                _missing_for(libqxcb=["libxcb-icccm.so.4"]))
    assert ok and lines == []


def test_working_wayland_passes_and_names_what_the_xcb_fallback_lacks(tmp_path: Path) -> None:
    env = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    ok, lines = check_mod.check(env, tmp_path, _missing_for(libqxcb=["libxcb-cursor.so.0"]))
    assert ok
    assert any("sudo apt-get install libxcb-cursor0" in line for line in lines)
    assert lines[0].startswith("b4g-workbench: note")


def test_no_display_stops_with_the_xvfb_hint(tmp_path: Path) -> None:
    ok, lines = check_mod.check({}, tmp_path, _missing_for())
    assert not ok
    assert any("xvfb-run -a make run" in line for line in lines)


def test_unknown_soname_gets_a_search_hint_not_a_guess() -> None:
    lines = check_mod.install_line(["libxcb-icccm.so.4", "libb4g-nowhere.so.7"])
    assert lines[0].endswith("apt-get install libxcb-icccm4")
    assert "apt-file search libb4g-nowhere.so.7" in lines[1]


def test_without_pyside6_found_nothing_is_blocked() -> None:
    ok, _ = check_mod.check({"DISPLAY": ":1"}, None, _missing_for(libqxcb=["libxcb-icccm.so.4"]))
    assert ok


@pytest.fixture
def plugin_missing_a_library(tmp_path: Path) -> Path:
    """A real platforms folder whose libqxcb.so links a library that is then deleted."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("ldd") is None:
        pytest.skip("needs a C compiler and ldd to build a plugin with a missing library")
    (tmp_path / "stub.c").write_text("void b4g_stub(void) {}\n")
    (tmp_path / "plugin.c").write_text("extern void b4g_stub(void);\nvoid b4g_plugin(void) { b4g_stub(); }\n")
    stub = "libb4g-absent.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", stub, f"-Wl,-soname,{stub}", "stub.c"], cwd=tmp_path, check=True)
    folder = tmp_path / "platforms"
    folder.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(folder / "libqxcb.so"), "plugin.c", "-Wl,--no-as-needed",
                    f"-l:{stub}", "-L."], cwd=tmp_path, check=True)
    (tmp_path / stub).unlink()
    return folder


def test_ldd_finds_the_deleted_library(plugin_missing_a_library: Path) -> None:
    assert check_mod.missing_libraries(plugin_missing_a_library / "libqxcb.so") == ["libb4g-absent.so.1"]


def _run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_QPA_PLATFORM")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_script_exits_1_and_names_the_library_when_the_window_cannot_start(plugin_missing_a_library: Path) -> None:
    run = _run_script({"DISPLAY": ":99"}, "--plugins", str(plugin_missing_a_library))
    assert run.returncode == 1, run.stderr
    assert "libb4g-absent.so.1" in run.stderr and "apt-file search" in run.stderr


def test_script_passes_offscreen_without_importing_qt() -> None:
    probe = (f"import runpy, sys; sys.argv = ['x']\n"
             f"try:\n    runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
             f"except SystemExit as e:\n    code = e.code\n"
             f"print(code, [m for m in sys.modules if m.startswith('PySide6')])")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.stdout.split() == ["0", "[]"], run.stdout + run.stderr


def test_make_run_checks_before_it_opens_the_window() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun: install\n", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("packaging/qt_display_check.py") < recipe.index("b4g-workbench")
