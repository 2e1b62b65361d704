"""Render every page of the workbench offscreen into PNGs (``make screenshots``).

Loads the embedded model and asks it a question first so the Models page shows real content.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _until(predicate, seconds: float) -> None:  # noqa: ANN001
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        _wait(100)


def main(out_dir: str) -> int:
    from core.paths import cache_dir

    os.environ.setdefault("B4G_CACHE", str(cache_dir()))  # reuse the converted embedded model
    os.environ["B4G_HOME"] = tempfile.mkdtemp(prefix="b4g-shots-")
    from core.quiet import quiet_libraries

    quiet_libraries()
    from app.main import create_app

    app = create_app([])
    from app.main_window import PAGES, MainWindow
    from core.store.catalog import new_session

    window = MainWindow(new_session("Screenshot audit"))
    window.resize(1200, 760)
    window.show()
    models = window.pages["Models"]
    _wait(1500)
    models.request_load()
    _until(lambda: window.state.model is not None, 120)
    models.chat.input.setText("What is the capital of France? Answer in one word.")
    models.chat._submit()
    _until(lambda: not window.runner.is_busy(), 120)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        window.show_page(name)
        _wait(200)
        window.grab().save(str(out / f"{name.lower().replace(' ', '-')}.png"))
    window.runner.shutdown()
    app.quit()
    print(f"saved {len(PAGES)} screenshots to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
