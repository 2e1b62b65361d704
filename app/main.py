"""``b4g-workbench``: start the desktop window on the last session (or a new one)."""

from __future__ import annotations

import os
import sys

NO_DISPLAY = """b4g-workbench: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).
Run it on a desktop, or give it a virtual screen:
    sudo apt-get install xvfb && xvfb-run -a make run
(or set QT_QPA_PLATFORM=offscreen to run without showing anything)."""


def has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def create_app(argv: list[str]):  # noqa: ANN201 - QApplication, imported lazily
    from PySide6.QtWidgets import QApplication

    from app.style import apply_style

    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("B4G")
    app.setApplicationName("B4G Workbench")
    app.setApplicationDisplayName("B4G Workbench")
    apply_style(app)
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from core.quiet import quiet_libraries

    quiet_libraries()
    app = create_app(argv)
    from app.main_window import MainWindow
    from core.store.catalog import current_or_new

    window = MainWindow(current_or_new())
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
