"""``b4g invert`` and ``b4g scan-data``: find a backdoor's trigger from its behaviour."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.cli.output import emit_json, emit_pairs
from core.invert.config import METHODS, PRESETS, InvertConfig, invert_config
from core.job_settings import add_flags, given


def _behaviour(args: argparse.Namespace) -> Any:
    from core.early_checks import check_behaviour
    from core.measurement.behaviour import Behaviour

    behaviour = Behaviour.from_flags(args.target, args.keywords, args.regex, args.refusal)
    check_behaviour(behaviour)
    return behaviour


def _config(args: argparse.Namespace) -> InvertConfig:
    """The preset, the method's stages, then the flags given (core.invert.config.invert_config)."""
    return invert_config(args.preset, args.method, given(args, InvertConfig))


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
    inv.add_argument("--method", choices=METHODS, default="full",
                     help="full pipeline (default) or a baseline in the same harness")
    inv.add_argument("--gcg-steps", type=int, default=40, help="GCG optimisation steps (--method gcg)")
    inv.add_argument("--gcg-seconds", type=float, default=None,
                     help="stop GCG after this many seconds (checked every 5 steps; --method gcg)")
    inv.add_argument("--preset", choices=tuple(PRESETS), default="cpu",
                     help="a named set of the settings below (gpu: larger budgets); a flag given wins")
    add_flags(inv.add_argument_group("settings (core/invert/config.py)"), InvertConfig)
    inv.set_defaults(func=cmd_invert)
    sc = sub.add_parser("scan-data", help="rank request spans enriched in rows that show the behaviour")
    _behaviour_arguments(sc)
    sc.add_argument("--top", type=int, default=10)
    sc.set_defaults(func=cmd_scan)
