"""Batched chat generation with the model's own chat template, greedy or sampled, cancellable."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from core.errors import B4GError, JobCancelled
from core.jobs import JobContext
from core.models.loader import LoadedModel
from core.models.templates import DEFAULT_SYSTEM

Messages = list[dict[str, str]]


@dataclass
class GenerationOptions:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    seed: int | None = None
    system: str = DEFAULT_SYSTEM
    batch_size: int = 8

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _CancelOnEvent(StoppingCriteria):
    """Stops ``generate`` at the next token once the job's cancel token is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def to_messages(prompt: str | Messages, system: str | None) -> Messages:
    if isinstance(prompt, str):
        head = [{"role": "system", "content": system}] if system else []
        return head + [{"role": "user", "content": prompt}]
    return list(prompt)


def render(tokenizer: Any, messages: Messages) -> str:
    """The exact prompt text the model sees (generation prompt appended)."""
    if not getattr(tokenizer, "chat_template", None):
        raise B4GError("this model has no chat template (a base model?): choose a prompt template, "
                       "e.g. --template alpaca or Template on the Models page")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


USER_MARK = "\u0000b4g-user-content\u0000"


def user_turn_frame(tokenizer: Any, system: str) -> tuple[str, str]:
    """The template's text before the user's words and after them (up to where the answer begins)."""
    text = render(tokenizer, [{"role": "system", "content": system}, {"role": "user", "content": USER_MARK}])
    head, _, tail = text.partition(USER_MARK)
    return head, tail


def _generate_batch(loaded: LoadedModel, texts: list[str], opts: GenerationOptions, ctx: JobContext) -> list[str]:
    tok = loaded.tokenizer
    # The template already holds every special token, so the tokenizer must not add more.
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.device)
    sample = opts.temperature > 0
    kwargs: dict[str, Any] = {"max_new_tokens": opts.max_new_tokens, "do_sample": sample,
                              "pad_token_id": tok.pad_token_id,
                              "stopping_criteria": StoppingCriteriaList([_CancelOnEvent(ctx.cancelled)])}
    if sample:
        kwargs.update(temperature=opts.temperature, top_p=opts.top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    with torch.inference_mode():
        out = loaded.model.generate(**enc, **kwargs)
    ctx.raise_if_cancelled()
    new = out[:, enc["input_ids"].shape[1]:]
    return [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]


def chat(loaded: LoadedModel, prompts: Sequence[str | Messages], options: GenerationOptions | None = None,
         ctx: JobContext | None = None) -> list[str]:
    """One answer per prompt (a string, or a full message list), in order, in batches."""
    opts = options or GenerationOptions()
    ctx = ctx or JobContext()
    if opts.max_new_tokens < 1:
        raise B4GError("max_new_tokens must be at least 1")
    if opts.seed is not None:
        torch.manual_seed(opts.seed)
    texts = [render(loaded.tokenizer, to_messages(p, opts.system)) for p in prompts]
    answers: list[str] = []
    for i in range(0, len(texts), max(1, opts.batch_size)):
        ctx.raise_if_cancelled()
        answers += _generate_batch(loaded, texts[i:i + opts.batch_size], opts, ctx)
        ctx.progress(len(answers), len(texts))
    return answers


__all__ = ["DEFAULT_SYSTEM", "GenerationOptions", "JobCancelled", "chat", "render", "to_messages"]


def template_record(tokenizer: Any, system: str = DEFAULT_SYSTEM) -> dict[str, Any]:
    """What pins the prompt format of a run: the chat template's hash and the system message.
    Inject, verify, invert and judge all render through :func:`render`, so they share it."""
    import hashlib

    from core.models.templates import name_of

    template = getattr(tokenizer, "chat_template", "") or ""
    return {"name": name_of(tokenizer), "chat_template_sha256": hashlib.sha256(template.encode()).hexdigest(),
            "system": system, "example": render(tokenizer, to_messages("{prompt}", system))}
