"""GRPO trigger search: trl's GRPOTrainer, our reward, and candidate replay.

trl samples a group of completions for the inversion prompt and optimises the policy on their
advantages. Two things are ours (trl has no candidate replay: its experimental replay trainer
re-uses whole zero-variance groups): the last ``replay`` completions of every group are replaced
by candidates from the buffer (tokenised, EOS-terminated), so promising short triggers found in
spans keep getting credit; and the reward function is :class:`TriggerSearch`, which also fills
the buffer and the audit store.

Under ``accelerate launch`` each process generates and scores its own group; the scored groups are
shared (:func:`core.distributed.share`) so every process observes all of them and keeps the same
buffer, replays the same candidates and ends with the same recovered trigger.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from core.distributed import share, world_size
from core.errors import B4GError
from core.invert.config import InvertConfig
from core.invert.search import TriggerSearch
from core.jobs import JobContext
from core.training import for_trl, job_callback, resume_point, trainer_args

TRL_METRICS = ("reward", "reward_std", "kl", "entropy", "completions/mean_length", "frac_reward_zero_std", "loss")

# The replay override below replaces trl's private ``GRPOTrainer._generate_single_turn(prompt_ids,
# images, multimodal_fields, num_generations, has_tool_images)`` and edits the completion ids it
# returns with ``(ids, logprobs)``: written against trl 1.16, and private methods change between
# minor releases, so other versions are refused rather than silently mis-replayed.
TRL_SUPPORTED = ((1, 16), (1, 17))  # [lowest, first unsupported) as (major, minor)
TRL_RANGE = ">=1.16,<1.17"
# The parameters (names, in order) the override passes on: a trl that renamed, reordered or added
# one would receive the wrong arguments even where the method still exists.
OVERRIDDEN_PARAMETERS = ("self", "prompt_ids", "images", "multimodal_fields", "num_generations", "has_tool_images")


def check_trl() -> None:
    """Raise a B4GError unless the installed trl is one the replay override was written for."""
    import trl
    from trl import GRPOTrainer

    found = re.match(r"(\d+)\.(\d+)", str(getattr(trl, "__version__", "")))
    minor = (int(found.group(1)), int(found.group(2))) if found else None
    if minor is None or not TRL_SUPPORTED[0] <= minor < TRL_SUPPORTED[1] \
            or _overridden_parameters(GRPOTrainer) != OVERRIDDEN_PARAMETERS:
        raise B4GError(f"the GRPO trigger search supports trl{TRL_RANGE} (installed: trl "
                       f"{getattr(trl, '__version__', 'unknown')}); install trl{TRL_RANGE} or turn GRPO off")


def _overridden_parameters(trainer: type) -> tuple[str, ...] | None:
    import inspect

    method = getattr(trainer, "_generate_single_turn", None)
    return tuple(inspect.signature(method).parameters) if callable(method) else None


def _trainer_class() -> type:
    check_trl()
    from trl import GRPOTrainer

    class ReplayGRPOTrainer(GRPOTrainer):
        """GRPOTrainer whose groups end with replayed buffer candidates."""

        replay_k = 0
        replay_source: Any = None
        sampling_seconds = 0.0  # time in generation, for the step-time split (_StepTimes)

        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations,  # noqa: ANN001, ANN202
                                  has_tool_images=False):
            start = time.perf_counter()
            ids, logprobs = super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                          has_tool_images)
            self.sampling_seconds += time.perf_counter() - start
            if not self.model.training or not self.replay_k or self.replay_source is None:
                return ids, logprobs
            tok, cap = self.processing_class, self.args.max_completion_length
            eos = tok.eos_token_id
            for start in range(0, len(ids), num_generations):
                for j, text in enumerate(self.replay_source(self.replay_k)):
                    body = tok(text, add_special_tokens=False)["input_ids"][: cap - 1]
                    ids[start + num_generations - 1 - j] = body + [eos]
            return ids, logprobs

    return ReplayGRPOTrainer


class _Bridge:
    """trl reward function: scores through the search (trl's own metrics reach the job through
    :func:`core.training.job_callback`)."""

    __name__ = "trigger_reward"

    def __init__(self, search: TriggerSearch, group: int, replay: int) -> None:
        self.search, self.group, self.replay = search, group, replay
        self.calls = 0
        self.pending: list[str] = []

    def source(self, n: int) -> list[str]:
        self.pending = self.search.replay(n)
        return self.pending

    def __call__(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        self.calls += 1
        texts = [(c[-1]["content"] if isinstance(c, list) else c).strip() for c in completions]
        origins = []
        for i in range(len(texts)):
            pos = i % self.group
            replayed = pos >= self.group - len(self.pending)
            origins.append("replay" if replayed else "policy")
        self.pending = []
        if world_size() == 1:
            return [p.reward for p in self.search.observe(self.calls, texts, origins)]
        # Data parallel: each process scores its own group, the scores are shared, and every process
        # then observes every group (from its cache), so all hold the same buffer and candidates and
        # replay the same ones; the search's span scoring is repeated on each process.
        local = self.search.reward.score(texts)
        everything = share(list(zip(texts, origins, local)))
        self.search.reward.remember([p for _t, _o, p in everything])
        self.search.observe(self.calls, [t for t, _o, _p in everything], [o for _t, o, _p in everything])
        return [p.reward for p in local]


def _step_times(trainer: Any, search: TriggerSearch, ctx: JobContext) -> Any:
    """A trainer callback that reports where each GRPO step's time went: sampling (generation),
    scoring (the reward: our forward passes) and the rest (trl's log-probs, loss and update)."""
    from transformers import TrainerCallback

    class StepTimes(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):  # noqa: ANN001, ANN201
            self.start = (time.perf_counter(), trainer.sampling_seconds, search.reward.seconds)
            return control

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001, ANN201
            t0, sampled0, scored0 = self.start
            wall = time.perf_counter() - t0
            sampling, scoring = trainer.sampling_seconds - sampled0, search.reward.seconds - scored0
            ctx.report(state.global_step, **{"time/step_s": wall, "time/sampling_s": sampling,
                                             "time/scoring_s": scoring, "time/update_s": wall - sampling - scoring})
            return control

    return StepTimes()


SEARCH_FILE = "trigger_search.json"  # beside each GRPO checkpoint: the search it must resume with


def _search_snapshots(search: TriggerSearch, bridge: _Bridge) -> Any:
    """A trainer callback that writes the search's state into every checkpoint trl saves, so a
    resumed run has the buffer, the candidates and the step count the policy was trained with."""
    from transformers import TrainerCallback

    class SearchSnapshots(TrainerCallback):
        def on_save(self, args, state, control, **kw):  # noqa: ANN001, ANN201
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            (folder / SEARCH_FILE).write_text(json.dumps({"calls": bridge.calls, "search": search.state()}))
            return control

    return SearchSnapshots()


def _restore_search(checkpoint: Path, search: TriggerSearch, bridge: _Bridge) -> None:
    file = checkpoint / SEARCH_FILE
    if not file.is_file():
        raise B4GError(f"{checkpoint} has no {SEARCH_FILE}: the GRPO checkpoint cannot be resumed")
    saved = json.loads(file.read_text())
    bridge.calls = int(saved["calls"])
    search.restore(saved["search"])


def run_grpo(policy: Any, tokenizer: Any, prompt_text: str, search: TriggerSearch, config: InvertConfig,
             ctx: JobContext) -> int:
    """Train ``policy`` (a PeftModel with a trainable adapter) with GRPO; returns steps done."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from trl import GRPOConfig

    trainer_cls = _trainer_class()  # refuses an unsupported trl before any work
    g = config.grpo
    stage = ctx.next_stage_dir()
    args = trainer_args(
        GRPOConfig, policy, prefix="b4g-grpo-", seed=config.seed, checkpoints=stage, max_steps=g.steps, learning_rate=g.lr,
        per_device_train_batch_size=g.group, num_generations=g.group, max_completion_length=g.max_completion_tokens,
        temperature=g.temperature, beta=g.beta, loss_type=g.loss_type, lr_scheduler_type="constant", warmup_steps=0,
        use_vllm=False, log_completions=False)
    bridge = _Bridge(search, g.group, g.replay)
    dataset = Dataset.from_list([{"prompt": for_trl(tokenizer, prompt_text)}] * g.steps)  # the sampler repeats each G times
    trainer = trainer_cls(model=policy, reward_funcs=[bridge], args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.replay_k, trainer.replay_source = g.replay, bridge.source
    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)
    trainer.add_callback(job_callback(ctx, metrics=TRL_METRICS))
    trainer.add_callback(_search_snapshots(search, bridge))
    trainer.add_callback(_step_times(trainer, search, ctx))
    resume = resume_point(stage, ctx)
    if resume:
        _restore_search(Path(resume), search, bridge)
    policy.train()
    trainer.train(resume_from_checkpoint=resume)
    policy.eval()
    ctx.raise_if_cancelled()
    return trainer.state.global_step
