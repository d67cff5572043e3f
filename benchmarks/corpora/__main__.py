"""python -m benchmarks.corpora --generator fpdf|html|reportlab|pillow|typst --letters N --seed S
--out DIR"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from benchmarks.corpora.build import GENERATORS, HELD_OUT, build
from benchmarks.corpora.degrade import CONDITIONS
from benchmarks.corpora.html_letters import chromium_available
from benchmarks.corpora.spec import DEFAULT_TODAY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpora", description=__doc__)
    parser.add_argument("--generator", choices=sorted(GENERATORS), required=True)
    parser.add_argument("--letters", type=int, default=10)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--first", type=int, default=0, help="number of the first letter")
    parser.add_argument(
        "--conditions",
        default=",".join(CONDITIONS),
        help=f"comma-separated, of {', '.join(CONDITIONS)}",
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEFAULT_TODAY,
        help="the date letters are dated back from (the checks' 'today')",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        parser.error(f"unknown conditions: {', '.join(unknown)}")
    if args.generator == "html" and not chromium_available():
        print("the html generator needs Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    if args.generator == HELD_OUT:
        print(
            f"note: {HELD_OUT} is the held-out generator: do not tune on it (README.md)",
            file=sys.stderr,
        )
    rows = build(
        args.generator,
        args.letters,
        args.seed,
        args.out,
        conditions=conditions,
        today=args.today,
        first=args.first,
        log=None if args.quiet else lambda line: print(line, file=sys.stderr),
    )
    print(f"{len(rows)} files in {args.out} (manifest: {args.out / 'manifest.jsonl'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
