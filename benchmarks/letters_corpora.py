"""Letter pre-screen on the independent corpora (issue 14): per generator and condition,
with 95% intervals, the held-out generator apart.

Reads corpora written by ``python -m benchmarks.corpora`` (their ``manifest.jsonl``
holds the ground truth), pre-screens every file in this process
(``prescreen_letter``, with the manifest's form, records and "today"), ``--jobs`` at
a time, and scores it against the manifest (``letters_score.py``)::

    export PYTHONPATH=$PWD/src:$PWD
    python -m benchmarks.corpora --generator reportlab --letters 30 --seed 1401 \\
        --today 2026-12-03 --out var/corpora/reportlab-1401
    nice -n 5 python -m benchmarks.letters_corpora var/corpora/reportlab-1401 --jobs 2 \\
        --json var/reportlab-1401.json --misses
    # or let it write the corpus first (into var/corpora/GENERATOR-SEED):
    nice -n 5 python -m benchmarks.letters_corpora --generate pillow --letters 30 --seed 1401 \\
        --conditions clean,scan,photo --jobs 2

The held-out generator (``typst``, ``corpora.build.HELD_OUT``; see corpora/README.md), and
any corpus whose manifest marks its rows held out, is refused unless
``--held-out-final`` is given: it is scored once, at the very end, and its misses
are looked at only after its numbers are reported.

Times are the pre-screen's own (``prescreen_letter``, file already in memory),
per page; the CLI's start-up (``keyholder letters check --help``, a fresh Python
each time) is measured and printed apart. Exit status 0 when every issue-14 target
is met on every corpus scored, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpora.build import HELD_OUT  # noqa: E402
from benchmarks.corpora.degrade import CONDITIONS  # noqa: E402
from benchmarks.letters_score import (  # noqa: E402
    ITEMS,
    check_agreement,
    misses,
    rate,
    score_page,
    summarise,
    target_failures,
)
from keyholder.letters import (  # noqa: E402
    AccountRecords,
    ExecutiveContact,
    TypedFields,
    prescreen_letter,
)

HELD_OUT_WARNING = (
    f"*** HELD-OUT FINAL RUN: the {HELD_OUT!r} generator. Run this ONCE, at the very end, "
    "with a fresh seed; report its numbers as they come; look at its misses only after "
    "reporting (and say so). Never tune on it. ***"
)


class HeldOutRefused(Exception):
    pass


def is_held_out(row: dict[str, Any]) -> bool:
    return bool(row.get("held_out")) or row.get("generator") == HELD_OUT


def load_manifest(directory: Path, *, held_out_final: bool) -> list[dict[str, Any]]:
    """The corpus's manifest rows; HeldOutRefused for a held-out corpus without the flag."""
    rows = []
    with (directory / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            if line.strip():
                row = json.loads(line)
                if is_held_out(row) and not held_out_final:
                    raise HeldOutRefused(
                        f"{directory} holds {row['generator']!r} letters, the held-out "
                        "generator: scoring them needs --held-out-final (once, at the end)"
                    )
                row["directory"] = str(directory)
                rows.append(row)
    return rows


def typed_fields(row: dict[str, Any]) -> TypedFields:
    known = set(TypedFields.__dataclass_fields__)
    return TypedFields(**{k: v for k, v in row["typed"].items() if k in known})


def account_records(row: dict[str, Any]) -> AccountRecords:
    records = row["records"]
    return AccountRecords(
        name=records["name"],
        display_name=records["display_name"],
        contract_number=records["contract_number"],
        verified_domains=tuple(records["verified_domains"]),
        executive_contacts=tuple(
            ExecutiveContact(c["name"], c["title"], c["email"])
            for c in records["executive_contacts"]
        ),
    )


def run_page(row: dict[str, Any]) -> dict[str, Any]:
    """Pre-screen one file of the corpus; the raw result (what ``score_page`` needs, and
    the evidence a reader of ``--json`` wants)."""
    path = Path(row["directory"]) / row["file"]
    data = path.read_bytes()
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    try:
        report = prescreen_letter(
            data,
            typed=typed_fields(row),
            records=account_records(row),
            today=date.fromisoformat(row["today"]),
            filename=row["file"],
        )
    except Exception as exc:  # a file the pre-screen refuses is a miss on every item
        return {
            "file": row["file"],
            "error": f"{type(exc).__name__}: {exc}",
            "seconds": time.perf_counter() - started,
            "pages": row.get("pages", 1),
        }
    seconds = time.perf_counter() - started
    found = report.json
    return {
        "file": row["file"],
        "error": None,
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu_started,
        "pages": len(found["pages"]),
        "page_notes": [p["notes"] for p in found["pages"]],
        "items": {
            name: None
            if item is None
            else {k: item.get(k) for k in ("value", "text", "corrected_from", "confusions")}
            for name, item in found["items"].items()
        },
        "checks": [
            {k: check.get(k) for k in ("id", "status", "evidence", "score")}
            for check in found["checks"]
        ],
        "signature": {
            k: found["signature"].get(k) for k in ("level", "score", "flags", "evidence")
        },
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs as one):
    unlike wall time, it hardly grows when other work shares the machine."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_all(rows: list[dict[str, Any]], jobs: int) -> list[dict[str, Any]]:
    """Every row's raw result, in order; a line on stderr every 10 pages (runs are long
    on a shared machine)."""
    started = time.perf_counter()
    results: list[dict[str, Any]] = []

    def progress(result: dict[str, Any]) -> None:
        results.append(result)
        if len(results) % 10 == 0 or len(results) == len(rows):
            elapsed = time.perf_counter() - started
            print(f"  {len(results)}/{len(rows)} pages, {elapsed:.0f} s", file=sys.stderr)

    if jobs <= 1:
        for row in rows:
            progress(run_page(row))
        return results
    with ProcessPoolExecutor(jobs) as pool:
        for result in pool.map(run_page, rows, chunksize=1):
            progress(result)
    return results


def load_results(
    paths: list[Path], *, held_out_final: bool
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest row, raw result) pairs from earlier ``--json`` files, to score again or
    to put runs made in parts together; the held-out rule holds here too."""
    pairs = []
    for path in paths:
        for page in json.loads(path.read_text())["pages"]:
            if is_held_out(page["manifest"]) and not held_out_final:
                raise HeldOutRefused(
                    f"{path} holds results on the held-out generator: --held-out-final"
                )
            pairs.append((page["manifest"], page["result"]))
    return pairs


def cli_start_seconds(runs: int = 5) -> float:
    """Median wall time of ``keyholder letters check --help`` in a fresh Python (after
    one warm-up run): what every ``letters check`` pays before it reads the letter."""
    command = [sys.executable, "-m", "keyholder", "letters", "check", "--help"]
    env = {**os.environ, "KEYHOLDER_ENV": "development"}

    def once() -> float:
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    once()
    return statistics.median(once() for _ in range(runs))


def conditions_in(scored: Iterable[dict[str, Any]]) -> list[str]:
    present = {s["condition"] for s in scored}
    return [c for c in CONDITIONS if c in present] + sorted(present - set(CONDITIONS))


def print_generator(generator: str, scored: list[dict[str, Any]]) -> list[str]:
    """Tables for one generator's pages; returns the targets missed."""
    conditions = conditions_in(scored)
    by_condition = {c: [s for s in scored if s["condition"] == c] for c in conditions}
    summaries = {c: summarise(rows) for c, rows in by_condition.items()}
    total = summarise(scored)
    held = " (HELD OUT)" if any(s["held_out"] for s in scored) else ""
    print(
        f"=== {generator}{held}: {total['pages']} pages scored, {total['errors']} failed; "
        f"refused: too large {total['too_large']} (not scored) ==="
    )
    print("Signatures (verdict 'signature-like ink'); 95% Wilson intervals")
    print(
        f"{'condition':10} {'signed: found':>24} {'unclear':>8} {'told none':>9}  "
        f"{'unsigned: false alarms':>22} {'unclear':>8} {'with clutter: false alarms':>27}"
    )
    for condition, s in [*summaries.items(), ("all", total)]:
        print(
            f"{condition:10} {rate(s['signed_ink'], s['signed']):>24} {s['signed_unclear']:>8} "
            f"{s['signed_told_none']:>9}  {rate(s['false_alarms'], s['unsigned']):>22} "
            f"{s['unsigned_unclear']:>8} "
            f"{rate(s['cluttered_false_alarms'], s['cluttered']):>27}"
        )
    print("\nItem recall (read and right / on the letter)")
    width = 22
    print(f"{'item':16}" + "".join(f"{c:>{width}}" for c in [*conditions, "all"]))
    for item in ITEMS:
        cells = [rate(*s["items"][item]) for s in [*summaries.values(), total]]
        print(f"{item:16}" + "".join(f"{cell:>{width}}" for cell in cells))
    print("  (executive_email: the address as read; executive_on_record compares it with")
    print("   the contact on record, so the wrong-executive line below counts that check)")
    print("\nTampered contract caught (contract_number fail) / wrong executive caught")
    print("(executive_on_record fail, or a newer executive check the manifest lacks)")
    for condition, s in [*summaries.items(), ("all", total)]:
        print(
            f"  {condition:10} tampered {rate(s['tampered_caught'], s['tampered']):>22}   "
            f"wrong executive {rate(s['wrong_executive_caught'], s['wrong_executive']):>22}"
        )
    print("\nSeconds per page, pre-screen in process: wall median / p90; CPU median")
    for condition, s in [*summaries.items(), ("all", total)]:
        print(
            f"  {condition:10} {s['median_seconds']:5.2f} / {s['p90_seconds']:5.2f}; "
            f"CPU {s['median_cpu_seconds']:5.2f}"
        )
    print("\nChecks against the manifest's expected outcome (expected -> actual counts)")
    for check_id, by_expected in check_agreement(scored).items():
        parts = [
            f"{expected}: " + " ".join(f"{a} {n}" for a, n in sorted(actual.items()))
            for expected, actual in sorted(by_expected.items())
        ]
        print(f"  {check_id:24} " + " | ".join(parts))
    print()
    failures = target_failures(generator, None, total)
    for condition, s in summaries.items():
        failures += target_failures(f"{generator}/{condition}", condition, s)
    return failures


def generate(args: argparse.Namespace) -> Path:
    from benchmarks.corpora.build import build  # noqa: PLC0415 - reportlab etc. only here

    out = args.out or ROOT / "var" / "corpora" / f"{args.generate}-{args.seed}"
    conditions = [c for c in args.conditions.split(",") if c]
    build(
        args.generate,
        args.letters,
        args.seed,
        out,
        conditions=conditions,
        today=args.today,
        log=lambda line: print(line, file=sys.stderr),
    )
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.letters_corpora", description=__doc__.split("\n")[0]
    )
    parser.add_argument("corpora", nargs="*", type=Path, help="corpus directories")
    parser.add_argument("--jobs", type=int, default=1, help="files pre-screened at once")
    parser.add_argument("--json", type=Path, help="write the raw per-page results here")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument(
        "--conditions", default=",".join(CONDITIONS), help="only these conditions (comma-separated)"
    )
    parser.add_argument(
        "--rescore",
        type=Path,
        action="append",
        default=[],
        help="score the raw results in this --json file instead (repeat to combine runs)",
    )
    parser.add_argument("--limit", type=int, help="only the first N letters of each corpus")
    parser.add_argument("--no-cli-start", action="store_true", help="skip timing the CLI")
    parser.add_argument(
        "--held-out-final",
        action="store_true",
        help=f"allow the held-out generator ({HELD_OUT}): once, at the end",
    )
    generation = parser.add_argument_group("write a corpus first (benchmarks.corpora)")
    generation.add_argument("--generate", metavar="GENERATOR")
    generation.add_argument("--letters", type=int, default=30)
    generation.add_argument("--seed", type=int)
    generation.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 3))
    generation.add_argument("--out", type=Path, help="default var/corpora/GENERATOR-SEED")
    args = parser.parse_args(argv)
    if args.generate and args.seed is None:
        parser.error("--generate needs --seed")
    if not args.generate and not args.corpora and not args.rescore:
        parser.error("give corpus directories, --generate or --rescore")
    return args


