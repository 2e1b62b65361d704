"""Benchmark: the window's views at scale (offscreen, the real widgets).

- the Replay buffer table over 100 k candidates: open, sort by each sortable column both ways,
  filter by text (each re-queries the store and repaints the first page);
- the run plots with 10 k steps in every series: one full redraw plus a repaint.

Times are milliseconds on the UI thread; a frame is 16 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_scale.py [--quick]  ->  bench/results/gui_scale.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from provenance import write_result

N_CANDIDATES, N_STEPS = 100_000, 10_000


def _session_with_candidates(folder: Path, n: int):  # noqa: ANN202
    from sqlalchemy import insert

    from core.store.catalog import new_session
    from core.store.schema import Candidate

    store = new_session("bench buffer", directory=folder)
    run = store.start_run("invert", {}, 0)
    rows = [{"run_id": run, "text": f"candidate {i} word{i % 97}", "reward": (i * 7919 % 1000) / 1000,
             "r_asr": (i % 100) / 100, "origin": "policy", "first_step": i // 48, "last_step": i // 48,
             "times_replayed": i % 3, "parts": {"dense": 0.1, "length": 0.0, "leak": False}} for i in range(n)]
    with store.transaction() as s:
        s.execute(insert(Candidate), rows)  # setup only: the store's own write path is bench/store.py
    return store, run


def _ms(fn, app, repeat: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def table(app, store, run: int) -> dict[str, float]:  # noqa: ANN001
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTableView

    from app.widgets.candidate_model import COLUMNS, CandidateTableModel

    model, view = CandidateTableModel(), QTableView()
    view.setModel(model)
    view.resize(1000, 600)
    view.show()
    out = {"open": _ms(lambda: (model.show_run(store, run), view.viewport().repaint()), app)}
    for col, (header, key, _value, _tip) in enumerate(COLUMNS):
        if key is None:
            continue
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            name = f"sort {header} {'asc' if order == Qt.SortOrder.AscendingOrder else 'desc'}"
            out[name] = _ms(lambda c=col, o=order: (model.sort(c, o), view.viewport().repaint()), app)
    out["filter 'word7'"] = _ms(lambda: (model.set_filter("word7"), view.viewport().repaint()), app)
    out["filter cleared"] = _ms(lambda: (model.set_filter(""), view.viewport().repaint()), app)
    out["scroll to 10 k rows"] = _ms(lambda: (view.scrollTo(model.index(min(model.rowCount() - 1, 9_999), 0)),
                                              view.viewport().repaint()), app, repeat=1)
    return out


def plots(app, steps: int) -> dict[str, float]:  # noqa: ANN001
    from app.widgets.run_plots import INVERSION_PANES, RunPlots

    widget = RunPlots(INVERSION_PANES)
    widget.resize(1000, 700)
    widget.show()
    names = [m for _t, metrics, _tip in INVERSION_PANES for m, _c in metrics]
    widget.series = {n: [(s, (s % 97) / 97) for s in range(steps)] for n in names}
    redraw = _ms(lambda: (widget.redraw(), widget.repaint()), app)
    widget.smoothing.setValue(60)
    smoothed = _ms(lambda: (widget.redraw(), widget.repaint()), app)
    return {"series": len(names), "points_per_series": steps, "redraw": redraw, "redraw_smoothed": smoothed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the same sizes; fewer repeats are not needed (seconds)")
    args = p.parse_args()
    from app.main import create_app

    app = create_app([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["B4G_HOME"] = tmp
        store, run = _session_with_candidates(Path(tmp), N_CANDIDATES)
        result = {"candidates": N_CANDIDATES, "buffer_table_ms": table(app, store, run),
                  "plots_ms": plots(app, N_STEPS), "frame_ms": 16}
        store.close()
    write_result("gui_scale", result, "quick" if args.quick else "full")


if __name__ == "__main__":
    main()
