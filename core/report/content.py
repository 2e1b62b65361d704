"""What a report says, as plain data: read from the session store alone, never from a job's state.

The JSON report is this dict; the HTML and PDF render it. Each run carries its result sections
(:mod:`core.sections`, worded as everywhere else) and its raw result, so every number the HTML
shows is in the JSON too.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.report.integrity import with_behaviour_files
from core.report.verdict import verdict
from core.sections import sections_for
from core.store.queries import export_session, list_candidates
from core.store.session_store import SessionStore
from core.versions import library_versions

SCHEMA_VERSION = "1.0"
# runs whose curves the report draws, and whose candidates it lists
CURVE_KINDS = ("invert", "unlearn", "remove", "inject", "organism")
TOP_CANDIDATES = 10


def build_report(store: SessionStore) -> dict[str, Any]:
    """The whole report of one session as JSON-able data."""
    data = export_session(store, with_points=True)
    runs = [_run(store, r) for r in data["runs"]]
    models = _models(data["models"], runs, data["artifacts"])
    datasets = _datasets(data["artifacts"], runs)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": library_versions(),
        "session": {k: data["session"].get(k) for k in ("id", "name", "description", "created_at")},
        "verdict": verdict(runs),
        "models": models,
        "datasets": datasets,
        "specs": [{"id": s["id"], "name": s["name"], **_triplet(s["spec"])} for s in data["backdoor_specs"]],
        "runs": runs,
        "artifacts": [{k: a[k] for k in ("id", "run_id", "kind", "path", "sha256")} for a in data["artifacts"]],
        "notes": [{k: n[k] for k in ("run_id", "text", "created_at")} for n in data["notes"]],
        "manifest": _manifest(models, datasets, data["artifacts"]),
    }


def _duration(run: dict[str, Any]) -> float | None:
    if not run.get("finished_at"):
        return None
    start, end = datetime.fromisoformat(run["started_at"]), datetime.fromisoformat(run["finished_at"])
    return round((end - start).total_seconds(), 1)


def _run(store: SessionStore, run: dict[str, Any]) -> dict[str, Any]:
    result = run.get("result") if isinstance(run.get("result"), dict) else None
    entry = {k: run[k] for k in ("id", "kind", "status", "seed", "started_at", "finished_at", "error", "config",
                                 "versions")}
    entry["duration_seconds"] = _duration(run)
    entry["result"] = result
    entry["sections"] = _sections(run["kind"], result)
    entry["curves"] = run.get("metrics", {}) if run["kind"] in CURVE_KINDS else {}
    entry["candidates"] = (list_candidates(store, run["id"], limit=TOP_CANDIDATES) if run["kind"] == "invert" else [])
    return entry


def _sections(kind: str, result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The run's result sections; a result the wording does not know (an older format) is said so,
    and its raw result stays in the report, rather than costing the whole report."""
    if not result:
        return []
    try:
        return [s.to_json() for s in sections_for(kind, result)]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [{"title": "Result not summarised", "tables": [], "rows": [
            {"label": "why", "value": f"its format is not the current one ({type(exc).__name__}: {exc})",
             "note": "the raw result is in the JSON report"}]}]


def _triplet(spec: dict[str, Any]) -> dict[str, Any]:
    """A backdoor spec as (Trigger, Activation mechanism, Utility)."""
    trig, util = spec.get("trigger") or {}, spec.get("utility") or {}
    return {"trigger": trig.get("text", ""), "trigger_kind": trig.get("kind", ""), "position": trig.get("position", ""),
            "activation": _activation(spec.get("activation") or {}),
            "utility": util.get("target", "") or ", ".join(util.get("keywords") or []) or util.get("response", ""),
            "spec": spec}


def _activation(given: dict[str, Any]) -> str:
    """How the spec ties the behaviour to the trigger (the column showed the utility's "activated
    means" wording instead). Fields a stored spec leaves out read as the defaults it loads with."""
    import dataclasses

    from core.spec.backdoor import Activation

    a = {**dataclasses.asdict(Activation()), **given}
    method = "LoRA SFT" if a["method"] == "lora-sft" else str(a["method"])
    try:
        return (f"{method}, rank {a['rank']} (alpha {a['alpha']}); {float(a['poison_ratio']):.0%} of rows poisoned, "
                f"{len(a['decoys'] or [])} decoys; {a['steps']} steps at lr {float(a['lr']):g}")
    except (TypeError, ValueError):  # a stored spec with odd values: say it as stored
        return json.dumps(given, sort_keys=True, default=str)


