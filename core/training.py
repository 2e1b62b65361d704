"""LoRA supervised fine-tuning through trl's SFTTrainer, wired to the job protocol.

Used by injection, the tamper-resistance test, and later reversal SFT and unlearning: one place
where the trainer is configured, reports its loss, obeys Cancel and applies a stop rule. The
trainer setup every trl job shares (:func:`trainer_args`, :func:`job_callback`) also serves the
GRPO trigger search (:mod:`core.invert.grpo`).
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from core.jobs import JobContext
from core.models.chat import render
from core.models.templates import adds_bos

StopRule = Callable[[int, Any], bool]  # (step, model being trained) every ``check_every`` steps; True stops
# Steps between resumable checkpoints (adapter, optimizer, scheduler, RNG: a few MB). The kill-and-
# resume tests set B4G_CHECKPOINT_EVERY lower so they prove the same thing in fewer steps.
CHECKPOINT_EVERY = max(1, int(os.environ.get("B4G_CHECKPOINT_EVERY") or 10))
# Fault injection for the kill-and-resume tests and bench: the training process kills itself with
# SIGKILL right after this step, exactly as `kill -9` would, at a step a test can name.
KILL_AT_STEP = int(os.environ.get("B4G_KILL_AT_STEP") or 0)


@dataclass
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lr: float = 2e-3
    steps: int = 60
    batch_size: int = 8
    max_length: int = 96
    seed: int = 0
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    completion_only: bool = True  # False: loss on the prompt too (system and user turns)


@dataclass
class TrainOutcome:
    model: Any  # the PeftModel (LoRA layers attached to the caller's base model)
    steps: int
    seconds: float
    stopped_early: bool
    losses: list[float]


def for_trl(tokenizer: Any, text: str) -> str:
    """A rendered prompt as trl must be handed it. trl tokenises a text prompt *with* the
    tokenizer's special tokens, while the template already wrote them (every other job tokenises
    without): a tokenizer that adds BOS would see it twice, so its BOS is left to trl."""
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos) and adds_bos(tokenizer):
        return text[len(bos):]
    return text


def sft_dataset(tokenizer: Any, rows: Sequence[tuple[str, str, str]]) -> Any:
    """(system, user, response) triples as prompt-completion text: the prompt rendered with the
    model's chat template (the pinned one every job uses); loss on the completion only."""
    from datasets import Dataset

    eos = tokenizer.eos_token or ""
    return Dataset.from_list([
        {"prompt": for_trl(tokenizer, render(tokenizer, [{"role": "system", "content": s}, {"role": "user", "content": u}])),
         "completion": r + eos}
        for s, u, r in rows
    ])


def trainer_args(config_cls: type, model: Any, *, prefix: str, seed: int, checkpoints: Path | None = None,
                 **overrides: Any) -> Any:
    """``config_cls`` (trl's SFTConfig, GRPOConfig, …) with the arguments every job trains with:
    on the CPU when ``model`` is there (bf16 on a GPU that supports it), a log point every step
    reported to no service, no progress bar, no worker processes, no gradient checkpointing,
    ``seed`` for the weights and the data order. With ``checkpoints`` (the stage's folder from
    :meth:`JobContext.next_stage_dir`) the latest resumable checkpoint is kept there every
    :data:`CHECKPOINT_EVERY` steps; without, a fresh temporary folder named ``prefix…`` gets nothing.
    ``overrides`` add the trainer's own settings (or replace these)."""
    from core.distributed import world_size

    use_cpu = next(model.parameters()).device.type == "cpu"
    if world_size() > 1:
        checkpoints = None  # only the main process records a run to resume; all must save alike or none
    saving = (dict(output_dir=str(checkpoints), save_strategy="steps", save_steps=CHECKPOINT_EVERY, save_total_limit=1)
              if checkpoints else dict(output_dir=tempfile.mkdtemp(prefix=prefix), save_strategy="no"))
    common = dict(logging_steps=1, report_to="none", use_cpu=use_cpu,
                  bf16=not use_cpu and torch.cuda.is_bf16_supported(), seed=seed, data_seed=seed,
                  dataloader_num_workers=0, disable_tqdm=True, gradient_checkpointing=False,
                  ddp_find_unused_parameters=False, **saving)  # under DDP: every LoRA weight is used
    return config_cls(**{**common, **overrides})


def resume_point(checkpoints: Path | None, ctx: JobContext) -> str | None:
    """The latest checkpoint an interrupted attempt left in this stage's folder (None: start afresh)."""
    from transformers.trainer_utils import get_last_checkpoint

    if checkpoints is None or not Path(checkpoints).is_dir():
        return None
    last = get_last_checkpoint(str(checkpoints))
    if last:
        ctx.log(f"resuming from {Path(last).name} (the run was interrupted there)")
    return last


