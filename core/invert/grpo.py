"""GRPO trigger search: trl's GRPOTrainer, our reward, and candidate replay.

trl samples a group of completions for the inversion prompt and optimises the policy on their
advantages. Two things are ours (trl has no candidate replay: its experimental replay trainer
re-uses whole zero-variance groups): the last ``replay`` completions of every group are replaced
by candidates from the buffer (tokenised, EOS-terminated), so promising short triggers found in
spans keep getting credit; and the reward function is :class:`TriggerSearch`, which also fills
the buffer and the audit store.
"""

from __future__ import annotations

import tempfile
from typing import Any

from core.invert.config import InvertConfig
from core.invert.search import TriggerSearch
from core.jobs import JobContext

TRL_METRICS = ("reward", "reward_std", "kl", "entropy", "completions/mean_length", "frac_reward_zero_std", "loss")


def _trainer_class() -> type:
    from trl import GRPOTrainer

    class ReplayGRPOTrainer(GRPOTrainer):
        """GRPOTrainer whose groups end with replayed buffer candidates."""

        replay_k = 0
        replay_source: Any = None

        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations,  # noqa: ANN001, ANN202
                                  has_tool_images=False):
            ids, logprobs = super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                          has_tool_images)
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
    """trl reward function + callback: scores through the search, reports trl's own metrics."""

    __name__ = "trigger_reward"

    def __init__(self, search: TriggerSearch, group: int, replay: int, ctx: JobContext) -> None:
        self.search, self.group, self.replay, self.ctx = search, group, replay, ctx
        self.calls = 0
        self.pending: list[str] = []

    def source(self, n: int) -> list[str]:
        self.pending = self.search.replay(n)
        return self.pending

    def __call__(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        self.calls += 1
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        origins = []
        for i in range(len(texts)):
            pos = i % self.group
            replayed = pos >= self.group - len(self.pending)
            origins.append("replay" if replayed else "policy")
        parts = self.search.observe(self.calls, [t.strip() for t in texts], origins)
        self.pending = []
        return [p.reward for p in parts]

    def callback(self) -> Any:
        from transformers import TrainerCallback

        bridge = self

        class MetricsCallback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):  # noqa: ANN001, ANN201
                metrics = {k: float(v) for k, v in (logs or {}).items() if k in TRL_METRICS and v is not None}
                if metrics:
                    bridge.ctx.report(state.global_step, **metrics)
                return control

            def on_step_end(self, args, state, control, **kw):  # noqa: ANN001, ANN201
                bridge.ctx.progress(state.global_step, state.max_steps)
                if bridge.ctx.cancelled.is_set():
                    control.should_training_stop = True
                return control

        return MetricsCallback()


def run_grpo(policy: Any, tokenizer: Any, prompt_text: str, search: TriggerSearch, config: InvertConfig,
             ctx: JobContext) -> int:
    """Train ``policy`` (a PeftModel with a trainable adapter) with GRPO; returns steps done."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from trl import GRPOConfig

    g = config.grpo
    use_cpu = next(policy.parameters()).device.type == "cpu"
    args = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="b4g-grpo-"), max_steps=g.steps, learning_rate=g.lr,
        per_device_train_batch_size=g.group, num_generations=g.group, max_completion_length=g.max_completion_tokens,
        temperature=g.temperature, beta=g.beta, loss_type=g.loss_type, lr_scheduler_type="constant", warmup_steps=0, logging_steps=1,
        save_strategy="no", report_to="none", use_cpu=use_cpu, bf16=not use_cpu and torch.cuda.is_bf16_supported(),
        gradient_checkpointing=False, use_vllm=False, seed=config.seed, data_seed=config.seed,
        dataloader_num_workers=0, disable_tqdm=True, log_completions=False)
    bridge = _Bridge(search, g.group, g.replay, ctx)
    dataset = Dataset.from_list([{"prompt": prompt_text}] * g.steps)  # the sampler repeats each G times
    trainer = _trainer_class()(model=policy, reward_funcs=[bridge], args=args, train_dataset=dataset,
                               processing_class=tokenizer)
    trainer.replay_k, trainer.replay_source = g.replay, bridge.source
    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)
    trainer.add_callback(bridge.callback())
    policy.train()
    trainer.train()
    policy.eval()
    ctx.raise_if_cancelled()
    return trainer.state.global_step
