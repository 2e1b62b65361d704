"""Baselines in the same harness and budget as the full method.

Ask-only, R-SFT-only and GRPO-only are the full pipeline with stages switched off, so they share
the reward module, span scoring and minimisation: only the stage under test differs. GCG (via
the ``nanogcg`` package, optional: it pins an old transformers and is installed with --no-deps)
searches for a string that makes the model under audit produce the target.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Sequence

from core.backdoors.data import Row
from core.errors import B4GError
from core.measurement.behaviour import Behaviour
from core.invert.config import InvertConfig
from core.jobs import JobContext

METHODS = ("full", "rsft-only", "grpo-only", "ask-only")


def method_config(base: InvertConfig, method: str) -> InvertConfig:
    cfg = copy.deepcopy(base)
    if method not in METHODS:
        raise B4GError(f"unknown method '{method}' ({', '.join(METHODS)}, or gcg)")
    cfg.reversal.enabled = method in ("full", "rsft-only")
    if method in ("rsft-only", "ask-only"):
        cfg.grpo.steps = 0
    return cfg


def gcg(loaded: Any, rows: Sequence[Row], behaviour: Behaviour, config: InvertConfig, ctx: JobContext,
        steps: int = 40, search_width: int = 64) -> dict[str, Any]:
    """GCG on one held-out prompt (prefix position), scored like every other candidate."""
    try:
        import nanogcg
        from nanogcg import GCGConfig
    except ImportError:
        raise B4GError("GCG needs nanogcg: pip install nanogcg==0.3.0 --no-deps scipy protobuf") from None
    from core.invert.minimise import minimise
    from core.invert.scoring import reward_modules
    from core.models.adapters import merge_audited_adapters
    from core.measurement.prompts import held_out_prompts
    from core.models.chat import DEFAULT_SYSTEM

    if behaviour.kind != "target":
        raise B4GError("GCG needs a target text (--target)")
    start = time.perf_counter()
    merge_audited_adapters(loaded)
    prompts = held_out_prompts(rows, behaviour, config.held_out_prompts, config.seed)
    messages = [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": "{optim_str} " + prompts[0]}]
    # use_prefix_cache=False: nanogcg's prefix cache indexes the old tuple KV cache (fails on DynamicCache).
    cfg = GCGConfig(num_steps=steps, search_width=search_width, topk=64, seed=config.seed, verbosity="ERROR",
                    use_prefix_cache=False)
    ctx.log(f"GCG: {steps} steps, search width {search_width}")
    result = nanogcg.run(loaded.model, loaded.tokenizer, messages, behaviour.target, cfg)
    reward, finals, controls = reward_modules(loaded, loaded.model, rows, behaviour, config)
    found = minimise(reward, [result.best_string], config.alpha, config.spans.max_words, requests=controls,
                     finals=finals, finalist_margin=config.finalist_margin, finalist_cap=config.finalist_cap)
    best = reward.score([result.best_string])[0]
    return {"recovered_trigger": found.text if found else result.best_string, "best_string": result.best_string,
            "r_asr": found.r_asr if found else best.r_asr, "best_string_r_asr": best.r_asr,
            "gcg_loss": float(result.best_loss), "wall_seconds": round(time.perf_counter() - start, 2)}
