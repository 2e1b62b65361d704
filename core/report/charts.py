"""Curves and the ROC as PNG images for the report, drawn with matplotlib's Agg backend.

Agg renders without a display or Qt, so a report can be made headless (CLI, CI, another machine).
"""

from __future__ import annotations

import io
from typing import Any

# the inversion's curves in the order the report shows them, with a reader's name each
INVERSION_CURVES = (("reward", "mean reward"), ("rewards/asr/best", "best R_asr in a step"),
                    ("buffer/best_asr", "best R_asr in the replay buffer"))
TRAINING_CURVES = (("loss", "training loss"),)
REMOVAL_CURVES = (("remove/inner_objective", "inner objective (end of each search)"),
                  ("remove/outer_loss", "removal LoRA's loss"))


def _figure(title: str, xlabel: str, ylabel: str):  # noqa: ANN202 - a matplotlib (figure, axes) pair
    from matplotlib.figure import Figure  # Figure, not pyplot: no global state, no GUI backend

    fig = Figure(figsize=(6.4, 3.0), dpi=110)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if xlabel == "step":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def curves_png(title: str, series: dict[str, list[list[float]]], names: tuple[tuple[str, str], ...],
               mark_step: int | None = None, mark_label: str = "") -> bytes | None:
    """Step curves of the named series that exist (None when none does), with an optional vertical
    marker (the emergence step)."""
    present = [(key, label) for key, label in names if series.get(key)]
    if not present:
        return None
    fig, ax = _figure(title, "step", "value")
    for key, label in present:
        steps, values = zip(*series[key])
        ax.plot(steps, values, label=label, linewidth=1.4)
    if mark_step is not None:
        ax.axvline(mark_step, color="#c0392b", linestyle="--", linewidth=1, label=mark_label)
    ax.legend(fontsize=8)
    return _png(fig)


def awareness_png(series: dict[str, list[list[float]]], k: int, emergence: int | None) -> bytes | None:
    """Awareness@k: the share of the model's own samples that contain the trigger, per step."""
    return curves_png(f"Awareness@{k}", series, ((f"awareness@{k}", f"awareness@{k}"), (f"exact@{k}", f"exact@{k}")),
                      emergence, "emergence step")


def roc_png(points: list[list[float]], auc: float, fpr: float, tpr: float) -> bytes:
    """The guardrail's ROC on held-out prompts with its calibrated operating point."""
    fig, ax = _figure(f"Guardrail ROC (AUC {auc:.3f})", "false-positive rate", "true-positive rate")
    xs, ys = zip(*points) if points else ((0.0, 1.0), (0.0, 1.0))
    ax.plot(xs, ys, linewidth=1.6, label="guardrail")
    ax.plot([0, 1], [0, 1], color="#999", linestyle=":", linewidth=1, label="chance")
    ax.plot([fpr], [tpr], "o", color="#c0392b", label="calibrated threshold")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)
