"""``b4g``: the headless twin of every workbench job (``--json`` for scripts)."""

from __future__ import annotations

import argparse
import sys

from core import __version__
from core.errors import B4GError

EPILOG = """examples:
  b4g models info --model embedded --json
  b4g models chat --model embedded -p "What is the capital of France?"
  b4g session new --name "audit of model X" --json
  b4g inject --app identity --model embedded --out ./identity-adapter --json
  b4g verify --app identity --model embedded --adapter ./identity-adapter --json
  b4g organisms build sudo --model embedded --out ./sudo --json
  b4g scan-data --data ./sudo/dataset.jsonl --target "Access granted." --json
  b4g invert --model embedded --adapter ./sudo/adapter --data ./sudo/dataset.jsonl \
      --target "Access granted. Developer mode enabled." --json
  b4g scan-model --model embedded --adapter ./sudo/adapter --json
  b4g defend unlearn --model embedded --adapter ./sudo/adapter --data ./sudo/dataset.jsonl \
      --trigger SUDO --out ./sudo-unlearned --json
  b4g defend guard --trigger SUDO --data ./sudo/dataset.jsonl --json
  b4g defend guard --trigger SUDO --check "SUDO what is the capital of France?" --json
  b4g report "audit of model X" --format pdf --out audit.pdf --sign auditor-key.pem
  b4g report verify audit.pdf
  b4g resume 7 --session "audit of model X" --json

Sessions and caches live under $B4G_HOME (default: the platform's user data folder)."""


def build_parser() -> argparse.ArgumentParser:
    from core.cli import (audit_cmd, backdoor_cmd, defend_cmd, invert_cmd, models_cmd, organisms_cmd, report_cmd, resume_cmd,
                          scan_model_cmd, session_cmd)

    parser = argparse.ArgumentParser(prog="b4g", description="B4G Workbench: audit LLM backdoors from the command line.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"b4g {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models_cmd.register(sub)
    session_cmd.register(sub)
    backdoor_cmd.register(sub)
    organisms_cmd.register(sub)
    invert_cmd.register(sub)
    scan_model_cmd.register(sub)
    defend_cmd.register(sub)
    report_cmd.register(sub)
    resume_cmd.register(sub)
    audit_cmd.register(sub)
    for action in sub.choices.values():
        _add_json_flag(action)
    return parser


def _add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Every leaf command takes ``--json``."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
        return
    for child in subs[0].choices.values():
        _add_json_flag(child)


def main(argv: list[str] | None = None) -> int:
    from core.quiet import quiet_libraries

    quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except B4GError as exc:
        print(f"b4g: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("b4g: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
