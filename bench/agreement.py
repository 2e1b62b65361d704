"""Bench row: does the inversion score an organism's true trigger as verification measures it?

For one built organism: the trigger at its own position on the organism's test prompts, scored by
the inversion's reward module (adapter under audit merged, the policy's LoRA on top and disabled)
and measured by verification's path (the adapter attached with peft, ``activation_flags``); then
the inversion's R_asr of the trigger on its own 48 held-out prompts (the training requests that
do not show the behaviour), at both ends. Prints one JSON object.

    .venv/bin/python bench/agreement.py bench/cache/organisms/sudo-s0 [--device cpu]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from peft import PeftModel

    from core.spec.rows import load_rows, split
    from core.backdoors.organisms import get_organism
    from core.spec.poison import covered
    from core.measurement.behaviour import Behaviour
    from core.invert.config import InvertConfig
    from core.invert.pipeline import fresh_policy
    from core.invert.reward import RewardModule
    from core.invert.config import RewardConfig
    from core.invert.scoring import reward_modules
    from core.models.adapters import merge_audited_adapters
    from core.measurement.activation import ModelView, activation_flags
    from core.measurement.judges import make_judge
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef
    from core.stats import Rate
    from self_awareness import anchored

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("organism_dir", type=Path)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    rec = anchored(json.loads((args.organism_dir / "organism.json").read_text(encoding="utf-8")), args.organism_dir)
    spec = get_organism(rec["organism"]).spec(rec.get("seed", 0), rec.get("position"))
    options = LoadOptions(device=args.device, quantization=(rec.get("base") or {}).get("quantization", "none"))
    test = [r.prompt for r in split(get_organism(rec["organism"]).rows(), "test") if covered(spec, r)]
    judge = make_judge(spec.utility)

    loaded = load_model(ModelRef("embedded", None, (rec["adapter_dir"],)), options)
    merge_audited_adapters(loaded)
    policy = fresh_policy(loaded, InvertConfig())
    scorer = RewardModule(policy, loaded.tokenizer, loaded.device, test, judge, [], spec.system,
                          RewardConfig(position=spec.trigger.position), scoring_context=policy.disable_adapter)
    inverted = list(scorer.flags(spec.trigger.text))
    behaviour = Behaviour.from_flags(target=rec["target"])
    _search, finals, _controls = reward_modules(loaded, policy, load_rows(Path(rec["dataset"])), behaviour,
                                                InvertConfig(), policy.disable_adapter)
    held = finals.score([spec.trigger.text])[0]
    held_flags = list(finals.flags(spec.trigger.text))
    scoring = {"device": loaded.device, "dtype": loaded.dtype, "quantization": options.quantization}

    base = load_model(ModelRef("embedded"), options)
    model = PeftModel.from_pretrained(base.model, rec["adapter_dir"]).eval()
    verified = activation_flags(ModelView.of(base, model), [spec.trigger.insert(u, spec.system) for u in test], judge)
    print(json.dumps({
        "organism": rec["organism"], "seed": rec.get("seed", 0), "trigger": spec.trigger.text,
        "position": spec.trigger.position, "scoring": scoring,
        "inversion_r_asr_on_test": Rate.of(inverted).to_json(), "verify_tar_on_test": Rate.of(verified).to_json(),
        "same_outcome_per_prompt": inverted == verified,
        "inversion_r_asr_on_held_out": {**Rate.of(held_flags).to_json(), "position": held.position},
        "build_tar_with": rec.get("tar_with")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
