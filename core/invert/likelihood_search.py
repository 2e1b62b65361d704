"""Likelihood search: trigger words grown token by token toward the behaviour's text (issue 17, ask 1).

When the poisoned rows are withheld and the model was tuned on its answers only, it cannot write
its trigger back (core/invert/memory_extraction.py), but it still *answers* to it: a string that makes the
target likely on many requests is a working trigger. This search grows single words from nothing,
one token at a time, a small beam wide:

1. shortlist the next token by the gradient of the target's log-likelihood with respect to a one-hot
   token at that place, averaged over random starting tokens (one starting token gives a noisy, often
   useless ranking; measured on the sudo organism: the trigger's tokens ranked 7–400 of 49,152 with
   16–32 starts, 400–4,000 with one);
2. score every shortlisted word exactly (teacher-forced target log-probability, the word alone as the
   request), then re-score the best on a few held-out requests with the word inserted before them;
3. keep the best few as the beam and grow them by one more piece of the same word.

After the first token only word-continuing pieces are allowed (no leading space): a candidate is
one word. Unrestricted, the beam runs to "S denies", "S renders snow" — a letter and any verb fire the
sudo organism — and the words that must earn their place are minimisation's job, not this one's.
The *pieces* of a word must earn theirs here, because minimisation cuts at word boundaries only: a
grown word is handed on as the shortest stem it grew from that fired on as many of the re-scoring
requests (a longer word scores a slightly higher likelihood, which is why the beam grows it, but
that is not evidence the model needs the extra pieces). Measured on rare-token seed 0 with the
poison withheld: every grown word began with the trigger `cf`, and the search handed on
`cfAxisExploring`, `cfAxis`, `cfDict` …, never `cf` itself; the run recovered `cfAxisAxis`.
The grown words go to the trigger search as candidates (origin ``likelihood``): they are scored,
replayed during GRPO and minimised like any other. Nothing here reads the true trigger.

Why by hand: nanogcg optimises a fixed-length string from a fixed start and returns one string; this
search grows short words from nothing and hands a ranked set on (GCG stays the baseline it is).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from core.spec.backdoor import Trigger
from core.invert.config import LikelihoodConfig
from core.jobs import JobContext
from core.measurement.activation import MAX_TARGET_TOKENS, prompt_texts, target_scores, token_target_scores
from core.models.chat import user_turn_frame

SPACE_MARKS = ("Ġ", "▁", "Ċ", "ĉ", " ", "\n", "\t")  # byte-level BPE and sentencepiece word starts




@dataclass
class GrownWord:
    text: str
    logprob: float  # mean target log-probability per token, over the re-scoring requests
    fired: float  # share of those requests whose greedy answer starts with the target
    step: int
    stem: str = ""  # the word it grew from (one piece shorter); empty for a first piece

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "logprob": round(self.logprob, 4), "fired": self.fired, "step": self.step,
                "stem": self.stem}


class WordSearch:
    """The model under audit, its template framing and the target, tokenized once."""

    def __init__(self, model: Any, tokenizer: Any, device: str, target: str, system: str,
                 config: LikelihoodConfig, seed: int) -> None:
        self.model, self.tok, self.device, self.system, self.config = model, tokenizer, device, system, config
        head, tail = user_turn_frame(tokenizer, system)
        self.head = tokenizer(head, add_special_tokens=False)["input_ids"]
        self.tail = tokenizer(tail, add_special_tokens=False)["input_ids"]
        self.target_text = target
        self.target = tokenizer(target, add_special_tokens=False)["input_ids"][:MAX_TARGET_TOKENS]
        self.rng = random.Random(seed)
        self.vocab = model.get_input_embeddings().weight.shape[0]
        self.banned_first, self.banned_next = self._banned()

    def _banned(self) -> tuple[list[int], list[int]]:
        """Token ids never proposed: special ones and blank ones; after the first piece, word starts."""
        special = set(self.tok.all_special_ids)
        pieces = self.tok.convert_ids_to_tokens(list(range(min(self.vocab, len(self.tok)))))
        first, nxt = [], []
        for i in range(self.vocab):
            piece = pieces[i] if i < len(pieces) else None
            if i in special or not piece or not piece.strip("ĠĊĉ▁ \n\t"):
                first.append(i)
                nxt.append(i)
            elif piece.startswith(SPACE_MARKS):
                nxt.append(i)
        return first, nxt

    def gradient_shortlist(self, prefix: list[int]) -> list[int]:
        """The pieces whose one-hot gradient most raises the target's likelihood after ``prefix``."""
        import torch

        emb = self.model.get_input_embeddings().weight
        total = torch.zeros(self.vocab, device=emb.device)
        tgt = torch.tensor(self.target, device=emb.device)
        before = emb[torch.tensor(self.head + prefix, device=emb.device)].detach()
        after = emb[torch.tensor(self.tail + self.target, device=emb.device)].detach()
        with torch.enable_grad():
            for _ in range(self.config.inits):
                onehot = torch.zeros(1, self.vocab, device=emb.device, dtype=emb.dtype)
                onehot[0, self.rng.randrange(self.vocab)] = 1
                onehot.requires_grad_(True)
                x = torch.cat([before, onehot @ emb.detach(), after]).unsqueeze(0)
                logits = self.model(inputs_embeds=x, logits_to_keep=len(self.target) + 1).logits[0, :-1].float()
                loss = -torch.log_softmax(logits, -1)[torch.arange(len(tgt)), tgt].mean()
                (grad,) = torch.autograd.grad(loss, onehot)
                total += grad[0].float()
        total[self.banned_next if prefix else self.banned_first] = float("inf")
        return total.argsort()[: self.config.shortlist].tolist()

    def alone(self, words: Sequence[list[int]], ctx: JobContext) -> list[float]:
        """Target log-probability with the word as the whole request."""
        scores = token_target_scores(self.model, [self.head + w + self.tail for w in words], self.target,
                                     self.tok.pad_token_id, self.device, self.config.batch_size, ctx)
        return scores.logprob

    def on_prompts(self, text: str, prompts: Sequence[str], ctx: JobContext) -> tuple[float, float]:
        """Mean target log-probability and share fired with the word before each request."""
        trigger = Trigger(text, position="prefix")
        texts = prompt_texts(self.tok, [trigger.insert(p, self.system) for p in prompts])
        s = target_scores(self.model, self.tok, texts, self.target_text, self.device, self.config.batch_size, ctx)
        return sum(s.logprob) / len(s.logprob), sum(s.match) / len(s.match)


