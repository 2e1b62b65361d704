"""Universal hidden-state perturbations that switch a backdoor's behaviour on (after BEEAR).

BEEAR (Zeng et al., EMNLP 2024, arXiv 2406.17092) observed that triggers of any form shift a
backdoored model's hidden states in a roughly uniform direction. So a trigger need not be named to
be removed: one vector added to the output of one decoder layer, at the request's token positions,
can elicit the behaviour, and a model trained to keep its own answer under that vector loses the
backdoor. :class:`Nudge` adds the vector (torch hooks, so it also acts inside trl's trainer and
in ``generate``); :func:`search` finds it: Adam on the vector, the behaviour's text made likelier
and the model's own clean answer less likely, the vector kept inside an L2 ball whose radius is a
share of the layer's typical hidden-state norm (so one setting means the same at every layer).
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch

from core.jobs import JobContext
from core.measurement.activation import left_pad
from core.models.chat import user_turn_frame


def backbone(model: Any) -> torch.nn.Module:
    """The decoder stack: the module holding the ``layers`` list (under any peft wrapping)."""
    for module in model.modules():
        if isinstance(getattr(module, "layers", None), torch.nn.ModuleList):
            return module
    raise TypeError(f"{type(model).__name__} has no decoder layer list")


def _find(ids: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """[B, T] bool: where ``pattern`` starts in each row of ``ids``."""
    n = pattern.numel()
    out = torch.zeros_like(ids, dtype=torch.bool)
    if n == 0 or ids.shape[1] < n:
        return out
    out[:, : ids.shape[1] - n + 1] = (ids.unfold(1, n, 1) == pattern.to(ids.device)).all(-1)
    return out


@dataclass(frozen=True)
class RequestFrame:
    """The chat template's tokens around the user's words: the request lies after ``head`` (the
    system turn and the user header) and before ``tail``'s first token (the end of the user turn)."""

    head: torch.Tensor
    tail: torch.Tensor

    @classmethod
    def of(cls, tokenizer: Any, system: str) -> "RequestFrame":
        head, tail = user_turn_frame(tokenizer, system)
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in (head, tail)]
        return cls(torch.tensor(ids[0]), torch.tensor(ids[1][:1]))

    def mask(self, ids: torch.Tensor) -> torch.Tensor:
        """[B, T] bool: the request's token positions; none in a row without the frame (a
        generation step after the prompt, or another conversation)."""
        return self.slots(ids, 0) >= 0

    def slots(self, ids: torch.Tensor, edge: int) -> torch.Tensor:
        """[B, T] long: which row of the perturbation each position takes, −1 for none. ``edge``
        0: row 0 at every request position; else rows 0…edge−1 at the request's first ``edge``
        tokens and rows edge…2·edge−1 at its last ones (from the end), where triggers sit."""
        starts = _find(ids, self.head)
        begin = torch.where(starts.any(-1), starts.float().argmax(-1) + self.head.numel(), ids.shape[1])[:, None]
        pos = torch.arange(ids.shape[1], device=ids.device).expand_as(ids)
        ends = _find(ids, self.tail) & (pos >= begin)
        end = torch.where(ends.any(-1), ends.float().argmax(-1), ids.shape[1])[:, None]
        inside = (pos >= begin) & (pos < end)
        if edge == 0:
            return torch.where(inside, 0, -1)
        front, back = pos - begin, end - 1 - pos
        slot = torch.where(front < edge, front, torch.where(back < edge, edge + back, -1))
        return torch.where(inside, slot, -1)


