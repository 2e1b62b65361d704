"""``b4g defend remove``: remove a backdoor from its behaviour alone, no trigger named (after BEEAR)."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.defend.defense_settings import RemoveSettings
from core.errors import B4GError
from core.job_settings import add_flags, given, with_values


def _from_scan(args: argparse.Namespace) -> tuple[Any, str]:
    """The behaviour of a scan-model run's proposal (``--proposal``, 1 = its best) and the
    proposal's own words, which the perturbation search pulls towards."""
    from core.cli.common import session_store
    from core.store.queries import get_run
    from core.target_scan.handoff import behaviour_of

    run = get_run(session_store(args), args.from_scan)
    if run.get("kind") != "scan-model" or run.get("status") != "finished":
        raise B4GError(f"run #{args.from_scan} is not a finished scan-model run; choose one (b4g session runs)")
    proposals = (run.get("result") or {}).get("proposals") or []
    if not 1 <= args.proposal <= len(proposals):
        raise B4GError(f"scan-model run #{args.from_scan} has {len(proposals)} proposals; --proposal 1 to {len(proposals)}")
    proposal = proposals[args.proposal - 1]
    return behaviour_of(proposal), proposal["text"]


def _behaviour(args: argparse.Namespace) -> tuple[Any, str | None]:
    from core.measurement.behaviour import Behaviour

    described = args.target or args.keywords is not None or args.regex or args.refusal
    if args.from_scan is not None:
        if described:
            raise B4GError("give either a behaviour (--target, --keywords, --regex, --refusal) or --from-scan, not both")
        behaviour, text = _from_scan(args)
        return behaviour, args.example if args.example is not None else text
    if not described:
        raise B4GError("describe the behaviour to remove: --target, --keywords, --regex, --refusal or --from-scan RUN")
    return Behaviour.from_flags(args.target, args.keywords, args.regex, args.refusal), args.example


def _stand_in(args: argparse.Namespace) -> str | None:
    """The stand-in trigger of the control: typed, or an inversion run's recovered trigger."""
    if args.stand_in and args.stand_in_run is not None:
        raise B4GError("give either --stand-in or --stand-in-run, not both")
    if args.stand_in_run is None:
        return args.stand_in
    from core.cli.common import session_store
    from core.defend.from_run import recovered_from_run
    from core.store.queries import get_run

    return recovered_from_run(get_run(session_store(args), args.stand_in_run), 1).triggers[0]


def remove_request(args: argparse.Namespace) -> Any:
    from core.requests import RemoveRequest

    behaviour, example = _behaviour(args)
    settings = with_values(RemoveSettings(), given(args, RemoveSettings))
    return RemoveRequest.build(choice_from_args(args), args.data, behaviour, args.out, example, args.eval_trigger,
                               _stand_in(args), settings, args.from_scan)


def cmd_remove(args: argparse.Namespace) -> int:
    emit_result("remove", run_request(remove_request(args), args), args)
    return 0


def register_remove(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser("remove", help="remove a backdoor without its trigger: train against hidden-state "
                                       "perturbations that switch the behaviour on (BEEAR)")
    add_model_arguments(p)
    p.add_argument("--data", metavar="FILE", help="the auditor's requests (default: the shipped held-out requests)")
    p.add_argument("--out", required=True, metavar="DIR", help="new folder for the removal adapter")
    b = p.add_argument_group("behaviour (one of them; never a trigger)")
    b.add_argument("--target", help="the answer starts with this text")
    b.add_argument("--keywords", nargs="+", metavar="WORD", help="the answer mentions any of these")
    b.add_argument("--regex", help="the answer matches this pattern (give --example too)")
    b.add_argument("--refusal", action="store_true", help="the answer refuses")
    b.add_argument("--from-scan", type=int, metavar="RUN", help="a scan-model run of the session: its proposal")
    b.add_argument("--proposal", type=int, default=1, metavar="N", help="with --from-scan: which proposal (default 1, the best)")
    b.add_argument("--example", metavar="TEXT", help="an answer showing the behaviour, for the perturbation search "
                                                     "(default: the target, a refusal, the keywords or the proposal)")
    e = p.add_argument_group("evaluation and controls (never read by the removal)")
    e.add_argument("--eval-trigger", metavar="TEXT", help="the true trigger, for the evaluation only")
    e.add_argument("--stand-in", metavar="TEXT", help="control: unlearn this stand-in trigger (a withheld-poison "
                                                      "inversion's) for the same steps")
    e.add_argument("--stand-in-run", type=int, metavar="RUN", help="control: the stand-in an inversion run recovered")
    add_flags(p.add_argument_group("settings (defaults chosen by measurement; core/defend/defense_settings.py)"),
              RemoveSettings)
    p.set_defaults(func=cmd_remove)
