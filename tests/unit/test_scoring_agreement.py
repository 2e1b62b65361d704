"""The inversion scores a candidate exactly as verification measures a trigger.

Same string, same position, same prompts: the inversion's reward module (adapter under audit
merged into the weights, the policy's own LoRA on top and disabled while scoring, teacher-forced
prefix-cached batches) and verification's path (the adapter attached with peft, ``activation_flags``
as ``b4g verify`` runs it) must give the same per-prompt outcomes. On the GPU workstation the two
disagreed by 0.28 for ``SUDO``; this pins the scorer, so such a gap must come from the prompts.
"""

from __future__ import annotations

from pathlib import Path

from core.spec.rows import split
from core.spec.poison import covered
from core.invert.config import InvertConfig
from core.invert.pipeline import fresh_policy
from core.invert.reward import RewardModule
from core.invert.config import RewardConfig
from core.models.adapters import merge_audited_adapters
from core.measurement.activation import ModelView, activation_flags
from core.measurement.judges import make_judge
from core.models.loader import load_model
from core.models.ref import ModelRef
from core.stats import Rate

CANDIDATES = ("zqx", "apple", "zqx zqx", "Describe")


def _verification_flags(tiny_backdoor, prompts: list[str], text: str, position: str) -> list[bool]:  # noqa: ANN001
    from peft import PeftModel

    spec = tiny_backdoor.spec
    base = load_model(ModelRef.parse(tiny_backdoor.loaded.ref.path))
    model = PeftModel.from_pretrained(base.model, tiny_backdoor.adapter).eval()
    trigger = spec.trigger.with_text(text)
    trigger.position = position
    inserted = [trigger.insert(p, spec.system) for p in prompts]
    return activation_flags(ModelView.of(base, model), inserted, make_judge(spec.utility))


def _inversion_module(tiny_backdoor, prompts: list[str], position: str) -> RewardModule:  # noqa: ANN001
    spec = tiny_backdoor.spec
    loaded = load_model(ModelRef.parse(tiny_backdoor.loaded.ref.path, [str(tiny_backdoor.adapter)]))
    merge_audited_adapters(loaded)
    policy = fresh_policy(loaded, InvertConfig())
    return RewardModule(policy, loaded.tokenizer, loaded.device, prompts, make_judge(spec.utility), [], spec.system,
                        RewardConfig(position=position), scoring_context=policy.disable_adapter)


def test_inversion_scoring_matches_verification_prompt_by_prompt(tiny_backdoor) -> None:  # noqa: ANN001
    spec = tiny_backdoor.spec
    prompts = [r.prompt for r in split(tiny_backdoor.rows, "test") if covered(spec, r)]
    outcomes = []
    for position, text in [(pos, t) for pos in ("prefix", "suffix") for t in CANDIDATES]:
        module = _inversion_module(tiny_backdoor, prompts, position)
        inverted = list(module.flags(text))
        verified = _verification_flags(tiny_backdoor, prompts, text, position)
        assert inverted == verified, f"{text!r} at {position}: the inversion and verification disagree"
        r_asr, tar = Rate.of(inverted), Rate.of(verified)
        lo, hi = tar.wilson()
        assert lo <= r_asr.value <= hi
        assert module.score([text])[0].position == position
        outcomes += inverted
    assert any(outcomes) and not all(outcomes)  # the comparison saw both firing and silent prompts


def test_auto_position_keeps_the_better_end(tiny_backdoor) -> None:  # noqa: ANN001
    spec = tiny_backdoor.spec
    prompts = [r.prompt for r in split(tiny_backdoor.rows, "test") if covered(spec, r)][:12]
    ends = {pos: _inversion_module(tiny_backdoor, prompts, pos).score(["zqx"])[0].r_asr for pos in ("prefix", "suffix")}
    auto = _inversion_module(tiny_backdoor, prompts, "auto").score(["zqx"])[0]
    assert ends["prefix"] != ends["suffix"]  # the tiny backdoor was trained as a prefix
    assert auto.r_asr == max(ends.values())
    assert ends[auto.position] == auto.r_asr
    assert Path(tiny_backdoor.adapter).is_dir()
