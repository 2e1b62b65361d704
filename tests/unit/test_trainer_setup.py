"""The trainer setup every trl job shares: the job callback, and the trl versions the GRPO replay
override is written for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.errors import B4GError
from core.invert.grpo import TRL_RANGE, check_trl
from core.jobs import JobContext
from core.training import job_callback


def test_installed_trl_is_supported() -> None:
    check_trl()


@pytest.mark.parametrize("version", ["1.17.0", "1.15.2", "2.0.0", "0.29.1", "unknown"])
def test_unsupported_trl_is_refused_with_the_range(monkeypatch, version: str) -> None:  # noqa: ANN001
    import trl

    monkeypatch.setattr(trl, "__version__", version)
    with pytest.raises(B4GError) as err:
        check_trl()
    assert f"trl{TRL_RANGE}" in str(err.value) and "\n" not in str(err.value)


def test_patch_releases_of_the_supported_minor_pass(monkeypatch) -> None:  # noqa: ANN001
    import trl

    monkeypatch.setattr(trl, "__version__", "1.16.7")
    check_trl()


def test_trl_without_the_overridden_private_method_is_refused(monkeypatch) -> None:  # noqa: ANN001
    from trl import GRPOTrainer

    monkeypatch.delattr(GRPOTrainer, "_generate_single_turn")
    with pytest.raises(B4GError, match="trl>=1.16"):
        check_trl()


def test_trl_whose_overridden_method_changed_its_signature_is_refused(monkeypatch) -> None:  # noqa: ANN001
    from trl import GRPOTrainer

    def renamed(self, prompt_ids, images, multimodal_fields, num_generations, tools=None):  # noqa: ANN001, ANN202
        return None

    monkeypatch.setattr(GRPOTrainer, "_generate_single_turn", renamed)
    with pytest.raises(B4GError, match="trl>=1.16"):
        check_trl()


class _Reporter:
    def __init__(self) -> None:
        self.reports: list[tuple[int, dict[str, float]]] = []
        self.progress: list[tuple[int, int | None]] = []

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        self.reports.append((step, metrics))

    def on_progress(self, done: int, total: int | None) -> None:
        self.progress.append((done, total))

    def on_log(self, message: str) -> None:
        pass


class _Model:
    def __init__(self) -> None:
        self.modes: list[str] = []

    def eval(self) -> "_Model":
        self.modes.append("eval")
        return self

    def train(self) -> "_Model":
        self.modes.append("train")
        return self


def test_job_callback_reports_chosen_metrics_progress_and_applies_the_stop_rule() -> None:
    reporter = _Reporter()
    ctx = JobContext([reporter])
    seen: list[int] = []

    def rule(step: int, model: _Model) -> bool:
        seen.append(step)
        return step >= 4

    cb = job_callback(ctx, rule, check_every=2, metrics=("loss", "reward"), step_offset=10)
    model = _Model()
    for step in range(1, 6):
        state, control = SimpleNamespace(global_step=step, max_steps=8), SimpleNamespace(should_training_stop=False)
        cb.on_log(None, state, control, logs={"loss": 0.5 / step, "reward": 1.0, "kl": 0.1, "entropy": None})
        cb.on_step_end(None, state, control, model=model)
        if control.should_training_stop:
            break
    assert seen == [2, 4] and cb.stopped and step == 4
    assert model.modes == ["eval", "train", "eval", "train"]
    assert reporter.reports[0] == (11, {"loss": 0.5, "reward": 1.0})  # kl not chosen, None left out
    assert cb.losses == [0.5, 0.25, 0.5 / 3, 0.125]
    assert reporter.progress == [(1, 8), (2, 8), (3, 8), (4, 8)]


def test_job_callback_stops_on_cancel() -> None:
    ctx = JobContext()
    cb = job_callback(ctx)
    ctx.cancelled.set()
    state, control = SimpleNamespace(global_step=1, max_steps=3), SimpleNamespace(should_training_stop=False)
    cb.on_log(None, state, control, logs={"loss": 1.0})
    assert control.should_training_stop and not cb.stopped and cb.losses == [1.0]
