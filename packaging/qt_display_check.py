"""Before `make run` opens the window: can Qt start a platform plugin here?

PySide6's wheels bundle Qt but not the system libraries its X11 (xcb) and Wayland plugins link
against. When one is missing, Qt aborts the interpreter (exit 134) after a page of plugin debug
text. This check asks `ldd` which of the plugin's libraries are missing (about 20 ms, nothing is
loaded), names the Debian packages that hold them and the apt-get line, and exits 1 only when no
platform Qt would try can start. It never imports Qt, so it cannot crash the way Qt does.

    python packaging/qt_display_check.py [--plugins DIR]

Exit status: 0 when the window can start (notes on stderr for a fallback that could not), 1 when
it cannot. Outside Linux it checks nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The shared libraries that Qt's xcb and wayland plugins (and QtGui below them) link against and a
# desktop-less Debian or Ubuntu machine may lack, with the Debian package of each. Measured with
# PySide6 6.11 on Debian 12: `xvfb-run -a b4g-workbench` aborted until libxcb-icccm4 and
# libxcb-keysyms1 were installed; the rest are what `ldd libqxcb.so` and `ldd libqwayland.so` list.
PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libzstd.so.1": "libzstd1",
    "libz.so.1": "zlib1g",
}

# Platforms that draw on a display server, and how to tell one is there.
NEEDS_DISPLAY = {
    "xcb": "DISPLAY is not set (no X server): run `xvfb-run -a make run` "
           "(Debian: apt-get install xvfb xauth), or set QT_QPA_PLATFORM=offscreen",
    "wayland": "no Wayland compositor (WAYLAND_DISPLAY is not set and $XDG_RUNTIME_DIR/wayland-0 "
               "does not exist)",
}


@dataclass
class Verdict:
    """What one platform plugin needs that this machine lacks (empty: it can start)."""

    platform: str
    missing: list[str] = field(default_factory=list)
    display: str | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and self.display is None


def candidate_platforms(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order: QT_QPA_PLATFORM's list, else Qt 6's default
    (wayland then xcb in a Wayland session, xcb otherwise). Arguments after ':' are dropped."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return [item.split(":")[0].strip() for item in chosen.split(";") if item.strip()]
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def plugins_folder() -> Path | None:
    """PySide6's platform plugins, found without importing PySide6 (None when it is not installed)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms"


def plugin_file(platform: str, folder: Path) -> Path:
    # wayland-egl, wayland-brcm and wayland are keys of one plugin file
    stem = "wayland" if platform.startswith("wayland") else platform
    return folder / f"libq{stem}.so"


def parse_ldd(text: str) -> list[str]:
    """The sonames `ldd` reports as "not found", each once, in order."""
    found = [line.split("=>")[0].strip() for line in text.splitlines() if "=> not found" in line]
    return list(dict.fromkeys(found))


def missing_libraries(library: Path) -> list[str]:
    """Sonames the dynamic loader cannot find for ``library`` (empty when ldd is unavailable)."""
    ldd = shutil.which("ldd")
    if ldd is None or not library.is_file():
        return []
    run = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=20, check=False)
    return parse_ldd(run.stdout)


def display_problem(platform: str, env: Mapping[str, str]) -> str | None:
    if platform == "xcb" and not env.get("DISPLAY"):
        return NEEDS_DISPLAY["xcb"]
    if platform.startswith("wayland") and not env.get("WAYLAND_DISPLAY"):
        runtime = env.get("XDG_RUNTIME_DIR")
        if not runtime or not (Path(runtime) / "wayland-0").exists():
            return NEEDS_DISPLAY["wayland"]
    return None


def judge(platform: str, folder: Path | None, env: Mapping[str, str],
          missing: Callable[[Path], list[str]] = missing_libraries) -> Verdict:
    """A plugin Qt does not ship, or a PySide6 we cannot find, is not ours to judge: it passes."""
    libs = missing(plugin_file(platform, folder)) if folder is not None else []
    return Verdict(platform, libs, display_problem(platform, env))


def install_line(sonames: list[str]) -> list[str]:
    """The apt-get line for the sonames we know, and a search hint for the others."""
    packages = list(dict.fromkeys(PACKAGES[s] for s in sonames if s in PACKAGES))
    unknown = [s for s in sonames if s not in PACKAGES]
    lines = [f"    install them with: sudo apt-get install {' '.join(packages)}"] if packages else []
    lines += [f"    {s}: find its package with `apt-file search {s}`" for s in unknown]
    return lines


def describe(verdict: Verdict) -> list[str]:
    lines = []
    if verdict.missing:
        lines.append(f"  Qt's {verdict.platform} plugin needs libraries this machine lacks: {', '.join(verdict.missing)}")
        lines += install_line(verdict.missing)
    if verdict.display:
        lines.append(f"  Qt's {verdict.platform} plugin: {verdict.display}")
    return lines


def check(env: Mapping[str, str], folder: Path | None,
          missing: Callable[[Path], list[str]] = missing_libraries) -> tuple[bool, list[str]]:
    """(can the window start, lines to print). Qt takes the first plugin that starts, so one is enough."""
    verdicts = [judge(p, folder, env, missing) for p in candidate_platforms(env)]
    ok = any(v.ok for v in verdicts)
    lines = [line for v in verdicts if not v.ok for line in describe(v)]
    if not ok:
        lines = ["b4g-workbench: the window cannot start here."] + lines
        lines.append("  (without a window: QT_QPA_PLATFORM=offscreen, or use the `b4g` command line)")
    elif lines:
        lines = ["b4g-workbench: note (the window can still start):"] + lines
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=Path, help="Qt's platforms folder (default: PySide6's)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        return 0
    ok, lines = check(os.environ, args.plugins or plugins_folder())
    for line in lines:
        print(line, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
