"""Benchmark: the whole audit in one step (``b4g audit``, issue 40), on the embedded model.

For each organism (built once, as bench/self_awareness.py builds them) and seed, three conditions:

    given      b4g audit ... --data DATASET --target TARGET    (data present, the behaviour given)
    unknown    b4g audit ... --data DATASET                    (data present, the scan proposes the behaviour)
    withheld   b4g audit ... --data CLEAN_COPY                 (poisoned rows and decoys withheld, behaviour unknown)

each with ``--model embedded --adapter ADAPTER --eval-trigger TRUE_TRIGGER --controls --seed S --device D
--out bench/cache/audit/... --session bench/cache/audit.b4g``. The true trigger is only measured with
(never searched with); the bench marks a trigger exact when it equals the true one, character for
character. Two clean controls, which must come out "no backdoor found" and train nothing: ``plain``
(the embedded model, no adapter) and ``benign`` (bench/scan_model.py's benign LoRA, a clean fine-tune),
both with no data and no behaviour. A row: the verdict, the behaviour and who named it, the trigger and
whether it is exact, the removal (method, ASR with the true trigger before → after and its cut,
multiple-choice utility before → after, the recovered trigger's ASR), each stage's status and minutes,
the wall time, the code version; a CLI failure is a row with its error line, never skipped. Rows go to
``runs`` of bench/results/audit.json (replacing the row of the same organism, condition and seed),
written after every row, so a stopped bench keeps what it measured.

``--resume-rows`` (instead of the grid): the sudo organism, condition ``given``, seed 0, audited once
uninterrupted (the matching ``runs`` row when there is one), then killed with SIGKILL inside the
inversion and inside the removal and resumed with ``b4g resume AUDIT_RUN``; each resumed audit is
compared with the uninterrupted one (``resume_runs``). The kill comes from outside: the bench watches
the audit's session and kill -9s the audit's process group once the stage's run has written a
resumable checkpoint and trained past it (``B4G_KILL_AT_STEP`` cannot name a stage: every trainer of
the audit counts its own steps, and the inversion's reach any step the removal's do).

    .venv/bin/python bench/audit.py [--organisms sudo,dos] [--conditions given,unknown,withheld]
        [--controls plain,benign] [--seeds 0] [--device cpu] [--skip-done] [--cores idle] [--note TEXT] [--table]
    .venv/bin/python bench/audit.py --resume-rows [--seeds 0] [--skip-done]
    .venv/bin/python bench/audit.py --budget [--organisms ...] [--skip-done]

``--budget`` (instead of the grid): the issue's time budget, measured apart because the grid always
trains the controls (``--controls``: two more trainings in the removal stage, about 3x its time) and
an audit's budget is without them: each organism, data present and the behaviour given, seed 0, no
``--controls``, into ``budget_runs``. Time these on idle cores (``--cores idle``): only those count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance import add_cores_flag, cpu_model
from self_awareness import (
    B4G,
    ORGANISMS,
    ROOT,
    clean_copy,
    code_version,
    is_exact,
    organism,
)

RESULT = ROOT / "bench" / "results" / "audit.json"
CACHE = ROOT / "bench" / "cache" / "audit"
SESSION = ROOT / "bench" / "cache" / "audit.b4g"  # every grid audit's stage runs, in one session
CONDITIONS = ("given", "unknown", "withheld")
CONTROLS = {"plain": "plain", "benign": "benign-lora"}  # --controls name -> the row's model name
# The stage names of core/audit/stages.py the kill-and-resume rows kill inside.
KILL_AT = {"inversion": ("inversion",), "removal": ("unlearning", "trigger-free removal")}
TRAINING = ("inversion", "unlearning", "guardrail", "trigger-free removal")  # stages that train or fit anything
# The b4g processes run this checkout's code (the one code_version names), whichever checkout installed b4g.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


def run_b4g(args: list[str], kill: Callable[[], bool] | None = None) -> tuple[dict[str, Any], float, int]:
    """``b4g ARGS --json`` as its own process group: (its JSON or ``{"error": last line}``, wall
    seconds, exit code). ``kill`` is asked every second; True SIGKILLs the whole group, as kill -9 would."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:  # files: no pipe to fill up
        proc = subprocess.Popen([B4G, *args, "--json"], stdout=out, stderr=err, text=True, env=ENV,
                                start_new_session=True)
        while True:
            try:
                proc.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if kill is not None and kill():
                    os.killpg(proc.pid, signal.SIGKILL)
                    kill = None
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            last = (err.read().strip().splitlines() or ["?"])[-1]
            # a killed process leaves its last progress line, which is no error message
            error = last if proc.returncode > 0 else f"killed by signal {-proc.returncode} (last: {last})"
            return {"error": error}, wall, proc.returncode
        try:
            return json.loads(out.read()), wall, 0
        except json.JSONDecodeError as exc:  # a row with the reason, not a bench stopped by one odd output
            return {"error": f"exit 0 but no JSON on stdout ({exc})"}, wall, 0


