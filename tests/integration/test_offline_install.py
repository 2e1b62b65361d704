"""Install with no network: `make install WHEELHOUSE=DIR` into a fresh venv with the network refused,
then `b4g models info --model embedded --json` from it.

Opt-in (B4G_OFFLINE_INSTALL=1): about 6 minutes on 2 cores, most of it pip installing ~100 wheels, and
it writes a ~500 MB wheelhouse (kept in build/wheelhouse, git-ignored, rebuilt when pyproject.toml
changes; building it needs the network once) and a 2.4 GB venv under the test's tmp folder.

The network is refused with `unshare -n` (a new network namespace with only a down loopback) where
this process may create one (root, or unprivileged user namespaces); elsewhere pip's --no-index is
the only guard, and the test says so in its output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / "build" / "wheelhouse"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.environ.get("B4G_OFFLINE_INSTALL") != "1",
                       reason="opt-in, about 6 min and a 500 MB wheelhouse: set B4G_OFFLINE_INSTALL=1"),
    pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("make") is None,
                       reason="needs Linux and make"),
    pytest.mark.timeout(2400),
]


def _wheelhouse_is_current() -> bool:
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from wheelhouse import LISTING, pyproject_digest
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    listing = WHEELHOUSE / LISTING
    return listing.is_file() and listing.read_text().splitlines()[0].endswith(pyproject_digest())


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    if not _wheelhouse_is_current():
        run = subprocess.run(["make", "wheelhouse", f"WHEELHOUSE={WHEELHOUSE}", f"VENV={Path(sys.prefix)}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if run.returncode != 0:
            pytest.skip(f"could not build the wheelhouse (no network?): {run.stderr.strip()[-400:]}")
    return WHEELHOUSE


def _offline_prefix() -> list[str]:
    """`unshare -n` when it works here (checked: nothing outside can be reached), else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        print("unshare -n is not available: only pip's --no-index keeps the install off the network")
        return []
    probe = "import socket; socket.create_connection(('1.1.1.1', 443), timeout=5)"
    assert subprocess.run([unshare, "-n", sys.executable, "-c", probe], capture_output=True).returncode != 0
    return [unshare, "-n"]


def test_install_from_the_wheelhouse_with_the_network_refused(wheelhouse: Path, tmp_path: Path) -> None:
    offline = _offline_prefix()
    venv = tmp_path / "venv"
    try:
        _install_and_ask(offline, wheelhouse, venv, tmp_path)
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # 2.4 GB: pytest keeps its last three tmp folders


def _install_and_ask(offline: list[str], wheelhouse: Path, venv: Path, tmp_path: Path) -> None:
    base_python = getattr(sys, "_base_executable", sys.executable)  # the wheels match this Python
    install = subprocess.run([*offline, "make", "install", f"WHEELHOUSE={wheelhouse}", f"VENV={venv}",
                              f"PYTHON={base_python}"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    assert "--no-index" in install.stdout

    info = subprocess.run([*offline, str(venv / "bin" / "b4g"), "models", "info", "--model", "embedded", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert info.returncode == 0, info.stderr[-3000:]
    report = json.loads(info.stdout)
    assert report["ref"]["kind"] == "embedded"
    assert report["parameters"] == 134_515_008
