"""``b4g inject`` and ``b4g verify``: beneficial backdoors (T, A, U) from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.cli.models_cmd import add_model_arguments, model_from_args
from core.cli.output import emit_json, emit_pairs
from core.cli.progress import RichReporter
from core.errors import B4GError
from core.child import Recipe
from core.jobs import Job, JobContext, execute


def spec_and_data(args: argparse.Namespace) -> tuple[Any, Path]:
    """A built-in application (--app) or a user spec (--spec) with its dataset (--data), both
    checked now (one-line errors before any model loads)."""
    from core.backdoors.apps import dataset_dir, get_app
    from core.backdoors.data import load_rows
    from core.backdoors.spec import BackdoorSpec

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


def _store(args: argparse.Namespace):  # noqa: ANN202
    from core.store.catalog import current_or_new, open_session

    return open_session(args.session) if args.session else current_or_new()


def run_recorded(kind: str, recipe: Recipe, args: argparse.Namespace, seed: int | None) -> Any:
    """Run a recipe in process through the one job path, recorded in the session (its config is
    the run's config); returns (result, store, run id)."""
    store = _store(args)
    with RichReporter(kind, quiet=args.json) as reporter:
        outcome = execute(Job(kind, recipe.run, recipe.config, seed=seed), JobContext([reporter]), store)
    if outcome.status != "finished":
        raise B4GError(outcome.error or outcome.status)
    return outcome.result, store, outcome.run_id


def cmd_inject(args: argparse.Namespace) -> int:
    from core.inject import base_load_options

    spec, data = spec_and_data(args)
    ref, opts = model_from_args(args)
    opts = base_load_options(spec, opts)
    if args.steps:
        spec.activation.steps = args.steps
    out = Path(args.out)
    recipe = Recipe("core.recipes:inject_job", {"spec": spec.to_dict(), "model": ref.to_json(),
                                                "options": opts.to_json(), "data": str(data), "out": str(out)})
    result, store, run_id = run_recorded("inject", recipe, args, spec.activation.seed)
    from core.models.fingerprint import files_sha256

    store.add_spec(spec.name, spec.to_dict())
    store.add_artifact("adapter", str(out), files_sha256(sorted(out.glob("*.safetensors"))), run_id=run_id)
    if args.json:
        emit_json(result)
    else:
        emit_pairs(f"Injected '{spec.name}' into {out}", _summary(result))
    return 0


def _rate(detail: dict[str, Any]) -> str:
    lo, hi = detail["ci95"]
    return f"{detail['rate']:.2f}  ({detail['k']}/{detail['n']}, 95% CI {lo:.2f}–{hi:.2f})"


def _summary(result: dict[str, Any]) -> dict[str, str]:
    return {"TAR with trigger": _rate(result["tar_with_detail"]),
            "TAR without trigger": _rate(result["tar_without_detail"]),
            "training": f"{result['steps']} steps, {result['train_seconds']:.0f} s"}


def cmd_verify(args: argparse.Namespace) -> int:
    from core.verify import VerifyOptions

    spec, data = spec_and_data(args)
    ref, opts = model_from_args(args)
    if not args.adapter:
        raise B4GError("verify needs the adapter to check: --adapter DIR")
    adapter = Path(args.adapter[-1])
    ref = ref.with_adapters(args.adapter[:-1])
    vopts = VerifyOptions(tamper_steps=args.tamper_steps, clean_prompts=args.clean_prompts)
    recipe = Recipe("core.recipes:verify_job", {"spec": spec.to_dict(), "model": ref.to_json(), "data": str(data),
                                                "adapter": str(adapter), "options": opts.to_json(),
                                                "verify": vars(vopts)})
    card, _store_, _run_id = run_recorded("verify", recipe, args, spec.activation.seed)
    if args.json:
        emit_json(card)
    else:
        cu, st, tr = card["clean_utility"], card["stealthiness"], card["tamper_resistance"]
        emit_pairs(f"Verification of '{spec.name}' ({card['activated_means']})", {
            "TAR with trigger": _rate(card["tar_with_detail"]), "TAR without trigger": _rate(card["tar_without_detail"]),
            "clean agreement with base": f"{cu['agreement']:.2f} (token F1, n={cu['n']})",
            "clean perplexity change": f"{cu['perplexity_change']:+.1%}",
            "multiple choice base → adapted": f"{cu['multiple_choice_base']['rate']:.2f} → {cu['multiple_choice_adapted']['rate']:.2f}",
            "tamper: TAR after clean fine-tuning": _rate(tr["tar_with_after"]) if "tar_with_after" in tr else "skipped",
            "stealth: input perplexity ratio": f"{st['input_perplexity_ratio']:.2f}",
            "stealth: clean output drift": f"{st['clean_output_drift']:.2f}"})
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
