"""Command line: ``grader demo`` (more subcommands arrive with batch grading)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _demo(args: argparse.Namespace) -> int:
    folder = Path(args.examples).resolve()
    if not (folder / "checker" / "catalogue.py").is_file():
        print(
            f"grader demo: no checker catalogue at {folder / 'checker'}; run it from the "
            "repository root or pass --examples PATH/TO/examples",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(folder.parent))
    catalogue: Any = importlib.import_module(f"{folder.name}.checker.catalogue")
    rows, records, surprises = [], [], 0
    for outcome in catalogue.run_all(seed=args.seed):
        result = outcome.result
        expected = outcome.entry.expected or "passes"
        mark = "ok" if outcome.as_expected else "UNEXPECTED"
        surprises += 0 if outcome.as_expected else 1
        rows.append(
            (
                mark,
                outcome.entry.kind,
                outcome.entry.name,
                expected,
                result.status.value,
                result.message,
            )
        )
        records.append(
            {
                "entry": outcome.entry.name,
                "kind": outcome.entry.kind,
                "expected": outcome.entry.expected,
                **result.to_dict(),
            }
        )
    width = max(len(r[2]) for r in rows)
    for mark, kind, name, _expected, status, message in rows:
        print(f"{mark:<10} {kind:<22} {name:<{width}} {status:<13} {message}")
    print(
        f"\n{len(rows)} backward functions checked: {len(rows) - surprises} verdicts as "
        f"expected, {surprises} unexpected"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2, allow_nan=False))
        print(f"results written to {args.json}")
    return 1 if surprises else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="check the bundled catalogue of right and wrong backward functions",
        description="Check every backward function in examples/checker and print the "
        "diagnosis of each.",
    )
    demo.add_argument(
        "--examples", default="examples", help="the examples folder (default: ./examples)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed for inputs and probes")
    demo.add_argument("--json", metavar="FILE", help="also write every result record as JSON")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