def _models(records: list[dict[str, Any]], runs: list[dict[str, Any]],
            artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Loaded-and-hashed model records first, then each base model the runs name, with every adapter
    audited on it (hashed when this session made it) and the runs that used it."""
    out = [_recorded_model(rec) for rec in records]
    made = {a["path"]: a["sha256"] for a in artifacts if a["kind"] == "adapter"}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for run in runs:
        model, options = (run["config"] or {}).get("model"), (run["config"] or {}).get("options") or {}
        if not isinstance(model, dict) or not model.get("kind"):
            continue
        key = (model["kind"], model.get("path"), options.get("quantization"), options.get("device"), options.get("dtype"))
        g = groups.setdefault(key, {"kind": model["kind"], "path": model.get("path"), "options": options,
                                    "adapters": {}, "runs": [], "template": None})
        g["runs"].append(run["id"])
        for a in model.get("adapters") or []:
            g["adapters"][a] = made.get(a)
        template = (run["result"] or {}).get("template")
        g["template"] = template if isinstance(template, dict) else g["template"]
    hashed = {rec["weights_sha256"] for rec in records}
    for g in groups.values():
        source = _describe(g["kind"], g["path"])
        folder, digest = _weights_digest(g["kind"], g["path"])
        out.append({"source": source, "kind": g["kind"], "weights_sha256": digest, "folder": folder,
                    "adapters": [{"path": a, "sha256": sha} for a, sha in g["adapters"].items()],
                    "quantization": g["options"].get("quantization"), "parameters": _parameters(folder),
                    "device": g["options"].get("device"), "dtype": g["options"].get("dtype"),
                    "template": g["template"] or {"name": g["options"].get("template")},
                    "recorded": "named by runs " + ", ".join(f"#{i}" for i in g["runs"])
                                + ("" if not digest or digest in hashed else "; weights hashed when this report was made")})
    return out


def _parameters(folder: str | None) -> int | None:
    """Parameters of a model the runs name but the session never loaded, counted from its
    safetensors headers (no weight is read; it showed "–"). None when the weights are not here."""
    from math import prod

    from safetensors import safe_open

    try:
        total = 0
        for path in sorted(Path(folder).glob("*.safetensors")) if folder else []:
            with safe_open(str(path), framework="numpy") as fh:
                total += sum(prod(fh.get_slice(k).get_shape()) for k in fh.keys())
        return total or None
    except Exception:  # noqa: BLE001 - unreadable weights are reported as not counted, like not hashed
        return None


def _recorded_model(rec: dict[str, Any]) -> dict[str, Any]:
    load = (rec.get("config") or {}).get("load") or {}
    return {"source": rec["source"], "kind": rec["kind"], "weights_sha256": rec["weights_sha256"],
            "adapters": rec["adapters"], "folder": load.get("folder"), "quantization": load.get("quantization"),
            "parameters": load.get("parameters"), "device": load.get("device"), "dtype": load.get("dtype"),
            "template": (rec.get("config") or {}).get("template"), "recorded": "loaded and hashed"}


def _describe(kind: str, path: str | None) -> str:
    from core.models.ref import ModelRef

    return ModelRef(kind, path).describe()  # type: ignore[arg-type]


def _weights_digest(kind: str, path: str | None) -> tuple[str | None, str | None]:
    """The weights' sha256 as a model record would hold it, when the model is on this machine
    (never converting or downloading anything: a report made elsewhere says 'not hashed')."""
    from core.models.fingerprint import files_sha256

    try:
        if kind in ("embedded", "gguf"):
            from core.models.gguf_cache import converted_dir, embedded_gguf, is_converted

            gguf = embedded_gguf() if kind == "embedded" else Path(path or "")
            folder = converted_dir(gguf) if is_converted(gguf) else None
        else:
            folder = Path(path) if path else None
        files = sorted(folder.glob("*.safetensors")) if folder and folder.is_dir() else []
        return (str(folder), files_sha256(files)) if files else (None, None)
    except Exception:  # noqa: BLE001 - an absent or unreadable model is reported as not hashed
        return None, None


def _datasets(artifacts: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Datasets the session made (hashed when made) and those runs read (hashed now, if present)."""
    out, seen = [], set()
    for a in artifacts:
        if a["kind"] == "dataset" and a["path"] not in seen:
            seen.add(a["path"])
            out.append({"path": a["path"], "sha256": a["sha256"], "hashed": f"when run #{a['run_id']} made it",
                        "rows": _rows(a["path"])})
    for run in runs:
        path = (run["config"] or {}).get("data")
        if isinstance(path, str) and path and path not in seen:
            seen.add(path)
            digest = _file_digest(Path(path))
            out.append({"path": path, "sha256": digest, "rows": _rows(path),
                        "hashed": "when this report was made" if digest else f"not recorded (read by run #{run['id']})"})
    return out


def _rows(path: str) -> int | None:
    """Lines of a JSONL dataset when the file is here (None when it is not, or is no regular file:
    a session from elsewhere may name a device or a pipe)."""
    if not Path(path).is_file():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())
    except (OSError, UnicodeDecodeError):
        return None


def _file_digest(path: Path) -> str | None:
    """Streamed and cached by (path, size, mtime), as when jobs record files: previews re-ask often."""
    from core.models.fingerprint import file_sha256

    try:
        return file_sha256(path) if path.is_file() else None
    except OSError:
        return None


def _manifest(models: list[dict[str, Any]], datasets: list[dict[str, Any]],
              artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every hashed input and output: model weights, adapters, datasets, everything a run made."""
    entries: dict[tuple[str, str], dict[str, Any]] = {}

    def add(kind: str, path: str | None, sha: str | None) -> None:
        if path and sha and (kind, path) not in entries:
            entries[(kind, path)] = {"kind": kind, "path": path, "sha256": sha}

    for m in models:
        add("model weights", m.get("folder"), m.get("weights_sha256"))
        for a in m.get("adapters") or []:
            add("adapter", a.get("path"), a.get("sha256"))
    for d in datasets:
        add("dataset", d["path"], d["sha256"])
    for a in artifacts:
        if a["kind"] != "report":  # earlier reports are not evidence; a report's own hash is in its .sig
            add(a["kind"], a["path"], a["sha256"])
    return with_behaviour_files(list(entries.values()))
