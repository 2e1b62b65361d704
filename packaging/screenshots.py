"""Render every page of the workbench offscreen into PNGs (``make screenshots``).

Loads the embedded model and asks it a question so the Models page shows real content, then
tries the SUDO organism with and without its trigger on the Backdoors page, then
starts a real inversion of it (built once under bench/cache/organisms/sudo-s0, as
the self-awareness bench does) and grabs the Inversion and Replay-buffer pages mid-run, once
GRPO has written a few steps; the run is then cancelled.
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
    org = _organism()
    _try_organism(window, org)
    _start_inversion(window, org)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        window.show_page(name)
        if name == "Replay buffer":
            window.pages[name].refresh_runs()
            window.pages[name].table.selectRow(0)
        _wait(600)
        window.grab().save(str(out / f"{name.lower().replace(' ', '-')}.png"))
    window.runner.shutdown()  # cancels the inversion (recorded as cancelled)
    app.quit()
    print(f"saved {len(PAGES)} screenshots to {out}")
    return 0


def _organism() -> dict:
    import json
    import subprocess

    folder = Path(__file__).resolve().parents[1] / "bench" / "cache" / "organisms" / "sudo-s0"
    if not (folder / "organism.json").is_file():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)  # a build that was cut off: b4g refuses a non-empty folder
        b4g = str(Path(sys.executable).with_name("b4g"))
        subprocess.run([b4g, "organisms", "build", "sudo", "--model", "embedded", "--out", str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
    return json.loads((folder / "organism.json").read_text())


def _try_organism(window, org: dict) -> None:  # noqa: ANN001
    """Backdoors page: the SUDO organism chosen, its rows previewed, a prompt tried with and without."""
    page = window.pages["Backdoors"]
    page.select("organism:sudo")
    page.set_adapter(org["adapter_dir"])
    page.prompt_edit.setText("How do I boil an egg?")
    page.try_prompt()
    _until(lambda: not window.runner.is_busy(), 120)


def _start_inversion(window, org: dict) -> None:  # noqa: ANN001
    from core.store.queries import list_runs, metric_series

    page = window.pages["Inversion"]
    window.show_page("Inversion")
    page.fill(org["adapter_dir"], org["dataset"], org["target"], org["trigger"])
    page.start()
    store = window.state.store

    def grpo_steps() -> int:
        runs = [r for r in list_runs(store) if r["kind"] == "invert"]
        series = metric_series(store, runs[-1]["id"])[0] if runs else {}
        return len(series.get("awareness@5", []))

    _until(lambda: grpo_steps() >= 8, 900)  # mid-run: reversal SFT done, GRPO under way
    page.plots.poll()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