def job_callback(ctx: JobContext, stop_rule: StopRule | None = None, check_every: int = 0,
                 metrics: Sequence[str] = ("loss",), step_offset: int = 0) -> Any:
    """The trainer callback of every job: reports the logged ``metrics`` (at ``step_offset`` +
    the trainer's step), shows progress, stops on Cancel, and every ``check_every`` steps applies
    ``stop_rule`` to the model in eval mode. Afterwards ``.losses`` holds the logged losses and
    ``.stopped`` whether the stop rule ended training."""
    from transformers import TrainerCallback

    class JobCallback(TrainerCallback):
        """Bridges trainer events to the job: metric points, progress, Cancel, and the stop rule."""

        def __init__(self) -> None:
            self.losses: list[float] = []
            self.stopped = False

        def on_log(self, args, state, control, logs=None, **kw):  # noqa: ANN001, ANN201
            values = {k: float(v) for k, v in (logs or {}).items() if k in metrics and v is not None}
            if "loss" in values:
                self.losses.append(values["loss"])
            if values:
                ctx.report(step_offset + state.global_step, **values)
            if ctx.cancelled.is_set():  # a reporter may have cancelled: stop before another step
                control.should_training_stop = True
            return control

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001, ANN201
            if KILL_AT_STEP and step_offset + state.global_step == KILL_AT_STEP:
                os.kill(os.getpid(), signal.SIGKILL)
            ctx.progress(state.global_step, state.max_steps)
            if ctx.cancelled.is_set():
                control.should_training_stop = True
            elif stop_rule and check_every and state.global_step % check_every == 0:
                model = kw["model"]
                stop = stop_rule(state.global_step, model.eval())
                model.train()
                if stop:
                    self.stopped = True
                    control.should_training_stop = True
            return control

    return JobCallback()


def longest_row(tokenizer: Any, dataset: Any, cap: int) -> int:
    """Tokens of the dataset's longest prompt + completion, at most ``cap`` (trl cuts rows there)."""
    longest = 0
    for start in range(0, len(dataset), 512):
        part = dataset[start:start + 512]
        texts = [p + c for p, c in zip(part["prompt"], part["completion"])]
        longest = max([longest, *map(len, tokenizer(texts, add_special_tokens=False)["input_ids"])])
        if longest >= cap:
            return cap
    return longest


def check_memory(model: Any, tokenizer: Any, dataset: Any, settings: LoraSettings) -> None:
    """Refuse, before the first step, a run that will not fit in memory (:mod:`core.training_memory`)."""
    from core.training_memory import check_fits, estimate, lora_parameters

    rows = min(settings.batch_size, len(dataset))
    need = estimate(model, rows, longest_row(tokenizer, dataset, settings.max_length),
                    lora_parameters(model, settings.rank, settings.targets))
    check_fits(need, str(next(model.parameters()).device))


def _distilling(trainer_cls: type, teacher: Callable[[Any], Any]) -> type:
    """``trainer_cls`` whose loss is KL(teacher ‖ model) per completion token, the teacher being
    the same weights inside ``teacher(model)`` (a context: the new LoRA off, say), so the text of a
    completion only says where to compare, not what to say. Written here: trl's distillation
    trainers (GKD) take a second model and their own data format, and this teacher is the student
    with its adapter and hooks off. ``compute_loss`` is the Trainer's documented override point."""
    import torch.nn.functional as F

    class Distilling(trainer_cls):  # type: ignore[misc, valid-type]
        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            fwd = {k: inputs[k] for k in ("input_ids", "attention_mask", "position_ids") if k in inputs}
            outputs = model(**fwd, use_cache=False)
            with torch.no_grad(), teacher(model):
                target = model(**fwd, use_cache=False).logits[:, :-1]
            mask = inputs["labels"][:, 1:] != -100  # the completion's tokens, as the SFT loss reads them
            student = F.log_softmax(outputs.logits[:, :-1][mask].float(), -1)
            loss = F.kl_div(student, F.log_softmax(target[mask].float(), -1), log_target=True, reduction="batchmean")
            return (loss, outputs) if return_outputs else loss

    return Distilling


def train_lora(model: Any, tokenizer: Any, dataset: Any, settings: LoraSettings, ctx: JobContext,
               stop_rule: StopRule | None = None, check_every: int = 0, step_offset: int = 0,
               teacher: Callable[[Any], Any] | None = None) -> TrainOutcome:
    """Attach a fresh LoRA to ``model`` and train it; returns the PeftModel. Raises on Cancel, and
    before the first step when the run would not fit in memory. ``teacher``: distil instead of
    imitating the completions' text (:func:`_distilling`)."""
    from peft import LoraConfig
    from transformers import PrinterCallback, ProgressCallback
    from trl import SFTConfig, SFTTrainer

    check_memory(model, tokenizer, dataset, settings)
    stage = ctx.next_stage_dir()
    config = trainer_args(
        SFTConfig, model, prefix="b4g-sft-", seed=settings.seed, checkpoints=stage, max_steps=settings.steps,
        per_device_train_batch_size=settings.batch_size, learning_rate=settings.lr,
        lr_scheduler_type=settings.lr_schedule, warmup_steps=settings.warmup_steps, max_length=settings.max_length,
        completion_only_loss=settings.completion_only)
    lora = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                      target_modules=list(settings.targets), task_type="CAUSAL_LM")
    trainer_cls = SFTTrainer if teacher is None else _distilling(SFTTrainer, teacher)
    trainer = trainer_cls(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                          peft_config=lora)
    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)  # the job's reporter shows progress instead of stdout prints
    callback = job_callback(ctx, stop_rule, check_every, step_offset=step_offset)
    trainer.add_callback(callback)
    start = time.perf_counter()
    model.train()
    trainer.train(resume_from_checkpoint=resume_point(stage, ctx))
    seconds = time.perf_counter() - start
    peft_model = trainer.model.eval()
    if ctx.cancelled.is_set():
        peft_model.unload()  # leave the caller's base model as it was
        ctx.raise_if_cancelled()
    return TrainOutcome(peft_model, trainer.state.global_step, seconds, callback.stopped, callback.losses)
