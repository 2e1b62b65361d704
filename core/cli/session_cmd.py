"""``b4g session new|list|show|export``: audit sessions on disk."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.output import emit_json, emit_pairs, emit_rows
from core.store import catalog
from core.store.queries import export_session, list_runs


def cmd_new(args: argparse.Namespace) -> int:
    store = catalog.new_session(args.name, args.description or "")
    info = store.info()
    emit_json(info) if args.json else print(f"created session {info['id']} ({info['name']}) at {info['path']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    skipped: list[str] = []
    sessions = catalog.list_sessions(skipped)
    for reason in skipped:
        print(f"b4g: skipped: {reason}", file=sys.stderr)
    if args.json:
        emit_json(sessions)
    elif not sessions:
        print("no sessions yet: 'b4g session new --name NAME'")
    else:
        emit_rows("Audit sessions", ["id", "name", "runs", "created"],
                  [[s["id"], s["name"], s["runs"], s["created_at"][:19]] for s in sessions])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = catalog.open_session(args.ref)
    info, runs = store.info(), list_runs(store)
    if args.json:
        emit_json({**info, "runs": runs})
        return 0
    emit_pairs(f"Session {info['name']}", {k: info[k] for k in ("id", "path", "created_at")})
    emit_rows("Runs", ["id", "kind", "status", "points", "started", "error"],
              [[r["id"], r["kind"], r["status"], r["metric_points"], r["started_at"][:19], r["error"] or ""]
               for r in runs])
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from core.report.export import check_target, write_files

    out = Path(args.out).expanduser() if args.out else None
    if out:
        check_target(out, args.force)  # before reading the session: a refused target costs nothing
    data = export_session(catalog.open_session(args.ref), with_points=not args.no_points)
    if out:
        write_files({out: json.dumps(data, indent=2, default=str).encode("utf-8", "backslashreplace")})
        emit_json({"path": str(out), "runs": len(data["runs"])}) if args.json else print(f"wrote {out}")
    else:
        emit_json(data)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    session = sub.add_parser("session", help="create, list, show and export audit sessions")
    ssub = session.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = ssub.add_parser("new", help="create an audit session")
    new.add_argument("--name", required=True)
    new.add_argument("--description")
    new.set_defaults(func=cmd_new)
    ssub.add_parser("list", help="list sessions in $B4G_HOME/sessions").set_defaults(func=cmd_list)
    show = ssub.add_parser("show", help="a session and its runs")
    show.add_argument("ref", metavar="ID|NAME|PATH")
    show.set_defaults(func=cmd_show)
    export = ssub.add_parser("export", help="the whole session as JSON (stdout or --out)")
    export.add_argument("ref", metavar="ID|NAME|PATH")
    export.add_argument("--out", metavar="FILE")
    export.add_argument("--force", action="store_true", help="overwrite --out")
    export.add_argument("--no-points", action="store_true", help="leave metric points out")
    export.set_defaults(func=cmd_export)
