"""``b4g report``: the audit report of a session (HTML, PDF, JSON), signed on request, and its check.

    b4g report SESSION --format html|pdf|json --out PATH [--force] [--sign KEY.pem]
    b4g report verify PATH [--key FINGERPRINT]

The signature goes beside the report as ``PATH.sig`` (see :mod:`core.report.integrity`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import B4GError
from core.cli.output import emit_json, emit_pairs, emit_rows


def _format(args: argparse.Namespace) -> str:
    suffix = Path(args.out).suffix.lstrip(".").lower() if args.out else ""
    known = suffix if suffix in ("html", "pdf", "json") else ""
    if args.format and known and known != args.format:
        raise B4GError(f"--format {args.format} but --out ends in .{known}: say which one you mean")
    return args.format or known or "html"


def cmd_report(args: argparse.Namespace) -> int:
    if args.ref == "verify":
        return cmd_verify(args)
    if args.path:
        raise B4GError(f"unexpected argument {args.path!r} (did you mean --out {args.path}?)")
    if args.key:  # it pins the signer of a report being checked; writing a report would ignore it
        raise B4GError("--key goes with 'b4g report verify PATH'; to sign a report, use --sign KEY.pem")
    from core.report.export import export_report
    from core.store import catalog

    out = export_report(catalog.open_session(args.ref), _format(args), Path(args.out) if args.out else None,
                        force=args.force, sign_key=Path(args.sign) if args.sign else None)
    if args.json:
        emit_json(out)
    else:
        emit_pairs(f"Report written ({out['format']})", {"path": out["path"], "sha256": out["sha256"],
                                                         "signature": out["signature"] or "not signed",
                                                         "runs": out["runs"]})
        print(out["verdict"])
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from core.report.integrity import verify_report

    if not args.path:
        raise B4GError("which report? usage: b4g report verify PATH")
    result = verify_report(Path(args.path), args.key)
    if args.json:
        emit_json(result)
    else:
        if result["files"]:
            emit_rows("Manifest files", ["kind", "path", "status"],
                      [[f["kind"], f["path"], f["status"]] for f in result["files"]])
        line = f"{'ok' if result['ok'] else 'FAILED'}: {result['reason']}"
        print(line, file=sys.stdout if result["ok"] else sys.stderr)
    return 0 if result["ok"] else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the audit report of a session (html, pdf, json), or 'verify PATH'",
                       description="Write the audit report of a session, or check a signed report: "
                                   "'b4g report SESSION --format pdf --out audit.pdf', 'b4g report verify audit.pdf'.")
    p.add_argument("ref", metavar="SESSION|verify", help="a session id, name or .b4g path (a session named 'verify': give its id); "
                                                               "or the word 'verify'")
    p.add_argument("path", nargs="?", metavar="PATH", help="with 'verify': the report to check")
    p.add_argument("--format", choices=("html", "pdf", "json"), help="default: from --out's suffix, else html")
    p.add_argument("--out", metavar="PATH", help="file or folder (default: the current folder, named after the session)")
    p.add_argument("--force", action="store_true", help="overwrite an existing report (and its .sig)")
    p.add_argument("--sign", metavar="KEY.pem", help="sign with this ed25519 private key (PEM); writes PATH.sig")
    p.add_argument("--key", metavar="FINGERPRINT", help="with 'verify': also require this signer (fingerprint or key)")
    p.set_defaults(func=cmd_report)
