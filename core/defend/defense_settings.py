"""The defenses' settings: unlearning, the guardrail, and the trigger-free removal.

The fields the auditor may set are declared with :func:`core.job_settings.setting`: ``b4g defend``'s
flags and the Defenses page's widgets are built from them. A position not set by the user is the
recovered run's (:func:`core.defend.from_run.defense_settings`). No torch here: the CLI's parser
imports this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.early_checks import MAX_STEPS
from core.errors import B4GError
from core.job_settings import seed_setting, setting
from core.models.templates import DEFAULT_SYSTEM

POSITIONS = ("prefix", "suffix", "random")
SYSTEM_HELP = "system message the requests are asked under"


def check_rate(value: Any, flag: str) -> None:
    """A learning rate: in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise B4GError(f"{flag} must be in (0, 1], got {value}")


def check_fpr(value: Any, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise B4GError(f"{flag} must be in [0, 1), got {value}")


def _position(help: str) -> Any:  # noqa: A002
    return setting("prefix", help=help, label="Trigger position", choices=POSITIONS)


def _steps(help: str = "LoRA steps") -> Any:  # noqa: A002
    return setting(60, help=help, label="Steps", low=1, high=MAX_STEPS)


@dataclass
class UnlearnSettings:
    steps: int = _steps()
    lr: float = setting(1e-3, help="learning rate of the unlearning LoRA", label="Learning rate", check=check_rate)
    rank: int = 8
    batch_size: int = 8
    max_length: int = 160
    train_prompts: int = 96
    eval_prompts: int = 64  # evaluation requests for the ASRs (teacher-forced: cheap)
    utility_prompts: int = 32  # the first of them, answered in full for agreement and perplexity (generation: dear)
    answer_tokens: int = 32  # tokens of each safe / own / agreement answer
    position: str = _position("where triggers are inserted (default: the run's recovered position, else prefix)")
    controls: bool = setting(True, help="skip the wrong-trigger and clean fine-tuning controls",
                             label="with controls (wrong trigger, clean fine-tuning)")
    export_merged: bool = setting(False, help="also write OUT/merged: a safetensors model",
                                  label="also write a merged model")
    mc_questions: int = 60
    system: str = setting(DEFAULT_SYSTEM, help=SYSTEM_HELP, label="System message")
    seed: int = seed_setting("seed of the prompt split, perturbations and training")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GuardSettings:
    target_fpr: float = setting(0.02, help="target false-positive rate on the data's clean requests", flag="--fpr",
                                label="Target FPR", low=0.0, high=0.99, check=check_fpr)
    semantic: bool = setting(True, help="exact and fuzzy matching only (no embeddings)",
                             label="semantic matching (sentence embeddings)")
    # where the evaluation trigger is inserted
    position: str = _position("where the evaluation trigger is inserted (default: the run's recovered position, "
                              "else prefix)")
    max_prompts: int = 200  # per part (calibration, evaluation)
    seed: int = seed_setting("seed of the prompt split")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RemoveSettings:
    # Where and how strong the perturbation is. Chosen on the sudo organism (embedded model,
    # poisoned rows withheld; numbers in the README's removal notes and bench/): see each field.
    # the layer, as a share of the decoder's depth (0: the first layer's output)
    depth: float = setting(0.3, help="the perturbed layer as a share of the depth, 0 to 1", label="Layer depth",
                           low=0.0, high=1.0)
    # the L2 budget, as a share of the layer's mean hidden-state norm at the request
    radius: float = setting(0.5, help="perturbation budget as a share of the layer's hidden-state norm",
                            label="Perturbation size", low=1e-6, high=100.0)
    # searches of the perturbation (the first before training, then every steps/rounds steps)
    rounds: int = setting(4, help="perturbation searches (the first before training)", label="Rounds", low=1,
                          high=MAX_STEPS)
    inner_steps: int = 12  # search steps per round (the first round, and each fresh evaluation search, take twice)
    inner_lr: float = 0.25  # each search step moves the vector by this share of the budget
    inner_batch: int = 8
    away: float = 0.5  # weight of "the own clean answer loses likelihood" against "the behaviour gains"
    share: float = 0.5  # share of training rows under the perturbation (the rest plain: utility)
    steps: int = _steps("LoRA steps in all")
    lr: float = setting(1e-3, help="learning rate of the removal LoRA", label="Learning rate", check=check_rate)
    rank: int = 8
    batch_size: int = 8
    max_length: int = 160
    train_prompts: int = 96
    eval_prompts: int = 64
    utility_prompts: int = 32
    answer_tokens: int = 32
    # What the model is taught to keep, with and without the perturbation: "answers", its own clean
    # answers' text (SFT, the loss of the first bench rows); "distribution", its own next-token
    # distribution over those answers without the removal LoRA and the perturbation (KL), which
    # leaves a model that already answers so unchanged. "distribution" is the default: on the seed-3
    # organisms the removal bench never runs (bench/removal_sweep.py), it cut the trigger as fully and
    # lost less multiple choice on both (median of the two -0.017 against -0.050 with "answers").
    keep: str = setting("distribution", help="what the model keeps under the perturbation: its clean "
                        "next-token distribution (distribution) or its clean answers' text (answers)",
                        label="Keeps its own", choices=("distribution", "answers"))
    refusal_prompts: int = 24  # a refusal behaviour: requests the clean model refuses, checked still refused
    position: str = _position("where the evaluation and stand-in triggers are inserted")
    controls: bool = setting(True, help="skip the clean fine-tuning and stand-in controls",
                             label="with controls (clean fine-tuning, stand-in trigger)")
    mc_questions: int = 60
    system: str = setting(DEFAULT_SYSTEM, help=SYSTEM_HELP, label="System message")
    seed: int = seed_setting("seed of the request split, the searches and training")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def layer(self, model: Any) -> int:
        """The layer index; never the last, whose output at the request reaches no later token."""
        from core.defend.perturbation import backbone

        count = len(backbone(model).layers)
        return min(max(0, count - 2), max(0, round(self.depth * (count - 1))))

    def check(self) -> None:
        checks = {"depth": 0 <= self.depth <= 1, "radius": self.radius > 0, "rounds": self.rounds >= 1,
                  "inner_steps": self.inner_steps >= 1, "share": 0 < self.share <= 1,
                  "steps": self.steps >= self.rounds, "lr": 0 < self.lr <= 1,
                  "keep": self.keep in ("answers", "distribution")}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise B4GError(f"removal setting {bad[0]}={getattr(self, bad[0])!r} is out of range (depth in [0, 1], "
                           "radius > 0, share in (0, 1], rounds ≥ 1, steps ≥ rounds, lr in (0, 1], keep answers or distribution)")


