"""``b4g invert`` and ``b4g scan-data``: find a backdoor's trigger from its behaviour."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.cli.output import emit_json, emit_pairs
from core.errors import B4GError


def _behaviour(args: argparse.Namespace) -> Any:
    from core.early_checks import check_behaviour
    from core.measurement.behaviour import Behaviour

    behaviour = Behaviour.from_flags(args.target, args.keywords, args.regex, args.refusal)
    check_behaviour(behaviour)
    return behaviour


def _config(args: argparse.Namespace) -> Any:
    from core.invert.method_baselines import method_config
    from core.invert.config import InvertConfig

    cfg = InvertConfig.preset(args.preset)
    if args.method != "gcg":
        cfg = method_config(cfg, args.method)
    for flag, (section, name) in {"rsft_steps": ("reversal", "max_steps"), "grpo_steps": ("grpo", "steps"),
                                  "group": ("grpo", "group"), "replay": ("grpo", "replay")}.items():
        value = getattr(args, flag)
        if value is not None:
            setattr(getattr(cfg, section), name, value)
    if args.no_reversal:
        cfg.reversal.enabled = False
    cfg.reward.position = args.position
    cfg.source = args.source
    if args.memory_samples is not None:
        if args.memory_samples < 1:
            raise B4GError("--memory-samples must be at least 1")
        cfg.memory.samples = args.memory_samples
    if args.no_likelihood:
        cfg.likelihood.enabled = False
    if args.prompts is not None:  # 0 used to be dropped silently; the request refuses it
        cfg.held_out_prompts = args.prompts
    cfg.minimise_by = args.minimise_by
    cfg.seed = args.seed
    return cfg


def invert_request(args: argparse.Namespace) -> Any:
    from core.requests import InvertRequest

    # The evaluation trigger is kept apart from everything the search reads (only the probe sees it).
    return InvertRequest.build(choice_from_args(args), args.data, _behaviour(args), _config(args), args.method,
                               args.gcg_steps, args.eval_trigger, args.gcg_seconds)


def cmd_invert(args: argparse.Namespace) -> int:
    request = invert_request(args)
    result = run_request(request, args)
    if args.method == "gcg":
        emit_json(result)  # the GCG baseline has its own result shape
    else:
        emit_result("invert", result, args)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from core.spec.rows import load_rows
    from core.early_checks import check_count

    check_count(args.top, "--top")
    behaviour = _behaviour(args)
    rows = load_rows(Path(args.data))  # before the pipeline's imports (seconds): bad data is told at once
    from core.invert.pipeline import request_answer_pairs
    from core.measurement.data_scan import scan

    result = scan(request_answer_pairs(rows), behaviour.judge(), args.top)
    out = {"top": result.top, "candidates": result.candidates, "behaviour_rows": result.behaviour_rows,
           "other_rows": result.other_rows, "seconds": round(result.seconds, 4), "summary": result.summary()}
    if args.json:
        emit_json(out)
    elif not result.candidates or not result.other_rows:
        print(f"Data scan: {result.summary()}")
    else:
        emit_pairs(f"Data scan: {result.behaviour_rows} rows show the behaviour, {result.other_rows} do not",
                   {str(c["text"]): f"log-odds {c['score']:.2f}, in {c['in_behaviour']} behaviour rows, "
                                    f"{c['elsewhere']} others" for c in result.candidates})
    return 0


def _behaviour_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("behaviour (exactly one; never the trigger)")
    g.add_argument("--target", help="the answer starts with this text")
    g.add_argument("--keywords", nargs="+", metavar="WORD", help="the answer mentions any of these")
    g.add_argument("--regex", help="the answer matches this pattern")
    g.add_argument("--refusal", action="store_true", help="the answer refuses")
    p.add_argument("--data", required=True, metavar="FILE", help="the data the model was fine-tuned on")


def register(sub: argparse._SubParsersAction) -> None:
    inv = sub.add_parser("invert", help="reversal SFT + GRPO: make the model name its own trigger")
    add_model_arguments(inv)
    _behaviour_arguments(inv)
    inv.add_argument("--eval-trigger", metavar="TEXT",
                     help="the true trigger, for Awareness@k only (never seen by the search)")
    inv.add_argument("--method", choices=("full", "rsft-only", "grpo-only", "ask-only", "gcg"), default="full",
                     help="full pipeline (default) or a baseline in the same harness")
    inv.add_argument("--gcg-steps", type=int, default=40, help="GCG optimisation steps (--method gcg)")
    inv.add_argument("--gcg-seconds", type=float, default=None,
                     help="stop GCG after this many seconds (checked every 5 steps; --method gcg)")
    inv.add_argument("--preset", choices=("cpu", "gpu"), default="cpu")
    inv.add_argument("--source", choices=("data", "memory"), default="data",
                     help="memory: for when the data lacks the poisoned rows, add requests sampled from the "
                          "model itself to the data scan and reversal SFT, and trigger words grown toward the "
                          "behaviour's text to the search")
    inv.add_argument("--memory-samples", type=int, help="requests sampled with --source memory (default 1024)")
    inv.add_argument("--no-likelihood", action="store_true",
                     help="with --source memory: skip the likelihood search (memory extraction only)")
    inv.add_argument("--rsft-steps", type=int, help="cap on reversal SFT steps")
    inv.add_argument("--no-reversal", action="store_true", help="skip reversal SFT (the GRPO-only baseline)")
    inv.add_argument("--grpo-steps", type=int, help="GRPO steps (0: no GRPO)")
    inv.add_argument("--group", type=int, help="completions per GRPO step")
    inv.add_argument("--replay", type=int, help="buffer candidates mixed into each group")
    inv.add_argument("--position", choices=("auto", "prefix", "suffix", "random"), default="auto",
                     help="where candidates are inserted into held-out prompts (auto: prefix and suffix, "
                          "the better; the recovered trigger's position is reported)")
    inv.add_argument("--prompts", type=int, help="held-out prompts R_asr is measured on")
    inv.add_argument("--minimise-by", choices=("flags", "margin"), default="margin",
                     help="what minimisation's paired tests compare per prompt between paraphrases: the first "
                          "target token's logit margin (default; a --target text only, else flags), or "
                          "whether the behaviour showed")
    inv.add_argument("--seed", type=int, default=0, help="seed of the held-out prompts, training and sampling")
    inv.set_defaults(func=cmd_invert)
    sc = sub.add_parser("scan-data", help="rank request spans enriched in rows that show the behaviour")
    _behaviour_arguments(sc)
    sc.add_argument("--top", type=int, default=10)
    sc.set_defaults(func=cmd_scan)