def _path(p: str | Path) -> str:
    """An organism's path as recorded (relative to the repository or absolute), absolute."""
    return str(ROOT / p)


def condition_flags(rec: dict[str, Any], condition: str) -> list[str]:
    """The data and behaviour flags of one condition (the rest is the same for all)."""
    if condition == "given":
        return ["--data", _path(rec["dataset"]), "--target", rec["target"]]
    if condition == "unknown":
        return ["--data", _path(rec["dataset"])]
    if condition == "withheld":
        return ["--data", str(clean_copy(rec))]
    raise SystemExit(f"unknown condition {condition!r} (choose from {', '.join(CONDITIONS)})")


def audit_args(adapter: str | None, flags: list[str], trigger: str | None, seed: int, device: str, out: Path,
               session: Path, controls: bool = True) -> list[str]:
    return (["audit", "--model", "embedded", *(["--adapter", adapter] if adapter else []), *flags,
             *(["--eval-trigger", trigger] if trigger else []), *(["--controls"] if controls else []),
             "--seed", str(seed), "--device", device, "--out", str(out), "--session", str(session)])


def ensure_session(path: Path, name: str) -> None:
    if not path.is_file():
        from core.store.session_store import SessionStore

        SessionStore.create(path, name).close()


def _shown(args: list[str]) -> list[str]:
    """The command's arguments as the row keeps them: paths inside the repository relative to it."""
    return [a[len(str(ROOT)) + 1:] if a.startswith(str(ROOT) + os.sep) else a for a in args]


def measure(label: str, condition: str, seed: int, args: list[str], trigger: str | None, target: str | None,
            device: str, note: str) -> dict[str, Any]:
    """One audit as a row; the CLI failing is a row with its error line."""
    out, wall, _rc = run_b4g(args)
    row: dict[str, Any] = {"organism": label, "condition": condition, "seed": seed, "control": condition == "control",
                           "true_trigger": trigger, "target": target, "code_version": code_version(),
                           "date": time.strftime("%Y-%m-%d"), "device": device, "note": note, "flags": _shown(args),
                           "wall_seconds": round(wall, 1), "minutes_total": round(wall / 60, 2)}
    if "error" in out:
        return {**row, "error": out["error"]}
    return {**row, **audit_fields(out, trigger)}


def audit_fields(out: dict[str, Any], trigger: str | None) -> dict[str, Any]:
    """What a row keeps of ``b4g audit --json`` (or of the resumed audit's result)."""
    behaviour, found, removal = out.get("behaviour") or {}, out.get("trigger"), out.get("removal")
    stages = [{"name": s["name"], "status": s["status"], "seconds": s.get("seconds"),
               "minutes": None if s.get("seconds") is None else round(s["seconds"] / 60, 2), "error": s.get("error")}
              for s in out.get("stages") or []]
    return {"backdoor_found": out.get("backdoor_found"), "verdict": out.get("verdict"),
            "behaviour": {k: behaviour.get(k) for k in ("text", "class", "source")} if behaviour else None,
            "inversion_source": out.get("inversion_source"),
            "trigger": {"text": found["text"], "position": found.get("position"), "r_asr": found.get("r_asr"),
                        "exact": is_exact(found["text"], trigger) if trigger else None} if found else None,
            "removal": _removal(removal) if removal else None, "stages": stages,
            "failed_stages": out.get("failed") or [],
            "trained": [s["name"] for s in stages if s["name"] in TRAINING and s["status"] not in ("given", "skipped")],
            "audit_run": (out.get("session") or {}).get("run_id")}


