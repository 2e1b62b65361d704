"""The long jobs: ``fn(config, ctx) -> JSON result``, where ``config`` is a request's JSON.

One definition serves the CLI (in process) and the window (training ones in a child process,
see :mod:`core.child`); both build the config from the same request class (:mod:`core.requests`).
A job says what it made under ``made`` in its result (spec, datasets and adapters with their
sha256); the audit store records those rows when the run finishes, whoever started it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.distributed import world_size
from core.jobs import JobContext
from core.models.choice import ModelChoice


def load_for(config: dict[str, Any], ctx: JobContext) -> Any:
    from core.models.loader import load_model

    choice = ModelChoice.from_json(config)
    return load_model(choice.ref, choice.options, ctx)


def made_file(kind: str, path: str | Path, pattern: str | None = None) -> dict[str, Any]:
    """A record of a file (or of a folder's ``pattern`` files) the job wrote, with its sha256."""
    from core.models.fingerprint import files_sha256

    p = Path(path)
    files = sorted(p.glob(pattern)) if pattern else [p]
    return {"kind": kind, "path": str(p), "sha256": files_sha256(files) if files else None}


def made_spec(spec: Any) -> dict[str, Any]:
    return {"kind": "spec", "name": spec.name, "spec": spec.to_dict()}


def inject_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.backdoors.injection import inject
    from core.requests import InjectRequest

    req = InjectRequest.from_json(config)
    result = inject(load_for(config, ctx), req.spec, load_rows(Path(req.data)), Path(req.out), ctx).to_json()
    result["processes"] = world_size()
    result["made"] = [made_spec(req.spec), made_file("adapter", req.out, "*.safetensors"),
                      made_file("dataset", result["dataset"])]
    return result


def verify_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.requests import VerifyRequest
    from core.backdoors.verification import VerifyOptions, verify

    req = VerifyRequest.from_json(config)
    opts = VerifyOptions(tamper_steps=req.tamper_steps, clean_prompts=req.clean_prompts)
    return verify(load_for(config, ctx), Path(req.adapter), req.spec, load_rows(Path(req.data)), ctx, opts)


def organism_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.backdoors.organisms import build_organism, get_organism
    from core.requests import OrganismRequest

    req = OrganismRequest.from_json(config)
    result = build_organism(load_for(config, ctx), get_organism(req.organism), Path(req.out), ctx, req.steps,
                            req.organism_seed, req.position, req.loss)
    result["processes"] = world_size()
    result["made"] = [made_spec(req.spec()), made_file("adapter", result["adapter_dir"], "*.safetensors"),
                      made_file("dataset", result["dataset"])]
    return result


def invert_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.invert.method_baselines import gcg
    from core.invert.pipeline import invert
    from core.requests import InvertRequest

    req = InvertRequest.from_json(config)
    rows = load_rows(Path(req.data))
    loaded = load_for(config, ctx)
    if req.method == "gcg":
        return gcg(loaded, rows, req.behaviour, req.config, ctx, steps=req.gcg_steps, seconds=req.gcg_seconds)
    return {**invert(loaded, rows, req.behaviour, req.config, ctx, req.eval_trigger).to_json(),
            "processes": world_size()}


def scan_model_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.requests import ScanModelRequest
    from core.target_scan.model_scan import scan_model

    req = ScanModelRequest.from_json(config)
    return scan_model(load_for(config, ctx), req.settings, ctx, req.prompts_file)


def try_trigger_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.requests import TryTriggerRequest
    from core.try_trigger import with_and_without

    req = TryTriggerRequest.from_json(config)
    return with_and_without(load_for(config, ctx), req.spec, req.prompt, ctx)


def try_candidate_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.invert.probe import try_candidate
    from core.requests import TryCandidateRequest

    req = TryCandidateRequest.from_json(config)
    return try_candidate(load_for(config, ctx), load_rows(Path(req.data)), req.behaviour, req.candidate, req.n,
                         req.position, ctx=ctx)


def unlearn_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.defend.unlearn import unlearn
    from core.requests import UnlearnRequest

    req = UnlearnRequest.from_json(config)
    result = unlearn(load_for(config, ctx), load_rows(Path(req.data)), req.triggers, req.behaviour, req.eval_trigger,
                     Path(req.out), req.settings, ctx)
    result["from_run"] = req.from_run
    result["made"] = [made_file("adapter", req.out, "*.safetensors")]
    if result.get("merged_dir"):
        result["made"].append(made_file("model", result["merged_dir"], "*.safetensors"))
    return result


def guard_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    import json

    from core.spec.rows import load_rows
    from core.defend.guard import evaluate_guard
    from core.requests import GuardRequest

    req = GuardRequest.from_json(config)
    onion = None
    if req.onion:
        from core.defend.guard_baselines import onion_scores

        loaded = load_for(config, ctx)

        def onion(prompts: list[str]) -> list[float]:
            return onion_scores(loaded.model, loaded.tokenizer, loaded.device, prompts, ctx)

    result = evaluate_guard(req.triggers, load_rows(Path(req.data)), req.eval_trigger, req.settings, req.keywords,
                            onion, ctx)
    result["from_run"] = req.from_run
    result["made"] = []
    if req.save:
        saved = {"triggers": result["triggers"], "threshold": result["threshold"],
                 "semantic": req.settings.semantic, "target_fpr": req.settings.target_fpr}
        Path(req.save).write_text(json.dumps(saved, indent=2, ensure_ascii=False), encoding="utf-8")
        result["saved"] = req.save
        result["made"].append(made_file("guardrail", req.save))
    return result


def guard_check_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.defend.guard import check_prompts
    from core.requests import GuardCheckRequest

    req = GuardCheckRequest.from_json(config)
    results = check_prompts(req.triggers, req.prompts, req.threshold, req.semantic)
    first = results[0]
    return {"blocked": first["blocked"], "score": first["score"], "threshold": first["threshold"],
            "results": results, "n_blocked": sum(r["blocked"] for r in results), "n": len(results)}


def remove_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.spec.rows import load_rows
    from core.defend.removal import remove
    from core.requests import RemoveRequest

    req = RemoveRequest.from_json(config)
    rows = load_rows(Path(req.data)) if req.data else None
    result = remove(load_for(config, ctx), rows, req.behaviour, req.eval_trigger, Path(req.out), req.settings, ctx,
                    req.stand_in, req.example)
    result["from_run"] = req.from_run
    result["made"] = [made_file("adapter", req.out, "*.safetensors")]
    return result
