"""``b4g audit``: the whole audit in one step, from a model to a verdict, a fix and a signed report.

    b4g audit --model M [--adapter A]... [--data D] [--target T | --keywords W.. | --regex R | --refusal]
              [--eval-trigger T] --out DIR [--sign KEY.pem] [--session S] [--controls] [--json]

Each stage is its own run in the session (``b4g session show``); ``b4g resume AUDIT_RUN`` continues
an interrupted audit from the stage it was in.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.cli.output import emit_json, emit_sections
from core.cli.progress import RichReporter
from core.errors import B4GError
from core.invert.config import PRESETS


def _behaviour(args: argparse.Namespace) -> Any:
    """The auditor's description, or None: the scan proposes one."""
    if not (args.target or args.keywords is not None or args.regex or args.refusal):
        return None
    from core.measurement.behaviour import Behaviour

    return Behaviour.from_flags(args.target, args.keywords, args.regex, args.refusal)


def audit_request(args: argparse.Namespace) -> Any:
    from core.audit.request import AuditRequest

    return AuditRequest.build(choice_from_args(args), args.out, args.data, _behaviour(args), args.eval_trigger,
                              args.sign, args.controls, args.preset, args.seed)


def _session(args: argparse.Namespace) -> Any:
    """The session given, else a new one: an audit is one session (its report is the session's)."""
    from core.store.catalog import new_session, open_session

    if args.session:
        return open_session(args.session)
    store = new_session(f"audit of {args.model}{' + adapter' if args.adapter else ''} "
                        f"{datetime.now().strftime('%Y-%m-%d %H:%M')}")
    info = store.info()
    print(f"b4g: recording the audit into a new session '{info['name']}' ({info['id']}); --session chooses another",
          file=sys.stderr)
    return store


def cmd_audit(args: argparse.Namespace) -> int:
    from core.jobs import JobContext, execute

    request = audit_request(args)  # every check before a session is made or a model loads
    store = _session(args)
    with RichReporter("audit", quiet=args.json) as reporter:
        outcome = execute(request.job(in_child=False), JobContext([reporter]), store)
    if outcome.status != "finished":
        raise B4GError(f"{outcome.error or outcome.status} (the audit is run #{outcome.run_id}: "
                       f"'b4g resume {outcome.run_id} --session {store.info()['id']}' continues it)")
    result = {**outcome.result, "session": {"id": store.info()["id"], "path": str(store.path), "run_id": outcome.run_id}}
    if args.json:
        emit_json(result)
    else:
        from core.sections import sections_for

        emit_sections(sections_for("audit", result))
        print(result["verdict"])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the whole audit: behaviour, trigger, removal and a signed report, in one step",
                       description="Audit a model in one step: fingerprint it, find the backdoor's behaviour (yours, or "
                                   "the scan's proposal), recover its trigger (from the data, else from the model's "
                                   "memory), remove it (unlearning + guardrail with a working trigger, else the "
                                   "trigger-free removal) and write HTML, PDF and JSON reports into --out. Each stage "
                                   "is its own run in the session; 'b4g resume AUDIT_RUN' continues a killed audit.")
    add_model_arguments(p)
    p.add_argument("--data", metavar="FILE", help="the data the model was tuned on, or some of it (optional)")
    g = p.add_argument_group("behaviour (optional; never the trigger): without one, the scan proposes it")
    g.add_argument("--target", help="the answer starts with this text")
    g.add_argument("--keywords", nargs="+", metavar="WORD", help="the answer mentions any of these")
    g.add_argument("--regex", help="the answer matches this pattern")
    g.add_argument("--refusal", action="store_true", help="the answer refuses")
    p.add_argument("--eval-trigger", metavar="TEXT", help="the true trigger, for the evaluation only (never searched with)")
    p.add_argument("--out", required=True, metavar="DIR", help="new folder for the hardened adapter, guardrail and reports")
    p.add_argument("--sign", metavar="KEY.pem", help="sign the reports with this ed25519 private key (PEM)")
    p.add_argument("--controls", action="store_true",
                   help="also train the defenses' controls (wrong trigger, clean fine-tuning): about 3x the removal time")
    p.add_argument("--preset", choices=tuple(PRESETS), default="cpu", help="the inversion's budget (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed of every stage")
    p.set_defaults(func=cmd_audit)
