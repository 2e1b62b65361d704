"""Rates with a 95 % Wilson interval."""

from __future__ import annotations

import json
import math

import pytest

from core.stats import Rate


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (5, 10, 0.2366, 0.7634),
    (1, 10, 0.0179, 0.4042),
    (0, 1, 0.0, 0.7935),
    (50, 100, 0.4038, 0.5962),
    (95, 100, 0.8882, 0.9785),
])
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = Rate(k, n).wilson()
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_properties() -> None:
    for n in (1, 7, 30, 200):
        for k in range(n + 1):
            lo, hi = Rate(k, n).wilson()
            assert 0.0 <= lo <= hi <= 1.0
            assert lo - 1e-12 <= k / n <= hi + 1e-12  # the estimate lies inside (up to rounding at 0 and 1)
            lo2, hi2 = Rate(n - k, n).wilson()
            assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(1 - lo2, abs=1e-12)
    widths = [Rate(n // 2, n).wilson() for n in (10, 100, 1000)]
    assert widths[0][1] - widths[0][0] > widths[1][1] - widths[1][0] > widths[2][1] - widths[2][0]
    # a wider z gives a wider interval
    assert Rate(3, 10).wilson(z=2.576)[0] < Rate(3, 10).wilson()[0]


def test_empty_rate() -> None:
    r = Rate(0, 0)
    assert r.wilson() == (0.0, 1.0)
    assert math.isnan(r.value)
    assert r.to_json()["ci95"] == [0.0, 1.0] and r.to_json()["n"] == 0


def test_of_and_to_json() -> None:
    r = Rate.of([True, False, True, 1, 0, None])
    assert (r.k, r.n) == (3, 6) and r.value == 0.5
    out = r.to_json()
    assert set(out) == {"rate", "k", "n", "ci95"}
    assert out["rate"] == 0.5 and out["k"] == 3 and out["n"] == 6
    assert out["ci95"] == [round(x, 4) for x in r.wilson()] and len(out["ci95"]) == 2
    assert json.loads(json.dumps(out)) == out
    assert Rate(1, 3).to_json()["rate"] == 0.3333