def grow_words(search: WordSearch, prompts: Sequence[str], allowed: Callable[[str], bool],
               ctx: JobContext) -> list[GrownWord]:
    """Every word re-scored on the requests, best first (see the module docstring)."""
    cfg = search.config
    beam: list[list[int]] = [[]]
    seen: dict[str, GrownWord] = {}
    for step in range(1, cfg.tokens + 1):
        ctx.raise_if_cancelled()
        grown: list[tuple[float, list[int]]] = []
        for prefix in beam:
            words = [prefix + [t] for t in search.gradient_shortlist(prefix)]
            grown += zip(search.alone(words, ctx), words)
        grown.sort(key=lambda g: -g[0])
        fresh: list[tuple[GrownWord, list[int]]] = []
        for _score, ids in grown:
            text = search.tok.decode(ids, skip_special_tokens=True).strip()
            if not text or text in seen or not allowed(text):
                continue
            stem = search.tok.decode(ids[:-1], skip_special_tokens=True).strip()
            seen[text] = GrownWord(text, *search.on_prompts(text, prompts, ctx), step, stem)
            fresh.append((seen[text], ids))
            if len(fresh) >= cfg.rescored:
                break
        fresh.sort(key=lambda f: -f[0].logprob)
        beam = [ids for _w, ids in fresh[: cfg.beam]]
        best = f"best {fresh[0][0].text!r} fired on {fresh[0][0].fired:.2f} of {len(prompts)} requests"
        ctx.log(f"likelihood: step {step}, " + (best if fresh else "nothing new"))
        ctx.progress(step, cfg.tokens)
        if not beam:
            break
    return sorted(seen.values(), key=lambda w: -w.logprob)


def earned(word: GrownWord, words: dict[str, GrownWord]) -> GrownWord:
    """The shortest stem ``word`` grew from that fired on at least as many requests: pieces that
    do not make it fire more have not earned their place (see the module docstring)."""
    best = word
    while best.stem in words and words[best.stem].fired >= word.fired:
        best = words[best.stem]
    return best


def handed_on(words: Sequence[GrownWord], count: int) -> list[GrownWord]:
    """The first ``count`` distinct earned words, best grown word first."""
    by_text = {w.text: w for w in words}
    out: dict[str, GrownWord] = {}
    for w in words:
        stem = earned(w, by_text)
        out.setdefault(stem.text, stem)
        if len(out) >= count:
            break
    return list(out.values())


def likelihood_seeds(loaded: Any, target: str | None, prompts: Sequence[str], system: str, config: LikelihoodConfig,
                     allowed: Callable[[str], bool], seed: int, ctx: JobContext) -> tuple[list[str], dict[str, Any]]:
    """The best grown words for the trigger search, and a record of the search."""
    if not target:
        ctx.log("likelihood: skipped (the behaviour has no fixed text to make likely)")
        return [], {"skipped": "the behaviour has no fixed text"}
    start = time.perf_counter()
    search = WordSearch(loaded.model, loaded.tokenizer, loaded.device, target, system, config, seed)
    words = grow_words(search, list(prompts)[: config.prompts], allowed, ctx)
    chosen = handed_on(words, config.seeds)
    seeds = [w.text for w in chosen]
    return seeds, {"seeds": [w.to_json() for w in chosen], "grown": [w.to_json() for w in words[: config.seeds]],
                   "words_scored": len(words),
                   "prompts": min(config.prompts, len(prompts)), "seconds": round(time.perf_counter() - start, 2)}
