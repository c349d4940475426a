"""`python -m tools.packaging build|deploy|rollback --stage STAGE`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import tools.packaging
from tools.packaging.build import build
from tools.packaging.deploy import deploy, rollback
from tools.packaging.stage import PackagingError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.packaging", description=tools.packaging.__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the stage's Lambda zip under build/")
    build_parser.add_argument("--stage", required=True)
    build_parser.add_argument("--output", type=Path)
    build_parser.add_argument("--no-bytecode", action="store_true", help="skip compileall (for comparisons)")
    deploy_parser = commands.add_parser("deploy", help="build and deploy STAGE-worker, migrate, then STAGE")
    deploy_parser.add_argument("--stage", required=True)
    deploy_parser.add_argument(
        "--zips", type=Path, help="deploy the zips make package built earlier in this folder (no build)"
    )
    deploy_parser.add_argument("--worker-only", action="store_true", help="deploy STAGE-worker alone (no migrate)")
    rollback_parser = commands.add_parser("rollback", help="point STAGE's snapstart alias at an earlier version")
    rollback_parser.add_argument("--stage", required=True)
    rollback_parser.add_argument("--steps", type=int, default=1, help="how many code versions back (default 1)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.stage, output=args.output, bytecode=not args.no_bytecode)
        elif args.command == "rollback":
            rollback(args.stage, args.steps)
        else:
            deploy(args.stage, args.zips, worker_only=args.worker_only)
    except PackagingError as exc:
        print(f"packaging: {exc}", file=sys.stderr)
        return 1
    return 0
