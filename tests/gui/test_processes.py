"""Training processes, chosen once on the Models page: on a machine with several GPUs the jobs that
scale out (inject, organisms, inversion) start that many data-parallel processes from the window;
with fewer than two GPUs the choice is off and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT_TESTS = Path(__file__).resolve().parents[1] / "unit"


@pytest.fixture()
def two_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    from core import distributed

    monkeypatch.setattr(distributed, "gpu_count", lambda: 2)


def test_without_two_gpus_the_choice_is_off_with_a_reason(window) -> None:
    from core import distributed

    box = window.pages["Models"].processes
    if distributed.gpu_count() > 1:
        pytest.skip("this machine has several GPUs")
    assert not box.isEnabled() and box.maximum() == 1 and "fewer than two GPUs" in box.toolTip()
    assert window.runner.processes == 1


def test_the_models_page_choice_reaches_a_scaling_job(two_gpus, window, qtbot, monkeypatch) -> None:
    """Rank 0 alone reports and returns: the job sees a world of the chosen size (CPU ranks here)."""
    monkeypatch.syspath_prepend(str(UNIT_TESTS))  # the spawned child imports the test recipe
    from core.child import Recipe, run_in_child
    from core.jobs import Job

    box = window.pages["Models"].processes
    assert box.isEnabled() and box.maximum() == 2
    box.setValue(2)
    assert window.runner.processes == 2
    recipe = Recipe("child_recipes:ranked", {})
    results = []
    # listen on this job's own handle: the page's memory estimate (a timer after show) may finish first
    handle = window.runner.submit(Job("inject", lambda ctx: run_in_child(recipe, ctx, ctx.processes),
                                      recipe.config), window.state.store)
    handle.finished.connect(results.append)
    handle.failed.connect(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=120000)
    assert isinstance(results[0], dict) and results[0]["world"] == 2 and results[0]["rank"] == 0, results


def test_only_the_jobs_that_scale_out_take_the_processes() -> None:
    from core.defend.defense_requests import UnlearnRequest
    from core.requests import InjectRequest, InvertRequest, OrganismRequest, VerifyRequest

    assert all(r.SCALES_OUT for r in (InjectRequest, OrganismRequest, InvertRequest))
    assert not any(r.SCALES_OUT for r in (VerifyRequest, UnlearnRequest))