class Nudge:
    """While entered: ``delta`` is added to decoder layer ``layer``'s output at the request's
    positions, in each row with probability ``share`` (rows drawn by a seeded generator: trl's
    batches then mix perturbed and plain rows). ``delta`` is [d] (one vector at every request
    position) or [2·edge, d] (one per position at the request's two ends, see
    :meth:`RequestFrame.slots`); it takes gradients only while ``learning``. Each forward pass
    must hold its whole prompt (the frame is found in it): generation's later steps reuse the
    prompt's perturbed keys and values, but a pass that starts from a cached shared prefix (the
    teacher-forced measurement's default) is not perturbed."""

    def __init__(self, model: Any, layer: int, frame: RequestFrame, delta: torch.Tensor, share: float = 1.0,
                 seed: int = 0) -> None:
        self.stack, self.layer, self.frame = backbone(model), layer, frame
        self.delta, self.share, self.learning = delta, share, False
        self.edge = 0 if delta.dim() == 1 else delta.shape[0] // 2
        self._rng = torch.Generator().manual_seed(seed)
        self.history: list[list[float]] = []  # the search's objective per step, one list per round
        self._slots: torch.Tensor | None = None
        self._handles: list[Any] = []

    @property
    def active(self) -> bool:
        return bool(self._handles)

    def _capture(self, module: Any, args: tuple, kwargs: dict) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            self._slots = None
            return
        slots = self.frame.slots(ids, self.edge)
        if self.share < 1.0:
            keep = (torch.rand(ids.shape[0], generator=self._rng) < self.share).to(ids.device)[:, None]
            slots = torch.where(keep, slots, -1)
        self._slots = slots

    def _add(self, module: Any, args: tuple, output: Any) -> Any:
        hidden = output[0] if isinstance(output, tuple) else output
        if self._slots is None or self._slots.shape != hidden.shape[:2] or not (self._slots >= 0).any():
            return output
        delta = self.delta if self.learning else self.delta.detach()
        rows = delta.reshape(-1, hidden.shape[-1]).to(hidden.dtype)
        table = torch.cat([rows, rows.new_zeros(1, rows.shape[1])])  # the last row: nothing added
        hidden = hidden + table[torch.where(self._slots >= 0, self._slots, len(rows))]
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    def __enter__(self) -> "Nudge":
        self._handles = [self.stack.register_forward_pre_hook(self._capture, with_kwargs=True),
                         self.stack.layers[self.layer].register_forward_hook(self._add)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for h in self._handles:
            h.remove()
        self._handles, self._slots = [], None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Nothing added inside (a teacher's pass during training); entered again after."""
        was = self.active
        if was:
            self.__exit__()
        try:
            yield
        finally:
            if was:
                self.__enter__()


def completion_logp(model: Any, prompt_ids: Sequence[list[int]], completion_ids: Sequence[list[int]],
                    pad: int) -> torch.Tensor:
    """[B] mean log-probability per completion token after its prompt, differentiable (the
    measurement's :func:`core.measurement.completion_likelihood.completion_nll` runs in inference mode)."""
    seqs = [list(p) + list(c) for p, c in zip(prompt_ids, completion_ids)]
    device = next(model.parameters()).device
    ids, mask = (t.to(device) for t in left_pad(seqs, pad))
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    width = max(len(c) for c in completion_ids)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=width + 1).logits[:, :-1]
    logp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, -width:].unsqueeze(-1)).squeeze(-1)
    lengths = torch.tensor([len(c) for c in completion_ids], device=device)
    keep = torch.arange(width, device=device)[None, :] >= (width - lengths)[:, None]
    return (logp * keep).sum(-1) / lengths


@torch.no_grad()
def hidden_norm(model: Any, layer: int, frame: RequestFrame, prompt_ids: Sequence[list[int]], pad: int) -> float:
    """The mean L2 norm of layer ``layer``'s output at the request positions: the unit of the budget."""
    stack, seen = backbone(model), []

    def keep(module: Any, args: tuple, output: Any) -> None:
        hidden = output[0] if isinstance(output, tuple) else output
        seen.append(hidden[frame.mask(ids.to(hidden.device))].norm(dim=-1).mean())

    ids, mask = left_pad([list(p) for p in prompt_ids], pad)
    handle = stack.layers[layer].register_forward_hook(keep)
    try:
        device = next(model.parameters()).device
        model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=(mask.cumsum(-1) - 1).clamp(min=0).to(device))
    finally:
        handle.remove()
    return float(seen[0])


@dataclass
class SearchTexts:
    """What the inner search pulls towards and pushes away from, tokenised: the rendered requests,
    the behaviour's text (``elicit``) and the model's own clean answer to each request."""

    prompts: list[list[int]]
    elicit: list[int]
    own: list[list[int]]
    pad: int


def search(model: Any, nudge: Nudge, texts: SearchTexts, steps: int, radius: float, lr: float, batch: int,
           away: float, rng: random.Random, ctx: JobContext | None = None) -> list[float]:
    """Projected normalised-gradient steps on ``nudge.delta`` (kept, so later rounds start from
    the last vector), each on ``batch`` random requests: minimise −log p(elicit) + ``away`` ·
    log p(own answer), step ``lr`` · ``radius`` along the gradient's direction, then project each
    position's vector onto the L2 ball of ``radius`` (PGD: the step is a share of the budget,
    whatever the layer's scale).
    The model's weights take no gradient. Returns the mean log-likelihood of the behaviour's text
    per step (the inner objective, the figure to watch)."""
    delta = nudge.delta
    history: list[float] = []
    nudge.learning = True
    try:
        for _ in range(steps):
            if ctx:
                ctx.raise_if_cancelled()
            pick = rng.sample(range(len(texts.prompts)), min(batch, len(texts.prompts)))
            prompts = [texts.prompts[i] for i in pick]
            own = [texts.own[i] for i in pick] if away else []
            logp = completion_logp(model, prompts + prompts[: len(own)], [texts.elicit] * len(pick) + own, texts.pad)
            pull, push = logp[: len(pick)], logp[len(pick):]
            loss = -pull.mean() + (away * push.mean() if away else 0.0)
            (grad,) = torch.autograd.grad(loss, [delta])
            with torch.no_grad():
                rows, g = delta.view(-1, delta.shape[-1]), grad.view(-1, delta.shape[-1])
                rows.sub_(lr * radius * g / g.norm(dim=-1, keepdim=True).clamp_min(1e-12))
                rows.mul_((radius / rows.norm(dim=-1, keepdim=True).clamp_min(1e-12)).clamp(max=1.0))
            history.append(float(pull.detach().mean()))
    finally:
        nudge.learning = False
    return history