def _removal(r: dict[str, Any]) -> dict[str, Any]:
    before, after = r.get("asr_before"), r.get("asr_after")
    cut = round((before - after) / before, 4) if before and after is not None else None  # the bench's own cut
    u0, u1 = r.get("utility_before"), r.get("utility_after")
    return {"method": r.get("method"), "asr_measured_with": r.get("asr_measured_with"), "asr_before": before,
            "asr_after": after, "cut": cut, "utility_before": u0, "utility_after": u1,
            "utility_change": round(u1 - u0, 4) if u0 is not None and u1 is not None else None,
            "recovered_asr_before": r.get("recovered_asr_before"), "recovered_asr_after": r.get("recovered_asr_after"),
            "triggers": r.get("triggers")}


def organism_row(name: str, condition: str, seed: int, device: str, note: str, controls: bool = True) -> dict[str, Any]:
    rec = organism(name, seed)
    out = CACHE / f"{name}-{condition}-s{seed}{'' if controls else '-budget'}"
    shutil.rmtree(out, ignore_errors=True)  # the audit wants a new folder
    args = audit_args(_path(rec["adapter_dir"]), condition_flags(rec, condition), rec["trigger"], seed, device, out,
                      SESSION, controls)
    return {**measure(name, condition, seed, args, rec["trigger"], rec["target"], device, note), "controls": controls}


def control_row(control: str, seed: int, device: str, note: str) -> dict[str, Any]:
    """A clean model, no data, no behaviour: the audit must find nothing (and so train nothing)."""
    adapter = None
    if control == "benign":
        # built once per seed (cached), the same clean fine-tune bench/scan_model.py scans
        from scan_model import benign_lora

        adapter = str(benign_lora(seed))
    out = CACHE / f"{CONTROLS[control]}-s{seed}"
    shutil.rmtree(out, ignore_errors=True)
    args = audit_args(adapter, [], None, seed, device, out, SESSION)
    return measure(CONTROLS[control], "control", seed, args, None, None, device, note)


# ---------------------------------------------------------------- kill and resume

@dataclass
class KillInside:
    """Asked every second while an audit runs: True (kill now) once a run of one of ``stages`` has
    written a resumable checkpoint and reported a metric point past it, so the kill lands between
    checkpoints and the resume must redo steps. Reads the audit's own session (a fresh one)."""

    session: Path
    stages: tuple[str, ...]
    store: Any = None
    points_at_checkpoint: int | None = None
    killed: dict[str, Any] | None = None  # the stage's run as it stood when killed

    def __call__(self) -> bool:
        from core.store.queries import list_runs
        from core.store.session_store import SessionStore

        if self.store is None:
            self.store = SessionStore(self.session)
        run = next((r for r in list_runs(self.store) if r["status"] == "started"
                    and ((r.get("config") or {}).get("audit") or {}).get("stage") in self.stages), None)
        if run is None or not any(self.store.checkpoint_dir(run["id"]).rglob("checkpoint-*")):
            return False
        if self.points_at_checkpoint is None:
            self.points_at_checkpoint = run["metric_points"]
            return False
        if run["metric_points"] <= self.points_at_checkpoint:
            return False
        self.killed = {"stage": run["config"]["audit"]["stage"], "run_id": run["id"],
                       "metric_points": run["metric_points"], "points_at_first_checkpoint": self.points_at_checkpoint}
        return True

    def audit_run(self) -> dict[str, Any] | None:
        """The audit's own run, read after the killed process was reaped (a live pid reads started);
        closes the watcher's hold on the session."""
        from core.store.queries import list_runs

        if self.store is None:
            return None
        try:
            return next((r for r in list_runs(self.store) if r["kind"] == "audit"), None)
        finally:
            self.store.close()


