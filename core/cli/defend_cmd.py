"""``b4g defend unlearn`` and ``b4g defend guard``: harden a model once its trigger is named."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.defend_remove_cmd import register_remove
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.cli.output import emit_json, emit_sections
from core.defend.defense_settings import GuardSettings, UnlearnSettings
from core.defend.from_run import defense_settings, guard_keywords
from core.early_checks import check_behaviour, check_count
from core.errors import B4GError
from core.job_settings import add_flags, given


def _recovered(args: argparse.Namespace) -> Any:
    """The triggers to defend against: typed (--trigger) or an inversion run's (--from-run)."""
    from core.defend.from_run import recovered_from

    if args.from_run is not None and args.trigger:
        raise B4GError("give either --trigger or --from-run, not both")
    check_count(args.top_k, "--top-k")
    if args.from_run is None and not args.trigger:
        raise B4GError("name the recovered trigger(s): --trigger TEXT (repeatable) or --from-run RUN")
    store = None
    if args.from_run is not None:
        from core.cli.common import session_store

        store = session_store(args)
    return recovered_from(store, list(args.trigger), args.from_run, args.top_k)


def _behaviour(args: argparse.Namespace, fallback: Any) -> Any:
    from core.measurement.behaviour import Behaviour

    if not (args.target or args.keywords is not None or args.regex or args.refusal):
        return fallback
    behaviour = Behaviour.from_flags(args.target, args.keywords, args.regex, args.refusal)
    check_behaviour(behaviour)
    return behaviour


def unlearn_request(args: argparse.Namespace) -> Any:
    from core.requests import UnlearnRequest

    rec = _recovered(args)
    settings = defense_settings(UnlearnSettings, rec, given(args, UnlearnSettings))
    return UnlearnRequest.build(choice_from_args(args), args.data, rec.triggers, args.out,
                                _behaviour(args, rec.behaviour), args.eval_trigger, settings, rec.run_id)


def guard_request(args: argparse.Namespace) -> Any:
    from core.requests import GuardCheckRequest, GuardRequest

    rec = _recovered(args)
    choice = choice_from_args(args)
    values = given(args, GuardSettings)
    if args.check is not None or args.check_file:
        if args.data:
            raise B4GError("--check / --check-file use a threshold (--threshold, or the default); "
                           "calibrate with --data separately")
        prompts = [args.check] if args.check is not None else _jsonl_prompts(Path(args.check_file))
        return GuardCheckRequest.build(choice, rec.triggers, prompts, args.threshold, values.get("semantic", True))
    if not args.data:
        raise B4GError("give --data FILE to calibrate and measure the guardrail, or --check TEXT to try a prompt")
    settings = defense_settings(GuardSettings, rec, values)
    return GuardRequest.build(choice, rec.triggers, args.data, args.eval_trigger, settings,
                              guard_keywords(rec, args.data, _behaviour(args, None)), args.onion, args.save, rec.run_id)


def _jsonl_prompts(path: Path) -> list[str]:
    """The requests of a dataset file (any format ``load_rows`` reads), in file order."""
    from core.spec.rows import load_rows

    return [r.prompt for r in load_rows(path)]


def cmd_unlearn(args: argparse.Namespace) -> int:
    emit_result("unlearn", run_request(unlearn_request(args), args), args)
    return 0


def cmd_guard(args: argparse.Namespace) -> int:
    request = guard_request(args)
    result = run_request(request, args)
    if args.json:
        emit_json(result)
    else:
        from core.sections import sections_for

        emit_sections(sections_for(request.KIND, result))
    return 0


def _trigger_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("triggers (recovered ones; never the true trigger)")
    g.add_argument("--trigger", action="append", default=[], metavar="TEXT", help="a recovered trigger (repeatable)")
    g.add_argument("--from-run", type=int, metavar="RUN", help="an inversion run of the session: its recovered triggers")
    g.add_argument("--top-k", type=int, default=3, help="with --from-run: how many of its triggers (default 3)")
    g.add_argument("--eval-trigger", metavar="TEXT", help="the true trigger, for the evaluation only")
    b = p.add_argument_group("behaviour (optional: the run's, else inferred from the trigger's answers)")
    b.add_argument("--target", help="the answer starts with this text")
    b.add_argument("--keywords", nargs="+", metavar="WORD", help="the answer mentions any of these")
    b.add_argument("--regex", help="the answer matches this pattern")
    b.add_argument("--refusal", action="store_true", help="the answer refuses")


def register(sub: argparse._SubParsersAction) -> None:
    defend = sub.add_parser("defend", help="adversarial unlearning and a guardrail from recovered triggers")
    dsub = defend.add_subparsers(dest="defense", required=True, metavar="DEFENSE")
    un = dsub.add_parser("unlearn", help="LoRA that answers triggered requests as the clean model would")
    add_model_arguments(un)
    _trigger_arguments(un)
    un.add_argument("--data", required=True, metavar="FILE", help="the auditor's requests (the audited data)")
    un.add_argument("--out", required=True, metavar="DIR", help="new folder for the unlearning adapter")
    add_flags(un.add_argument_group("settings (core/defend/defense_settings.py)"), UnlearnSettings)
    un.set_defaults(func=cmd_unlearn)
    gu = dsub.add_parser("guard", help="calibrate and measure the guardrail, or check prompts with it")
    add_model_arguments(gu)
    _trigger_arguments(gu)
    gu.add_argument("--data", metavar="FILE", help="clean requests: calibration and evaluation")
    add_flags(gu.add_argument_group("settings (core/defend/defense_settings.py)"), GuardSettings)
    gu.add_argument("--onion", action="store_true", help="add the ONION perplexity baseline (loads the model)")
    gu.add_argument("--save", metavar="FILE", help="write the calibrated guardrail (triggers, threshold) as JSON")
    gu.add_argument("--check", metavar="TEXT", help="check one prompt: blocked or not, and its score")
    gu.add_argument("--check-file", metavar="FILE", help="check every request of a JSONL/JSON dataset file")
    gu.add_argument("--threshold", type=float, help="with --check: block at this score (default: the documented 0.8)")
    gu.set_defaults(func=cmd_guard)
    register_remove(dsub)
