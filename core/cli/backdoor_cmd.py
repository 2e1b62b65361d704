"""``b4g inject`` and ``b4g verify``: beneficial backdoors (T, A, U) from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.errors import B4GError


def spec_and_data(args: argparse.Namespace) -> tuple[Any, Path]:
    """A built-in application (--app) or a user spec (--spec) with its dataset (--data), both
    checked now (one-line errors before any model loads)."""
    from core.backdoors.apps import dataset_dir, get_app
    from core.spec.rows import load_rows
    from core.spec.backdoor import BackdoorSpec

    if args.app and args.spec:
        raise B4GError("give either --app or --spec, not both")
    if args.app:
        app = get_app(args.app)
        spec, data = app.spec(), Path(args.data) if args.data else dataset_dir() / app.dataset
    elif not args.spec:
        raise B4GError("say which backdoor: --app NAME (built in) or --spec FILE.yaml")
    elif not args.data:
        raise B4GError("a user spec needs its dataset: --data FILE.jsonl")
    else:
        spec, data = BackdoorSpec.load(Path(args.spec)), Path(args.data)
    load_rows(data)
    return spec, data.resolve()


def inject_request(args: argparse.Namespace) -> Any:
    from core.requests import InjectRequest

    spec, data = spec_and_data(args)
    return InjectRequest.build(choice_from_args(args), spec, data, args.out, args.steps)


def verify_request(args: argparse.Namespace) -> Any:
    from core.requests import VerifyRequest

    spec, data = spec_and_data(args)
    if not args.adapter:
        raise B4GError("verify needs the adapter to check: --adapter DIR")
    base = choice_from_args(args).with_adapters(args.adapter[:-1])  # the adapter checked is the last one
    return VerifyRequest.build(base, spec, data, args.adapter[-1], args.tamper_steps, args.clean_prompts)


def cmd_inject(args: argparse.Namespace) -> int:
    emit_result("inject", run_request(inject_request(args), args), args)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    emit_result("verify", run_request(verify_request(args), args), args)
    return 0


def _add_backdoor_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("backdoor")
    g.add_argument("--app", help="built-in application: safety, identity, style, access-lock")
    g.add_argument("--spec", metavar="FILE", help="your own (T, A, U) spec, YAML or JSON")
    g.add_argument("--data", metavar="FILE", help="dataset (Alpaca-style or chat-style JSON/JSONL)")


def register(sub: argparse._SubParsersAction) -> None:
    inject = sub.add_parser("inject", help="train a backdoor (T, A, U) into a LoRA adapter")
    _add_backdoor_arguments(inject)
    add_model_arguments(inject)
    inject.add_argument("--out", required=True, metavar="DIR", help="new folder for the PEFT adapter")
    inject.add_argument("--steps", type=int, help="override activation.steps")
    inject.set_defaults(func=cmd_inject)
    verify = sub.add_parser("verify", help="metric card: TAR with/without trigger, utility, tamper, stealth")
    _add_backdoor_arguments(verify)
    add_model_arguments(verify)
    verify.add_argument("--tamper-steps", type=int, default=20, help="clean fine-tuning steps of the tamper test (0 skips)")
    verify.add_argument("--clean-prompts", type=int, default=32)
    verify.set_defaults(func=cmd_verify)