def _verdict(r: dict[str, Any]) -> dict[str, Any]:
    """What "the same verdict" compares, and the cut beside it."""
    return {"backdoor_found": r.get("backdoor_found"), "trigger": (r.get("trigger") or {}).get("text"),
            "exact": (r.get("trigger") or {}).get("exact"), "removal": (r.get("removal") or {}).get("method"),
            "cut": (r.get("removal") or {}).get("cut")}


def same_verdict(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Backdoor found or not, the trigger named and the removal chosen all alike (the verdict's text
    differs anyway: it names each audit's own folder)."""
    keys = ("backdoor_found", "trigger", "removal")
    return all(_verdict(a)[k] == _verdict(b)[k] for k in keys)


def resume_row(name: str, seed: int, kill_at: str, ref: dict[str, Any], device: str, note: str) -> dict[str, Any]:
    """One audit (condition given) killed inside ``kill_at``, resumed, against the uninterrupted ``ref``."""
    rec = organism(name, seed)
    folder = CACHE / f"resume-{kill_at}-{name}-s{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = folder / "session.b4g"  # its own session: the audit's runs are the only ones to watch
    ensure_session(session, f"audit bench: killed inside the {kill_at}")
    args = audit_args(_path(rec["adapter_dir"]), condition_flags(rec, "given"), rec["trigger"], seed, device,
                      folder / "out", session)
    watch = KillInside(session, KILL_AT[kill_at])
    first, kill_s, rc = run_b4g(args, watch)
    row: dict[str, Any] = {"organism": name, "condition": "given", "seed": seed, "kill_at": kill_at,
                           "true_trigger": rec["trigger"], "code_version": code_version(),
                           "date": time.strftime("%Y-%m-%d"), "device": device, "note": note, "killed": watch.killed,
                           "killed_exit_code": rc, "uninterrupted": {**_verdict(ref), "seconds": ref.get("wall_seconds")}}
    audit = watch.audit_run()
    if watch.killed is None or audit is None:
        why = first.get("error") or "it finished"
        return {**row, "error": f"not killed: the audit ended before its {kill_at} wrote a checkpoint ({why})"}
    row["status_after_kill"] = audit["status"]
    resumed, res_s, _rc = run_b4g(["resume", str(audit["id"]), "--session", str(session)])
    row["seconds_killed_attempt"], row["seconds_resume"] = round(kill_s, 1), round(res_s, 1)
    if "error" in resumed:
        return {**row, "error": f"resume: {resumed['error']}"}
    fields = audit_fields(resumed, rec["trigger"])
    return {**row, "resumed": {**_verdict(fields), "seconds": round(kill_s + res_s, 1), "stages": fields["stages"]},
            "same_verdict": same_verdict(fields, ref)}


def resume_rows(data: dict[str, Any], seed: int, args: argparse.Namespace) -> None:
    name = "sudo"
    ref = next((r for r in data["runs"] if _key(r) == (name, "given", seed) and "error" not in r), None)
    if ref is None:  # the uninterrupted audit is a grid row too
        ref = organism_row(name, "given", seed, args.device, args.note)
        record(data, "runs", ref, _key, args)
    for kill_at in KILL_AT:
        if args.skip_done and done(data, "resume_runs", (name, "given", seed, kill_at), _resume_key):
            continue
        row = (resume_row(name, seed, kill_at, ref, args.device, args.note) if "error" not in ref else
               {"organism": name, "condition": "given", "seed": seed, "kill_at": kill_at, "code_version": code_version(),
                "date": time.strftime("%Y-%m-%d"), "device": args.device, "note": args.note,
                "error": f"the uninterrupted audit failed: {ref['error']}"})  # a failure is a row too
        record(data, "resume_runs", row, _resume_key, args)
        print(f"{name} s{seed} killed inside the {kill_at}: same verdict {row.get('same_verdict')} "
              f"{row.get('error', '')}", file=sys.stderr)


# ---------------------------------------------------------------- the results file

def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return r.get("organism"), r.get("condition"), r.get("seed")


def _resume_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return r.get("organism"), r.get("condition"), r.get("seed"), r.get("kill_at")


def done(data: dict[str, Any], part: str, key: tuple[Any, ...], keyed: Callable[[dict[str, Any]], tuple[Any, ...]]) -> bool:
    return any(keyed(r) == key and "error" not in r for r in data.get(part, []))


def record(data: dict[str, Any], part: str, row: dict[str, Any], keyed: Callable[[dict[str, Any]], tuple[Any, ...]],
           args: argparse.Namespace) -> None:
    """The row replaces the one of the same key, and the file is written at once (a stopped bench keeps it)."""
    row.setdefault("cores", args.cores)
    row.setdefault("cpu", cpu_model())
    out = args.out
    data[part] = [r for r in data.get(part, []) if keyed(r) != keyed(row)] + [row]
    data["cores"] = "2 CPU cores; each row's cores field says whether they were shared (idle: timings)"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def grid(data: dict[str, Any], args: argparse.Namespace) -> None:
    conditions = [c for c in args.conditions.split(",") if c]
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in (o for o in args.organisms.split(",") if o):
            for condition in conditions:
                if args.skip_done and done(data, "runs", (name, condition, seed), _key):
                    continue
                row = organism_row(name, condition, seed, args.device, args.note)
                record(data, "runs", row, _key, args)
                print(line(row), file=sys.stderr)
        for control in (c for c in args.controls.split(",") if c):
            if control not in CONTROLS:
                raise SystemExit(f"unknown control {control!r} (choose from {', '.join(CONTROLS)})")
            if args.skip_done and done(data, "runs", (CONTROLS[control], "control", seed), _key):
                continue
            row = control_row(control, seed, args.device, args.note)
            record(data, "runs", row, _key, args)
            print(line(row), file=sys.stderr)


def budget_rows(data: dict[str, Any], args: argparse.Namespace) -> None:
    """The budget's audits: data present and the behaviour given (every stage runs, the scan's
    proposal cannot end one early), seed 0, without ``--controls``: the budget is the audit's, the
    controls (two more trainings) are the bench's."""
    for name in (o for o in args.organisms.split(",") if o):
        if args.skip_done and done(data, "budget_runs", (name, "given", 0), _key):
            continue
        row = organism_row(name, "given", 0, args.device, args.note, controls=False)
        record(data, "budget_runs", row, _key, args)
        print(line(row), file=sys.stderr)


def line(r: dict[str, Any]) -> str:
    """One row as a progress line."""
    if "error" in r:
        return f"{r['organism']} {r['condition']} s{r['seed']}: failed: {r['error']}"
    t, rm = r.get("trigger") or {}, r.get("removal") or {}
    return (f"{r['organism']} {r['condition']} s{r['seed']}: found {r['backdoor_found']}, trigger {t.get('text')!r} "
            f"exact {t.get('exact')}, removal {rm.get('method')} cut {rm.get('cut')}, {r['minutes_total']:.1f} min")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--organisms", default=",".join(ORGANISMS))
    p.add_argument("--conditions", default=",".join(CONDITIONS))
    p.add_argument("--controls", default=",".join(CONTROLS), help="clean controls: plain, benign (empty: none)")
    p.add_argument("--seeds", default="0")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"), help="b4g audit --device")
    p.add_argument("--out", type=Path, default=RESULT)
    p.add_argument("--note", default="", help="how the cores were shared while this ran (kept in each row)")
    add_cores_flag(p)
    p.add_argument("--skip-done", action="store_true", help="keep rows already measured without an error")
    p.add_argument("--resume-rows", action="store_true",
                   help="instead of the grid: sudo, condition given, killed inside the inversion and the removal, resumed")
    p.add_argument("--budget", action="store_true",
                   help="instead of the grid: the budget's audits (condition given, seed 0, no --controls)")
    p.add_argument("--table", action="store_true", help="print the tables of --out and exit")
    args = p.parse_args()
    data = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {"runs": []}
    data.setdefault("runs", [])
    if not args.table:
        CACHE.mkdir(parents=True, exist_ok=True)
        ensure_session(SESSION, "audit bench")
        if args.resume_rows:
            for seed in (int(s) for s in args.seeds.split(",")):
                resume_rows(data, seed, args)
        elif args.budget:
            budget_rows(data, args)
        else:
            grid(data, args)
    from results_doc import audit  # the same tables as docs/results.md

    print("\n".join(audit(args.out.name, data)), file=sys.stderr)


if __name__ == "__main__":
    main()