def load_rows(
    directories: list[Path], wanted: set[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for directory in directories:
        corpus = load_manifest(directory, held_out_final=args.held_out_final)
        numbers = sorted({r["number"] for r in corpus})[: args.limit]
        rows += [r for r in corpus if r["condition"] in wanted and r["number"] in numbers]
    return rows


def write_json(
    path: Path,
    rows: list[dict[str, Any]],
    results: list[dict[str, Any]],
    scored: list[dict[str, Any]],
) -> None:
    """The raw per-page results, with their manifest rows and scores (``--rescore`` reads it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = [
        {
            "manifest": row,
            "result": result,
            "score": score,
        }
        for row, result, score in zip(rows, results, scored, strict=True)
    ]
    path.write_text(json.dumps({"pages": pages}, indent=1, default=str))
    print(f"raw results: {path}")


def report(
    args: argparse.Namespace, rows: list[dict[str, Any]], results: list[dict[str, Any]]
) -> int:
    """Score, print the tables (held-out generator last), write the JSON; the exit status."""
    scored = [score_page(row, result) for row, result in zip(rows, results, strict=True)]
    failures: list[str] = []
    generators = sorted({s["generator"] for s in scored}, key=lambda g: (g == HELD_OUT, g))
    for generator in generators:
        failures += print_generator(generator, [s for s in scored if s["generator"] == generator])
    if not args.no_cli_start:
        print(
            f"CLI start-up, `keyholder letters check --help` (not in the times above): "
            f"median {cli_start_seconds():.2f} s\n"
        )
    if args.misses:
        print("Misses")
        for line in misses(scored):
            print(f"  {line}")
        print()
    if args.json:
        write_json(args.json, rows, results, scored)
    if failures:
        print("Targets missed (issue 14):")
        for failure in failures:
            print(f"  {failure}")
    else:
        print("Every issue-14 target met.")
    return 2 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.generate == HELD_OUT and not args.held_out_final:
        print(f"refused: {HELD_OUT!r} is the held-out generator (--held-out-final)")
        return 2
    directories = list(args.corpora)
    if args.generate:
        directories.append(generate(args))
    try:
        rows = load_rows(directories, set(args.conditions.split(",")), args)
        earlier = load_results(args.rescore, held_out_final=args.held_out_final)
    except HeldOutRefused as exc:
        print(f"refused: {exc}")
        return 2
    if any(is_held_out(row) for row in [*rows, *(row for row, _ in earlier)]):
        print(HELD_OUT_WARNING, file=sys.stderr)
        print(HELD_OUT_WARNING)
    results: list[dict[str, Any]] = []
    if rows:
        sources = ", ".join(map(str, directories))
        print(
            f"{len(rows)} files from {sources}; {args.jobs} at once; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )
        started = time.perf_counter()
        results = run_all(rows, args.jobs)
        print(
            f"pre-screened in {time.perf_counter() - started:.0f} s; "
            f"load average {os.getloadavg()[0]:.2f}\n"
        )
    if earlier:
        print(f"{len(earlier)} earlier results from {', '.join(map(str, args.rescore))}\n")
        rows += [row for row, _ in earlier]
        results += [result for _, result in earlier]
    return report(args, rows, results)


if __name__ == "__main__":
    sys.exit(main())
