"""``b4g scan-model``: propose a backdoor's behaviour from the model alone (behaviour unknown)."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.job_settings import add_flags, given, with_values
from core.target_scan.scan_settings import ScanSettings


def scan_model_request(args: argparse.Namespace) -> Any:
    from core.requests import ScanModelRequest

    settings = with_values(ScanSettings(), given(args, ScanSettings))
    return ScanModelRequest.build(choice_from_args(args), settings, args.prompts_file)


def cmd_scan_model(args: argparse.Namespace) -> int:
    emit_result("scan-model", run_request(scan_model_request(args), args), args)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan-model", help="propose a backdoor's behaviour from the model alone (no trigger, no target)",
                       description="Force candidate first answer tokens after clean prompts and extend them by the "
                                   "token most probable across prompts; a continuation the adapters made consistent "
                                   "is a backdoor's fixed answer. Prints backdoor_found and ranked proposals.")
    add_model_arguments(p)
    p.add_argument("--prompts-file", metavar="FILE", help="your own clean requests (JSONL rows); default: the shipped pool")
    add_flags(p.add_argument_group("settings (core/target_scan/scan_settings.py)"), ScanSettings)
    p.set_defaults(func=cmd_scan_model)
