"""Live training curves of one run, read from the audit store (never from the job itself).

A timer polls the store for points newer than the last one seen (≤ 20 Hz), so a second window
on the same session draws the same curves. pyqtgraph downsamples and clips to the view, so a
long run stays smooth; the smoothing slider applies TensorBoard's debiased EMA.
"""

from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from core.invert.awareness import emergence_step
from core.store.queries import latest_run_id, metric_series
from core.store.session_store import SessionStore

AWARENESS = "awareness@5"
Pane = tuple[str, list[tuple[str, str]], str]  # (title, [(metric, colour)], tooltip)
INVERSION_PANES: list[Pane] = [
    ("Reward", [("reward", "#2b6cb0"), ("rewards/asr/best", "#2f855a"), ("buffer/best_reward", "#b7791f")],
     "reward: mean over the group (band: ± reward_std); rewards/asr/best: the best candidate's share of held-out "
     "prompts that show the behaviour; buffer/best_reward: the best candidate kept so far"),
    ("Awareness@5", [(AWARENESS, "#c53030")],
     "Best word-level Jaccard of 5 policy samples to the evaluation trigger (only when it is known). "
     "The dashed line marks the emergence step: from there on it stays ≥ 0.9"),
    ("Length and buffer", [("completions/mean_length", "#6b46c1"), ("buffer/size", "#718096")],
     "Mean completion length in tokens, and how many candidates the replay buffer holds"),
    ("KL and entropy", [("kl", "#dd6b20"), ("entropy", "#319795")],
     "KL to the starting policy (logged by trl only when beta > 0) and the policy's token entropy"),
]
INJECTION_PANES: list[Pane] = [
    ("Training loss", [("loss", "#2b6cb0")], "SFT loss on the completions, per step"),
    ("Activation on validation prompts", [("tar_with", "#2f855a"), ("tar_without", "#c53030")],
     "Share of held-out validation prompts showing the behaviour with and without the trigger "
     "(the stop rule needs both)"),
]
POLL_MS = 250  # 4 Hz: well under the 20 Hz redraw ceiling
NO_POINTS = "no points yet"
SPARSE_POINTS = 30


def ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start. The
    recurrence runs as one IIR filter (scipy): a Python loop took 65 ms for 10 k steps x 10 series
    on the UI thread (bench/gui_scale.py)."""
    import numpy as np
    from scipy.signal import lfilter

    if weight <= 0 or not len(values):
        return list(values)
    x = np.asarray(values, dtype=float)
    smoothed = lfilter([1 - weight], [1, -weight], x)  # last_n = weight * last_(n-1) + (1 - weight) * v_n
    return list(smoothed / (1 - weight ** np.arange(1, len(x) + 1)))


class RunPlots(QWidget):
    points_added = Signal(int)  # how many new points the last poll brought

    def __init__(self, panes: Sequence[Pane] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panes = list(panes) or INVERSION_PANES
        self.store: SessionStore | None = None
        self.run_id: int | None = None
        self.overlay_runs: list[int] = []
        self.follow: tuple[str, ...] = ()  # run kinds whose newest run is shown as soon as it starts
        self.series: dict[str, list[tuple[int, float]]] = {}
        self._last_id = 0
        self.graphs = pg.GraphicsLayoutWidget()
        self.graphs.setBackground(None)
        self.plots: dict[str, pg.PlotItem] = {}
        self.legends: dict[str, pg.LegendItem] = {}
        self.empty_notes: dict[str, pg.TextItem] = {}  # "no points yet", in the middle of an empty pane
        self._shown: dict[str, tuple[tuple[str, ...], bool]] = {}  # per pane: curves in its legend, overlaid
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.overlay_items: list[pg.PlotDataItem] = []
        self._build_plots()
        self.smoothing = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=99, value=0)
        self.smoothing.setToolTip("Exponential moving average, as in TensorBoard (0: raw points)")
        self.smoothing.valueChanged.connect(lambda _v: self.redraw())
        self.overlay = QCheckBox("Overlay earlier runs")
        self.overlay.toggled.connect(lambda _v: self.redraw())
        self.emergence = QLabel("")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.overlay)
        controls.addWidget(self.emergence)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphs, 1)
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.redraw()  # empty until a run is shown: no axes or legend yet

    def _build_plots(self) -> None:
        for i, (title, metrics, tip) in enumerate(self.panes):
            plot = self.graphs.addPlot(row=i // 2, col=i % 2, title=title)
            # a translucent box: the legend stays readable over curves that run behind it
            self.legends[title] = plot.addLegend(offset=(5, 5), brush=pg.mkBrush(255, 255, 255, 190))
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setLabel("bottom", "step")
            plot.setToolTip(tip)
            self.plots[title] = plot
            self.empty_notes[title] = pg.TextItem(NO_POINTS, color="#8a93a3", anchor=(0.5, 0.5))
            plot.addItem(self.empty_notes[title], ignoreBounds=True)
            for name, colour in metrics:
                self.curves[name] = plot.plot([], [], name=name, pen=pg.mkPen(colour, width=2), symbolSize=6,
                                              symbolBrush=colour, symbolPen=None)
        self.band_hi = self.band_lo = self.band_fill = None
        self.emergence_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c53030", style=Qt.PenStyle.DashLine))
        self.emergence_line.setVisible(False)
        if "Reward" in self.plots:
            reward = self.plots["Reward"]
            self.band_hi = reward.plot([], [], pen=pg.mkPen(43, 108, 176, 60))
            self.band_lo = reward.plot([], [], pen=pg.mkPen(43, 108, 176, 60))
            self.band_fill = pg.FillBetweenItem(self.band_lo, self.band_hi, brush=pg.mkBrush(43, 108, 176, 50))
            # hidden until there is a band: an empty fill still claims bounds around 0, which
            # auto-ranged the empty Reward plot's step axis to -400..400 (x0.001)
            self.band_fill.setVisible(False)
            reward.addItem(self.band_fill)
        if "Awareness@5" in self.plots:
            self.plots["Awareness@5"].addItem(self.emergence_line)
            self.plots["Awareness@5"].setYRange(0, 1.05)

    # --- data -------------------------------------------------------------------------------
    def show_run(self, store: SessionStore, run_id: int | None, overlay_runs: Sequence[int] = ()) -> None:
        self.store, self.run_id, self.overlay_runs = store, run_id, list(overlay_runs)
        self.series, self._last_id = {}, 0
        self.poll()
        self.redraw()
        self.timer.start()

    def follow_latest(self, store: SessionStore, kinds: tuple[str, ...]) -> None:
        """Show the newest run of ``kinds`` and switch to any newer one as it starts."""
        self.follow = kinds
        self.show_run(store, latest_run_id(store, kinds))

    @Slot()
    def poll(self) -> None:
        switched = False
        if self.follow and self.store is not None:
            newest = latest_run_id(self.store, self.follow)
            if newest != self.run_id:
                self.run_id, self.series, self._last_id, switched = newest, {}, 0, True
        if self.store is None or self.run_id is None:
            # nothing to draw: redrawing anyway repainted every plot each poll (about 15 ms of
            # the UI thread on 2 cores, the idle stalls bench/ui_stall.py measured)
            if switched:
                self.redraw()
            return
        fresh, self._last_id = metric_series(self.store, self.run_id, after_id=self._last_id)
        for name, points in fresh.items():
            self.series.setdefault(name, []).extend(points)
        added = sum(len(p) for p in fresh.values())
        if added:
            self.redraw()
        self.points_added.emit(added)

    def _xy(self, name: str, series: dict[str, list[tuple[int, float]]] | None = None) -> tuple[list[int], list[float]]:
        points = (series or self.series).get(name, [])
        weight = self.smoothing.value() / 100
        return [s for s, _ in points], ema([v for _, v in points], weight)

    @Slot()
    def redraw(self) -> None:
        for name, curve in self.curves.items():
            xs, ys = self._xy(name)
            # markers while points are few (a stop-rule check every 5 steps is one point, no line)
            curve.setData(xs, ys, symbol="o" if len(xs) <= SPARSE_POINTS else None)
        xs, mean = self._xy("reward")
        _, std = self._xy("reward_std")
        if self.band_hi is not None and len(std) == len(mean):
            self.band_hi.setData(xs, [m + s for m, s in zip(mean, std)])
            self.band_lo.setData(xs, [m - s for m, s in zip(mean, std)])
            self.band_fill.setVisible(bool(xs))
        step = emergence_step(self.series.get(AWARENESS, []))
        self.emergence_line.setVisible(step is not None)
        if step is not None:
            self.emergence_line.setValue(step)
        self.emergence.setText(f"awareness emerged at step {step}" if step is not None else "")
        self._show_what_has_points(self._draw_overlay())

    def _show_what_has_points(self, overlaid: set[str]) -> None:
        """Axes and legend entries only for what has points: an empty plot drew a made-up 0-1 range
        and a legend of curves that were not there. ``overlaid``: panes showing earlier runs."""
        for title, metrics, _tip in self.panes:
            plot, legend = self.plots[title], self.legends[title]
            drawn = tuple(name for name, _colour in metrics if self.series.get(name))
            if self._shown.get(title) == (drawn, title in overlaid):
                continue  # most redraws only add points: the axes and legend stay as they are
            self._shown[title] = (drawn, title in overlaid)
            empty = not drawn and title not in overlaid
            for axis in ("left", "bottom"):
                plot.showAxis(axis, not empty)
            legend.clear()
            for name in drawn:
                legend.addItem(self.curves[name], name)
            legend.setVisible(bool(drawn))
            note = self.empty_notes[title]
            note.setVisible(empty)
            (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
            note.setPos((x0 + x1) / 2, (y0 + y1) / 2)  # the view keeps the last run's range: its middle

    def _draw_overlay(self) -> set[str]:
        """Earlier runs in grey (when ticked); the titles of the panes that got any."""
        for item in self.overlay_items:
            item.getViewBox() and item.getViewBox().removeItem(item)
        self.overlay_items = []
        overlaid: set[str] = set()
        if not self.overlay.isChecked() or self.store is None:
            return overlaid
        for run_id in self.overlay_runs:
            old, _ = metric_series(self.store, run_id)
            for title, metrics, _tip in self.panes:
                for name, _colour in metrics:
                    xs, ys = self._xy(name, old)
                    if xs:
                        item = self.plots[title].plot(xs, ys, pen=pg.mkPen((160, 160, 160, 120), width=1))
                        self.overlay_items.append(item)
                        overlaid.add(title)
        return overlaid
