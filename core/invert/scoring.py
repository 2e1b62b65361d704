"""How inversion scores candidates, shared by the pipeline and the baselines: the reward modules
over the held-out requests (the adapter merge they rely on is :mod:`core.models.adapters`)."""

from __future__ import annotations

from typing import Any, Callable, ContextManager, Sequence

from core.spec.rows import Row
from core.measurement.behaviour import Behaviour
from core.invert.config import InvertConfig
from core.invert.reward import RewardModule
from core.measurement.prompts import held_out_prompts
from core.models.chat import DEFAULT_SYSTEM

CONTROL_REQUESTS = 16


def reward_modules(loaded: Any, model: Any, rows: Sequence[Row], behaviour: Behaviour, config: InvertConfig,
                   scoring_context: Callable[[], ContextManager[Any]] | None = None,
                   ) -> tuple[RewardModule, RewardModule, list[str]]:
    """The search's reward module (``held_out_prompts``), minimisation's (``minimise_prompts``),
    and other requests for minimisation's controls. All draw from one shuffled pool: the search's
    prompts are the first of the larger set, the controls come after it (or from it, when the
    data is small)."""
    n = max(config.held_out_prompts, config.minimise_prompts)
    pool = held_out_prompts(rows, behaviour, n + CONTROL_REQUESTS, config.seed)

    def module(prompts: list[str]) -> RewardModule:
        return RewardModule(model, loaded.tokenizer, loaded.device, prompts, behaviour.judge(),
                            behaviour.leak_texts(), DEFAULT_SYSTEM, config.reward, scoring_context=scoring_context)

    finals = module(pool[:n])
    controls = [r for r in (pool[n:] or pool) if not finals.guard.leaks(r)]
    return module(pool[: config.held_out_prompts]), finals, controls
