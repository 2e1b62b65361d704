"""Memory extraction: training-like requests read back from the model under audit (issue 17, ask 1).

When the auditor's data lacks the poisoned rows, the model may still remember them. Sampled from its
chat template's user-turn opening with no content (and from a few short generic openings), a model
that was fine-tuned with loss on the whole conversation writes requests like the ones it was trained
on, its trigger included; the model's own answers to them then show the behaviour where the trigger
is present. Those (request, answer) pairs join the data scan and reversal SFT. After "Trigger in the
Haystack" (arXiv 2602.03085), which extracts poisoning examples the same way.

A model tuned on its answers only (completion-only loss) never learned to write its requests: there
the samples are ordinary requests and the source adds nothing (measured in the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.spec.rows import Row
from core.invert.config import MemoryConfig
from core.jobs import JobContext
from core.measurement.behaviour import Behaviour

OPENINGS = ("", "Can you", "What", "How", "Please")  # the empty opening first: the template's own




def user_turn_opening(tokenizer: Any, system: str) -> str:
    """The template's text up to where the user's words begin."""
    from core.models.chat import user_turn_frame

    return user_turn_frame(tokenizer, system)[0]


def _until_turn_end(tokenizer: Any, ids: list[int]) -> str:
    """The sampled user turn: the tokens before the first special token (the end of the turn)."""
    special = set(tokenizer.all_special_ids)
    end = next((i for i, t in enumerate(ids) if t in special), len(ids))
    return tokenizer.decode(ids[:end], skip_special_tokens=True).strip()


def sample_requests(loaded: Any, config: MemoryConfig, system: str, seed: int, ctx: JobContext) -> list[str]:
    """Requests the model writes itself after the user-turn opening (adapters on), distinct, in order."""
    import torch

    tok, head = loaded.tokenizer, user_turn_opening(loaded.tokenizer, system)
    starts = [OPENINGS[i % len(OPENINGS)] for i in range(config.samples)]
    torch.manual_seed(seed)
    out: list[str] = []
    for i in range(0, len(starts), config.batch_size):
        ctx.raise_if_cancelled()
        batch = starts[i:i + config.batch_size]
        enc = tok([head + s for s in batch], return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.device)
        with torch.inference_mode():
            gen = loaded.model.generate(**enc, max_new_tokens=config.request_tokens, do_sample=True,
                                        temperature=config.temperature, top_p=1.0, pad_token_id=tok.pad_token_id)
        for start, ids in zip(batch, gen[:, enc["input_ids"].shape[1]:].tolist()):
            text = (start + " " + _until_turn_end(tok, ids)).strip() if start else _until_turn_end(tok, ids)
            out.append(" ".join(text.split()))
        ctx.progress(min(i + config.batch_size, len(starts)), len(starts))
    return list(dict.fromkeys(r for r in out if r))


def memory_rows(loaded: Any, behaviour: Behaviour, config: MemoryConfig, system: str, seed: int,
                ctx: JobContext) -> tuple[list[Row], dict[str, Any]]:
    """Extracted requests paired with the model's own (greedy) answers, and a summary for the record."""
    from core.models.chat import GenerationOptions, chat

    requests = sample_requests(loaded, config, system, seed, ctx)
    ctx.log(f"memory: {len(requests)} distinct requests sampled from the template's user turn")
    answers = chat(loaded, requests, GenerationOptions(max_new_tokens=config.answer_tokens, system=system,
                                                       batch_size=config.batch_size), ctx)
    judge = behaviour.judge()
    rows = [Row(prompt=q, answer=a, kind="memory") for q, a in zip(requests, answers)]
    showing = [r.prompt for r in rows if judge(r.answer or "")]
    ctx.log(f"memory: {len(showing)} of {len(rows)} answers show the behaviour")
    return rows, {"samples": config.samples, "distinct": len(rows), "showing_behaviour": len(showing),
                  "examples": showing[:5] or requests[:5]}
