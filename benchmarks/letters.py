"""Letter pre-screen benchmark: per-item recall, signature detection rates, seconds per page.

Generates letters with ``tests/letters/corpus.py`` from a fixed seed (typed
letters in several fonts and layouts, letterheads, multi-page; signed with ink
strokes, unsigned, "/s/" and script-font signatures; missing items, wrong
contract numbers, mismatched emails), in five conditions: clean PNG, scan
(JPEG), phone photo (JPEG, perspective, uneven light, some turned 90/180
degrees), text PDF, scanned PDF. Each is pre-screened in this process
(``prescreen_letter``) and timed; a few also through the sandboxed subprocess
to show its overhead.

    .venv/bin/python benchmarks/letters.py                   # 30 letters per condition
    .venv/bin/python benchmarks/letters.py --letters 100 --jobs 2
    .venv/bin/python benchmarks/letters.py --calibrate       # scores on the calibration seed

The evaluation seed (2026) differs from the calibration seed (7) used to set
the signature thresholds. Targets (issue 6): per-item recall >= 99% on clean
and scanned letters, >= 97% on phone photos; signatures >= 97% detected at
<= 1% false alarms on unsigned letters; median <= 1.5 s per page.
Exit status 0 when every target is met, 2 otherwise.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from rapidfuzz import fuzz

from keyholder.letters import (
    AccountRecords,
    ExecutiveContact,
    TypedFields,
    prescreen_in_subprocess,
    prescreen_letter,
)
from keyholder.letters.document import TextSource
from keyholder.letters.fields import canonical_contract, extract_fields
from keyholder.letters.load import Limits, load_pages
from keyholder.letters.ocr import read_words, tesseract_available
from keyholder.letters.prescreen import read_page
from keyholder.letters.signature import find_signature
from tests.letters import corpus, drawing

EVALUATION_SEED = 2026
CALIBRATION_SEED = 7
ITEMS = ("account_name", "contract_number", "email_to_add", "reason", "date",
         "executive_name", "executive_title", "executive_email")  # fmt: skip
RECALL_TARGET = {"clean": 0.99, "scan": 0.99, "scanned-pdf": 0.99, "text-pdf": 0.99, "photo": 0.97}


@dataclass
class Case:
    number: int
    condition: str
    letter: corpus.Letter
    typed: TypedFields
    records: AccountRecords | None
    expect: dict[str, str]  # check id -> expected status for checks the case tampers with
    file_seed: int


def make_cases(seed: int, per_condition: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for condition in corpus.CONDITIONS:
        for i in range(per_condition):
            letter = corpus.random_letter(rng, seed=rng.randint(0, 10**9))
            kinds = ["ink"] * 12 + ["none"] * 5 + ["slash-s", "script-font"]
            if condition == "text-pdf":
                kinds += ["pasted-image"]
            signature = rng.choice(kinds)
            if signature == "script-font" and not drawing.script_font_available():
                signature = "none"
            missing = frozenset([rng.choice(corpus.ITEMS)]) if rng.random() < 0.15 else frozenset()
            letter = replace(letter, signature=signature, missing=missing)
            records = AccountRecords(
                letter.account, letter.display_name, letter.contract, (letter.domain,),
                (ExecutiveContact(letter.executive_name, letter.executive_title,
                                  letter.executive_email),),
            )  # fmt: skip
            typed = TypedFields(account_name=letter.account, email_to_add=letter.email_to_add)
            expect: dict[str, str] = {}
            roll = rng.random()
            if roll < 0.1 and "contract_number" not in missing:
                records = replace(records, contract_number=f"ENT-2018-{rng.randint(0, 999999):06d}")
                expect["contract_number"] = "fail"
            elif roll < 0.2 and "email_to_add" not in missing:
                typed = replace(typed, email_to_add=f"someone.else@{letter.domain}")
                expect["email_to_add"] = "fail"
            cases.append(Case(i, condition, letter, typed, records, expect, rng.randint(0, 10**9)))
    return cases


def make_unsigned_cases(seed: int, count: int) -> list[Case]:
    """``count`` unsigned letters over the five conditions, most with something printed
    or stamped in the signature band; and a quarter as many signed ones with the same
    clutter (is the signature still found?). Their own seed stream: the main corpus
    stays as it was."""
    rng = random.Random(seed * 1_000_003 + 1)
    cases = []
    for i in range(count + count // 4):
        condition = corpus.CONDITIONS[i % len(corpus.CONDITIONS)]
        letter = corpus.random_letter(rng, seed=rng.randint(0, 10**9))
        clutter = rng.choice(["none", *corpus.CLUTTER, *corpus.CLUTTER])
        letter = replace(letter, signature="none" if i < count else "ink", clutter=clutter)
        cases.append(Case(i, condition, letter, TypedFields(), None, {}, rng.randint(0, 10**9)))
    return cases


def run_signature_only(case: Case) -> dict[str, Any]:
    """Only what the signature check needs: pages read, the closing and the name found."""
    data, filename = corpus.letter_file(case.letter, case.condition, random.Random(case.file_seed))
    pages = load_pages(data, limits=Limits(), filename=filename)
    for page in pages:
        if page.text_source is not TextSource.TEXT_LAYER:
            read_page(page)
    finding = find_signature(pages, extract_fields(pages))
    return {
        "condition": case.condition,
        "signature_kind": case.letter.signature,
        "clutter": case.letter.clutter,
        "signature_level": finding.level.value if finding.level else None,
        "signature_score": finding.score,
        "label": f"{case.condition}#{case.number} seed={case.letter.seed} {case.letter.clutter}",
    }


def report_unsigned(results: list[dict[str, Any]], *, verbose: bool) -> bool:
    print("Signature check on the extra letters (clutter in the band: stamp, seal, logo, rule)")
    print(f"{'clutter':8} {'unsigned: false alarm':>24} {'uncertain':>10} {'signed: detected':>20}")
    for clutter in ("none", *corpus.CLUTTER):
        rows = [r for r in results if r["clutter"] == clutter]
        unsigned = [r for r in rows if r["signature_kind"] == "none"]
        signed = [r for r in rows if r["signature_kind"] == "ink"]
        fp = sum(r["signature_level"] == "signature-like ink" for r in unsigned)
        tp = sum(r["signature_level"] == "signature-like ink" for r in signed)
        unsure = sum(r["signature_level"] == "uncertain" for r in unsigned)
        print(f"{clutter:8} {percent(fp, len(unsigned)):>15} ({fp}/{len(unsigned)})"
              f" {unsure:>10} {percent(tp, len(signed)):>12} ({tp}/{len(signed)})")  # fmt: skip
    unsigned = [r for r in results if r["signature_kind"] == "none"]
    signed = [r for r in results if r["signature_kind"] == "ink"]
    fp = sum(r["signature_level"] == "signature-like ink" for r in unsigned)
    tp = sum(r["signature_level"] == "signature-like ink" for r in signed)
    # One-sided 95% upper bound on the false-alarm rate (exact for 0 alarms: 3/n).
    bound = 1 - 0.05 ** (1 / len(unsigned)) if unsigned and not fp else None
    print(f"overall: false alarms {percent(fp, len(unsigned))} ({fp}/{len(unsigned)})"
          + (f", 95% upper bound {bound:.1%}" if bound is not None else ""))  # fmt: skip
    print(f"         signed with clutter detected {percent(tp, len(signed))} ({tp}/{len(signed)})")
    for kind in ("none", "ink"):
        scores = sorted(r["signature_score"] for r in results if r["signature_kind"] == kind)
        if scores:
            print(f"  scores {kind:5} n={len(scores):3} min {scores[0]:.2f} "
                  f"p99 {scores[len(scores) * 99 // 100]:.2f} max {scores[-1]:.2f}")  # fmt: skip
    if verbose:
        for r in results:
            if (r["signature_kind"] == "none") == (r["signature_level"] == "signature-like ink"):
                print(f"  {r['label']}: {r['signature_kind']} -> {r['signature_level']}"
                      f" ({r['signature_score']:.2f})")  # fmt: skip
    print()
    return fp / max(1, len(unsigned)) <= 0.01 and tp >= 0.97 * len(signed)


def item_matches(item: str, found: str | None, truth: str) -> bool:
    if found is None:
        return False
    if item == "contract_number":
        return canonical_contract(found) == canonical_contract(truth)
    if item == "reason":
        return fuzz.partial_ratio(found.lower(), truth.lower()) >= 90
    if item in {"executive_name", "executive_title"}:
        return fuzz.token_sort_ratio(found, truth) >= 90
    return found.strip().lower() == truth.strip().lower()


def run_case(case: Case) -> dict[str, Any]:
    data, filename = corpus.letter_file(case.letter, case.condition, random.Random(case.file_seed))
    started = time.perf_counter()
    report = prescreen_letter(
        data, typed=case.typed, records=case.records, today=corpus.TODAY, filename=filename
    )
    seconds = time.perf_counter() - started
    items = report.json["items"]
    truth = case.letter.truth
    return {
        "condition": case.condition,
        "pages": len(report.json["pages"]),
        "seconds": seconds,
        "items": {
            item: (
                None
                if truth[item] is None
                else item_matches(item, (items[item] or {}).get("value"), truth[item])
            )
            for item in ITEMS
        },
        "false_finds": [i for i in ITEMS if truth[i] is None and items[i] is not None],
        "checks": {c["id"]: c["status"] for c in report.json["checks"]},
        "expect": case.expect,
        "signature_kind": case.letter.signature,
        "signature_level": report.signature_level,
        "signature_score": report.json["signature"]["score"],
        "signature_flags": report.json["signature"]["flags"],
        "label": f"{case.condition}#{case.number} seed={case.letter.seed}",
    }


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=30, help="letters per condition")
    parser.add_argument("--jobs", type=int, default=1, help="letters pre-screened at once")
    parser.add_argument("--seed", type=int, default=EVALUATION_SEED)
    parser.add_argument("--calibrate", action="store_true", help=f"use seed {CALIBRATION_SEED}")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument(
        "--unsigned", type=int, default=0,
        help="also check the signature of N extra unsigned letters (and N/4 signed), clutter in "
        "the band; --letters 0 runs only these",
    )  # fmt: skip
    parser.add_argument(
        "--conditions", default=",".join(corpus.CONDITIONS), help="comma-separated subset"
    )
    args = parser.parse_args()
    if not tesseract_available():
        print("Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)")
        return 2
    seed = CALIBRATION_SEED if args.calibrate else args.seed
    wanted = set(args.conditions.split(","))
    ok = True
    if args.unsigned:
        extra = [c for c in make_unsigned_cases(seed, args.unsigned) if c.condition in wanted]
        print(f"{len(extra)} extra letters for the signature check, seed {seed}")
        started = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            extra_results = list(pool.map(run_signature_only, extra, chunksize=4))
        print(f"done in {time.perf_counter() - started:.0f} s\n")
        ok &= report_unsigned(extra_results, verbose=args.verbose)
        if not args.letters:
            return 0 if ok else 2
    cases = [c for c in make_cases(seed, args.letters) if c.condition in wanted]
    print(f"{len(cases)} letters, seed {seed}, {args.jobs} at once")
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_case, cases, chunksize=2))
    else:
        results = [run_case(c) for c in cases]
    print(f"done in {time.perf_counter() - started:.0f} s\n")
    ok &= report_recall(results, verbose=args.verbose)
    ok &= report_checks(results, verbose=args.verbose)
    ok &= report_signatures(results, calibrate=args.calibrate, verbose=args.verbose)
    ok &= report_speed(results)
    report_sandbox(cases[:3])
    return 0 if ok else 2


def report_recall(results: list[dict[str, Any]], *, verbose: bool) -> bool:
    ok = True
    print("Per-item recall (found and correct / present in the letter)")
    print(f"{'item':18}" + "".join(f"{c:>13}" for c in corpus.CONDITIONS))
    for item in ITEMS:
        row = f"{item:18}"
        for condition in corpus.CONDITIONS:
            scored = [r["items"][item] for r in results if r["condition"] == condition]
            present = [s for s in scored if s is not None]
            recall = sum(present) / len(present) if present else 1.0
            ok &= recall >= RECALL_TARGET[condition]
            row += f"{percent(sum(present), len(present)):>13}"
        print(row)
    false_finds = sum(len(r["false_finds"]) for r in results)
    print(f"items reported although the letter lacks them: {false_finds}")
    if verbose:
        for r in results:
            misses = [i for i, s in r["items"].items() if s is False]
            if misses or r["false_finds"]:
                print(f"  {r['label']}: missed {misses} false {r['false_finds']}")
    print()
    return ok


def report_checks(results: list[dict[str, Any]], *, verbose: bool) -> bool:
    tampered = [(r, check, status) for r in results for check, status in r["expect"].items()]
    caught = sum(r["checks"][check] == status for r, check, status in tampered)
    print(f"Tampered letters caught (wrong contract, mismatched email): {caught}/{len(tampered)}")
    clean = [r for r in results if not r["expect"] and not r["false_finds"]]
    statuses = defaultdict(lambda: defaultdict(int))
    for r in clean:
        for check, status in r["checks"].items():
            statuses[check][status] += 1
    print("Check statuses on untampered letters (pass / fail / unknown):")
    for check, counts in statuses.items():
        print(f"  {check:24} {counts['pass']:4} {counts['fail']:4} {counts['unknown']:4}")
    if verbose:
        for r, check, status in tampered:
            if r["checks"][check] != status:
                print(f"  not caught: {r['label']} {check} -> {r['checks'][check]}")
    print()
    return caught == len(tampered)


def report_signatures(results: list[dict[str, Any]], *, calibrate: bool, verbose: bool) -> bool:
    print("Signature presence (level 'signature-like ink')")
    print(
        f"{'condition':13} {'signed: detected':>18} {'uncertain':>10} "
        f"{'unsigned: false alarm':>22} {'uncertain':>10} {'/s/ or script: flagged':>22} "
        f"{'ink: flagged':>14}"
    )
    ok = True
    total_tp = total_signed = total_fp = total_unsigned = 0
    for condition in corpus.CONDITIONS:
        rows = [r for r in results if r["condition"] == condition]
        signed = [r for r in rows if r["signature_kind"] in {"ink", "pasted-image"}]
        unsigned = [r for r in rows if r["signature_kind"] == "none"]
        typed = [r for r in rows if r["signature_kind"] in {"slash-s", "script-font"}]
        tp = sum(r["signature_level"] == "signature-like ink" for r in signed)
        fp = sum(r["signature_level"] == "signature-like ink" for r in unsigned)
        flagged = sum(
            bool(r["signature_flags"]) or r["checks"]["signature"] != "pass" for r in typed
        )
        # Handwriting taken for lettering: the check then asks the reviewer to look.
        ink = [r for r in rows if r["signature_kind"] == "ink"]
        ink_flagged = sum(bool(r["signature_flags"]) for r in ink)
        total_tp, total_signed, total_fp, total_unsigned = (
            total_tp + tp,
            total_signed + len(signed),
            total_fp + fp,
            total_unsigned + len(unsigned),
        )
        print(f"{condition:13} {percent(tp, len(signed)):>11} ({tp}/{len(signed)})"
              f" {sum(r['signature_level'] == 'uncertain' for r in signed):>10}"
              f" {percent(fp, len(unsigned)):>15} ({fp}/{len(unsigned)})"
              f" {sum(r['signature_level'] == 'uncertain' for r in unsigned):>10}"
              f" {percent(flagged, len(typed)):>15} ({flagged}/{len(typed)})"
              f" {percent(ink_flagged, len(ink)):>7} ({ink_flagged}/{len(ink)})")  # fmt: skip
    tpr = total_tp / total_signed if total_signed else 1.0
    fpr = total_fp / total_unsigned if total_unsigned else 0.0
    ok = tpr >= 0.97 and fpr <= 0.01
    print(f"overall: TPR {tpr:.1%} ({total_tp}/{total_signed}), ", end="")
    print(f"FPR {fpr:.1%} ({total_fp}/{total_unsigned})")
    if calibrate or verbose:
        for kind in ("ink", "pasted-image", "none", "slash-s", "script-font"):
            scores = sorted(r["signature_score"] for r in results if r["signature_kind"] == kind)
            if scores:
                print(f"  scores {kind:13} n={len(scores):3} min {scores[0]:.2f} "
                      f"p5 {scores[len(scores) // 20]:.2f} median {statistics.median(scores):.2f} "
                      f"p95 {scores[len(scores) * 19 // 20]:.2f} max {scores[-1]:.2f}")  # fmt: skip
    if verbose:
        for r in results:
            wrong = (
                r["signature_kind"] == "ink"
                and (r["signature_level"] != "signature-like ink" or r["signature_flags"])
            ) or (r["signature_kind"] == "none" and r["signature_level"] == "signature-like ink")
            if wrong:
                kind, level, score = r["signature_kind"], r["signature_level"], r["signature_score"]
                print(f"  {r['label']}: {kind} -> {level} ({score}) {r['signature_flags']}")
    print()
    return ok


def report_speed(results: list[dict[str, Any]]) -> bool:
    print("Seconds per page (in process; median / p90)")
    per_page_all = []
    for condition in sorted({r["condition"] for r in results}, key=corpus.CONDITIONS.index):
        per_page = sorted(r["seconds"] / r["pages"] for r in results if r["condition"] == condition)
        per_page_all += per_page
        p90 = per_page[int(len(per_page) * 0.9)]
        print(f"  {condition:13} {statistics.median(per_page):5.2f} / {p90:5.2f}")
    median = statistics.median(per_page_all)
    ocr_pages = [r["seconds"] / r["pages"] for r in results if r["condition"] != "text-pdf"]
    print(f"  all           {median:5.2f}   (target <= 1.5)")
    if ocr_pages:
        print(f"  OCR'd pages   {statistics.median(ocr_pages):5.2f}   (all but text PDFs)")
    print(
        f"  baseline: bare Tesseract on one clean page {tesseract_baseline():5.2f} (median of 3)\n"
    )
    return median <= 1.5


def tesseract_baseline() -> float:
    """What the machine gives right now: Tesseract alone (single-threaded) on a clean page,
    for reading the figures above as ratios (DESIGN.md: measure as ratios in one run)."""
    letter = corpus.random_letter(random.Random(1), seed=1)
    page = np.asarray(corpus.render(letter)[0].convert("L"))
    times = []
    for _ in range(3):
        started = time.perf_counter()
        read_words(page, 1)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_sandbox(cases: list[Case]) -> None:
    overheads = []
    for case in cases:
        data, filename = corpus.letter_file(
            case.letter, case.condition, random.Random(case.file_seed)
        )
        started = time.perf_counter()
        prescreen_letter(
            data, typed=case.typed, records=case.records, today=corpus.TODAY, filename=filename
        )
        inline = time.perf_counter() - started
        started = time.perf_counter()
        prescreen_in_subprocess(
            data, typed=case.typed, records=case.records, today=corpus.TODAY, filename=filename
        )
        overheads.append(time.perf_counter() - started - inline)
    print(f"Sandboxed subprocess overhead per letter: median {statistics.median(overheads):.2f} s")


if __name__ == "__main__":
    sys.exit(main())
