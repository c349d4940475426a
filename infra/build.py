"""`python -m infra.build [--check]`: write each stack's generated template to infra/templates/<kind>.json, or
(with --check) exit 1 naming every template that differs from what its source generates now."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from troposphere import Template

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# kind -> module whose `template()` builds it. A stack named `lego-api-{kind}-{stage}` is deployed per stage.
STACKS: dict[str, str] = {
    "data": "infra.data",
    "dns": "infra.dns",
    "observability": "infra.observability",
}


def build(kind: str) -> Template:
    return importlib.import_module(STACKS[kind]).template()


def render(kind: str) -> str:
    return build(kind).to_json(indent=2, sort_keys=True) + "\n"


def template_path(kind: str) -> Path:
    return TEMPLATES_DIR / f"{kind}.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a committed template is stale")
    args = parser.parse_args(argv)
    stale = []
    for kind in STACKS:
        text, path = render(kind), template_path(kind)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if stale:
        print(f"stale templates (run `make templates`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
