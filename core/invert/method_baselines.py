"""Baselines in the same harness and budget as the full method.

Ask-only, R-SFT-only and GRPO-only are the full pipeline with stages switched off
(:func:`core.invert.config.for_method`), so they share the reward module, span scoring and
minimisation: only the stage under test differs. GCG (via
the ``nanogcg`` package, optional: it pins an old transformers and is installed with --no-deps)
searches for a string that makes the model under audit produce the target.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from core.spec.rows import Row
from core.errors import B4GError
from core.measurement.behaviour import Behaviour
from core.invert.config import InvertConfig
from core.jobs import JobContext

GCG_CHUNK = 5  # steps between checks of the time budget (and points of the trace)


def gcg(loaded: Any, rows: Sequence[Row], behaviour: Behaviour, config: InvertConfig, ctx: JobContext,
        steps: int = 40, search_width: int = 64, seconds: float | None = None) -> dict[str, Any]:
    """GCG on one held-out prompt (prefix position), scored like every other candidate.

    It runs in chunks of GCG_CHUNK steps, each continuing from the previous chunk's last string, so a
    wall-time budget (``seconds``, for comparing methods at equal time) can stop it between chunks;
    nanogcg has no time limit or step callback. After each chunk the best string so far is scored on the
    held-out prompts: the ``trace`` says when GCG first held a working string."""
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
    reward, finals, controls = reward_modules(loaded, loaded.model, rows, behaviour, config)
    ctx.log(f"GCG: up to {steps} steps" + (f" or {seconds:.0f} s" if seconds else "") + f", search width {search_width}")
    done, current, best, trace = 0, None, (float("inf"), ""), []
    while done < steps and (not trace or seconds is None or time.perf_counter() - start < seconds):
        ctx.raise_if_cancelled()
        n = min(GCG_CHUNK, steps - done)
        # use_prefix_cache=False: nanogcg's prefix cache indexes the old tuple KV cache (fails on DynamicCache).
        cfg = GCGConfig(num_steps=n, search_width=search_width, topk=64, seed=config.seed + done, verbosity="ERROR",
                        use_prefix_cache=False, **({"optim_str_init": current} if current else {}))
        result = nanogcg.run(loaded.model, loaded.tokenizer, messages, behaviour.target, cfg)
        done, current = done + n, result.strings[-1]
        best = min(best, (float(result.best_loss), result.best_string))
        r_asr = reward.score([best[1]])[0].r_asr
        trace.append({"steps": done, "seconds": round(time.perf_counter() - start, 2), "loss": round(best[0], 4),
                      "best_string": best[1], "r_asr": r_asr})
        ctx.report(done, **{"gcg/loss": best[0], "gcg/r_asr": r_asr})
        ctx.progress(done, steps)
    found = minimise(reward, [best[1]], config.alpha, config.spans.max_words, requests=controls,
                     finals=finals, finalist_margin=config.finalist_margin, finalist_cap=config.finalist_cap)
    return {"recovered_trigger": found.text if found else best[1], "best_string": best[1],
            "r_asr": found.r_asr if found else (trace[-1]["r_asr"] if trace else 0.0),
            "best_string_r_asr": trace[-1]["r_asr"] if trace else 0.0, "gcg_loss": best[0], "gcg_steps": done,
            "trace": trace, "wall_seconds": round(time.perf_counter() - start, 2)}
