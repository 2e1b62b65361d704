"""Threshold calibration and detection metrics for any prompt scorer (higher = more suspicious).

The threshold is set on clean prompts only: the lowest value that at most ``target_fpr`` of them
reach. Detection is then measured on other prompts (held out from calibration), clean and
triggered, with n and 95 % intervals; ROC-AUC (scikit-learn) summarises every threshold at once.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from core.errors import B4GError
from core.stats import Rate


def calibrate(clean_scores: Sequence[float], target_fpr: float) -> float:
    """The smallest threshold ``t`` with ``#(score >= t) <= floor(target_fpr * n)`` on these clean
    scores; prompts at or above ``t`` are blocked. Never above 1.0 (an exact match always blocks)."""
    if not clean_scores:
        raise B4GError("calibration needs clean prompts")
    if not 0.0 <= target_fpr < 1.0:
        raise B4GError(f"the target false-positive rate must be in [0, 1), got {target_fpr}")
    ranked = sorted(clean_scores, reverse=True)
    allowed = math.floor(target_fpr * len(ranked) + 1e-9)
    if allowed >= len(ranked):
        return min(ranked)
    return min(1.0, math.nextafter(ranked[allowed], math.inf))


def detection(clean_scores: Sequence[float], triggered_scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """TPR, FPR, accuracy over both sets, and ROC-AUC of the raw scores."""
    from sklearn.metrics import roc_auc_score

    tpr = Rate.of([s >= threshold for s in triggered_scores])
    fpr = Rate.of([s >= threshold for s in clean_scores])
    correct = Rate(tpr.k + (fpr.n - fpr.k), tpr.n + fpr.n)
    labels = [1] * len(triggered_scores) + [0] * len(clean_scores)
    both = list(triggered_scores) + list(clean_scores)
    auc = float(roc_auc_score(labels, both)) if tpr.n and fpr.n else float("nan")
    return {"threshold": round(threshold, 6), "detection_accuracy": round(correct.value, 4),
            "tpr": round(tpr.value, 4), "fpr": round(fpr.value, 4), "roc_auc": round(auc, 4),
            "accuracy_detail": correct.to_json(), "tpr_detail": tpr.to_json(), "fpr_detail": fpr.to_json()}


def roc_points(clean_scores: Sequence[float], triggered_scores: Sequence[float], limit: int = 50) -> list[list[float]]:
    """(FPR, TPR) pairs for a ROC curve in a report, thinned to about ``limit`` points."""
    from sklearn.metrics import roc_curve

    labels = [1] * len(triggered_scores) + [0] * len(clean_scores)
    fpr, tpr, _ = roc_curve(labels, list(triggered_scores) + list(clean_scores))
    step = max(1, len(fpr) // limit)
    keep = list(range(0, len(fpr), step)) + ([len(fpr) - 1] if (len(fpr) - 1) % step else [])
    return [[round(float(fpr[i]), 4), round(float(tpr[i]), 4)] for i in keep]
