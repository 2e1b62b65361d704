"""The long jobs as recipes: ``fn(config, ctx) -> JSON result`` with a JSON config.

One definition serves the CLI (which runs them in process) and the window (which runs the
training ones in a child process, see :mod:`core.child`). Configs are plain JSON so they can be
recorded with the run and cross a process boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.jobs import JobContext


def load_for(config: dict[str, Any], ctx: JobContext) -> Any:
    from core.models.loader import load_model
    from core.models.ref import LoadOptions, ModelRef

    m = config["model"]
    ref = ModelRef(m["kind"], m.get("path"), tuple(m.get("adapters", ())))
    return load_model(ref, LoadOptions(**config.get("options", {})), ctx)


def _spec_rows(config: dict[str, Any]) -> tuple[Any, list[Any]]:
    from core.backdoors.data import load_rows
    from core.backdoors.spec import BackdoorSpec

    return BackdoorSpec.from_dict(config["spec"]), load_rows(Path(config["data"]))


def inject_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """config: model, options, spec (dict), data (path), out (adapter folder)."""
    from core.inject import inject

    spec, rows = _spec_rows(config)
    return inject(load_for(config, ctx), spec, rows, Path(config["out"]), ctx).to_json()


def verify_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """config: model (base + earlier adapters), options, spec, data, adapter, verify (options)."""
    from core.verify import VerifyOptions, verify

    spec, rows = _spec_rows(config)
    return verify(load_for(config, ctx), Path(config["adapter"]), spec, rows, ctx, VerifyOptions(**config.get("verify", {})))


def organism_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """config: model, options, organism (name), out, steps, seed, position (optional)."""
    from core.backdoors.organisms import build_organism, get_organism

    return build_organism(load_for(config, ctx), get_organism(config["organism"]), Path(config["out"]), ctx,
                          config.get("steps"), config.get("seed", 0), config.get("position"))


def invert_job(config: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """config: model, options, data, behaviour, invert (InvertConfig dict), method, evaluation.trigger."""
    from core.backdoors.data import load_rows
    from core.invert.baselines import gcg
    from core.invert.behaviour import Behaviour
    from core.invert.config import InvertConfig
    from core.invert.pipeline import invert

    behaviour = Behaviour(**config["behaviour"])
    cfg = InvertConfig.from_dict(config.get("invert", {}))
    rows = load_rows(Path(config["data"]))
    loaded = load_for(config, ctx)
    if config.get("method") == "gcg":
        return gcg(loaded, rows, behaviour, cfg, ctx, steps=config.get("gcg_steps", 40))
    return invert(loaded, rows, behaviour, cfg, ctx, (config.get("evaluation") or {}).get("trigger")).to_json()
