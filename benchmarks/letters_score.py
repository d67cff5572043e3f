"""Scoring for the letter pre-screen on the independent corpora (``letters_corpora.py``).

Everything here is pure: a manifest row (the ground truth written by
``benchmarks.corpora``) and the pre-screen's raw result for that file go in,
counts and Wilson intervals come out. The scores follow the manifest, not the
pre-screen's check ids of the day: a signature verdict is read from its words
(three levels, whatever their exact wording), an item is right when it is what
the letter says, and a wrong-executive letter is caught by any check comparing
the executive with the record.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz

from keyholder.letters.fields import canonical_contract

ITEMS = (
    "account_name",
    "contract_number",
    "email_to_add",
    "reason",
    "date",
    "executive_name",
    "executive_title",
    "executive_email",
)
# Issue 14's targets. Recall on phone photos may be lower.
SIGNATURES_FOUND = 0.97
FALSE_ALARMS = 0.01
RECALL = 0.99
RECALL_PHOTO = 0.97
MEDIAN_SECONDS = 1.5
INK = "signature-like ink"
Z95 = 1.959964


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) for ``successes`` out of ``trials``;
    (0, 1) when there were no trials. Unlike p ± z·se it stays inside [0, 1] and is
    not empty at 0 or n successes, which is where these rates live."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int) -> str:
    """``k/n pct% (lo-hi)``: the count, the rate and its 95% interval."""
    if trials == 0:
        return "-"
    lo, hi = wilson(successes, trials)
    return f"{successes}/{trials} {100 * successes / trials:.1f}% ({100 * lo:.0f}-{100 * hi:.0f})"


def verdict(level: str | None) -> str:
    """``ink``, ``unclear`` or ``none`` from the report's signature level. Today's levels
    are "signature-like ink" / "uncertain" / "no handwriting"; issue 14 renames the last
    two ("unclear — look at the letter", "no ink where the signature belongs"). No level
    (no band found) tells the reviewer nothing either way: unclear."""
    if level == INK:
        return "ink"
    if level and level.startswith(("no ", "no-")):
        return "none"
    return "unclear"


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def item_correct(item: str, read: str | None, row: dict[str, Any]) -> bool:
    """Is ``read`` what the letter says for ``item``? (``row``: the manifest row.)"""
    if read is None:
        return False
    truth = row["truth"][item]
    if item == "account_name":
        # Written as a slug, a display name (quoted or not) or both: either name, read
        # whole, is right; quotes, case, spaces and dashes do not matter.
        names = {row["records"]["name"], row["records"]["display_name"]}
        return _fold(read) in {_fold(name) for name in names}
    if item == "contract_number":
        return canonical_contract(read) == canonical_contract(truth)
    if item == "reason":
        return fuzz.partial_ratio(read.lower(), truth.lower()) >= 90
    if item in {"executive_name", "executive_title"}:
        # Case folded: "Chief Operating officer" (a monospace capital O read small)
        # is the title; unfolded, the words sort apart and score 65.
        return fuzz.token_sort_ratio(read.lower(), truth.lower()) >= 90
    return str(read).strip().lower() == str(truth).strip().lower()


def wrong_executive_catchers(checks: dict[str, str], expected: dict[str, str]) -> list[str]:
    """The checks that compare the executive with the record and failed: today
    ``executive_on_record`` (names only); a check added later (say, the executive's
    email against the contact on record) counts when its id names the executive and
    the manifest does not know it yet. ``executive_email_domain`` does not count: it
    fails only when the other address is on another domain."""
    return [
        check_id
        for check_id, status in checks.items()
        if status == "fail"
        and (
            check_id == "executive_on_record"
            or (check_id.startswith("executive") and check_id not in expected)
        )
    ]


def score_page(row: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """One file's scores; ``result`` is ``letters_corpora.run_page``'s raw result."""
    checks: dict[str, str] = {c["id"]: c["status"] for c in result.get("checks", [])}
    items = result.get("items") or {}
    level = (result.get("signature") or {}).get("level")
    found = verdict(level)
    expected = row["expected"]
    catchers = wrong_executive_catchers(checks, expected)
    return {
        "file": row["file"],
        "generator": row["generator"],
        "held_out": bool(row.get("held_out")),
        "condition": row["condition"],
        "variant": row["variant"],
        "signed": bool(row["signed"]),
        "clutter": row.get("clutter") or "none",
        "error": result.get("error"),
        # A file over the upload limit is refused with a clear message, by design
        # (``letters_max_bytes``): counted apart, not as a miss on every item.
        "too_large": str(result.get("error") or "").startswith("PayloadTooLarge"),
        "items": {
            item: {
                "ok": item_correct(item, (items.get(item) or {}).get("value"), row),
                "expected": row["truth"][item],
                "read": (items.get(item) or {}).get("value"),
                "corrected_from": (items.get(item) or {}).get("corrected_from"),
            }
            for item in ITEMS
            if row["truth"].get(item) is not None
        },
        "signature_level": level,
        "signature_score": (result.get("signature") or {}).get("score"),
        "verdict": found,
        # Told "no signature": the "none" level, or the signature check failing
        # (a check fails on a typed signature with no ink found).
        "told_no_signature": found == "none" or checks.get("signature") == "fail",
        "tampered_caught": (
            checks.get("contract_number") == "fail"
            if row["variant"] == "tampered-contract"
            else None
        ),
        "wrong_executive_caught": bool(catchers) if row["variant"] == "wrong-executive" else None,
        "wrong_executive_caught_by": catchers,
        "checks": checks,
        "expected_checks": expected,
        "seconds": result.get("seconds"),
        "cpu_seconds": result.get("cpu_seconds"),
        "pages": result.get("pages") or row.get("pages") or 1,
    }


def per_page_seconds(scored: Iterable[dict[str, Any]], key: str = "seconds") -> list[float]:
    return sorted(s[key] / s["pages"] for s in scored if s.get(key) is not None)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(fraction * len(values)) - 1))]


def summarise(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for one group of pages (one generator and condition, or more); pages
    refused as too large are only counted (``too_large``)."""
    too_large = sum(bool(s.get("too_large")) for s in scored)
    scored = [s for s in scored if not s.get("too_large")]
    signed = [s for s in scored if s["signed"]]
    unsigned = [s for s in scored if not s["signed"]]
    cluttered = [s for s in unsigned if s["clutter"] != "none"]
    tampered = [s for s in scored if s["tampered_caught"] is not None]
    wrong = [s for s in scored if s["wrong_executive_caught"] is not None]
    seconds = per_page_seconds(scored)
    cpu = per_page_seconds(scored, "cpu_seconds")
    return {
        "pages": len(scored),
        "errors": sum(s["error"] is not None for s in scored),
        "too_large": too_large,
        "signed": len(signed),
        "signed_ink": sum(s["verdict"] == "ink" for s in signed),
        "signed_unclear": sum(s["verdict"] == "unclear" for s in signed),
        "signed_told_none": sum(s["told_no_signature"] for s in signed),
        "unsigned": len(unsigned),
        "false_alarms": sum(s["verdict"] == "ink" for s in unsigned),
        "unsigned_unclear": sum(s["verdict"] == "unclear" for s in unsigned),
        "unsigned_none": sum(s["verdict"] == "none" for s in unsigned),
        "cluttered": len(cluttered),
        "cluttered_false_alarms": sum(s["verdict"] == "ink" for s in cluttered),
        "items": {
            item: (
                sum(s["items"][item]["ok"] for s in scored if item in s["items"]),
                sum(item in s["items"] for s in scored),
            )
            for item in ITEMS
        },
        "tampered": len(tampered),
        "tampered_caught": sum(bool(s["tampered_caught"]) for s in tampered),
        "wrong_executive": len(wrong),
        "wrong_executive_caught": sum(bool(s["wrong_executive_caught"]) for s in wrong),
        "median_seconds": statistics.median(seconds) if seconds else math.nan,
        "p90_seconds": percentile(seconds, 0.9),
        "median_cpu_seconds": statistics.median(cpu) if cpu else math.nan,
    }


def target_failures(label: str, condition: str | None, summary: dict[str, Any]) -> list[str]:
    """The issue-14 targets this group misses, as sentences. With ``condition`` None
    (a generator's whole corpus) only the all-condition targets are judged: tampered
    and wrong-executive letters, the median time; otherwise the per-condition ones."""
    failures: list[str] = []
    s = summary
    if condition is None:
        if s["tampered_caught"] < s["tampered"]:
            failures.append(f"{label}: tampered caught {s['tampered_caught']}/{s['tampered']}")
        if s["wrong_executive_caught"] < s["wrong_executive"]:
            failures.append(
                f"{label}: wrong executive caught "
                f"{s['wrong_executive_caught']}/{s['wrong_executive']}"
            )
        if not s["median_seconds"] <= MEDIAN_SECONDS:
            failures.append(f"{label}: median {s['median_seconds']:.2f} s/page")
        return failures
    if s["signed"] and s["signed_ink"] < SIGNATURES_FOUND * s["signed"]:
        failures.append(f"{label}: signatures found {s['signed_ink']}/{s['signed']}")
    if s["signed_told_none"]:
        failures.append(f"{label}: signed pages told 'no signature' {s['signed_told_none']}")
    if s["unsigned"] and s["false_alarms"] > FALSE_ALARMS * s["unsigned"]:
        failures.append(f"{label}: false alarms {s['false_alarms']}/{s['unsigned']}")
    target = RECALL_PHOTO if condition == "photo" else RECALL
    for item, (ok, n) in s["items"].items():
        if n and ok < target * n:
            failures.append(f"{label}: {item} {ok}/{n}")
    return failures


def misses(scored: list[dict[str, Any]]) -> list[str]:
    """One line per miss: file, what, expected vs read."""
    lines = []
    for s in scored:
        if s.get("too_large"):
            lines.append(f"{s['file']}: refused: too large ({s['error']})")
            continue
        if s["error"]:
            lines.append(f"{s['file']}: error {s['error']}")
        if s["signed"] and s["verdict"] != "ink":
            lines.append(
                f"{s['file']}: signature: expected ink, got {s['signature_level']!r} "
                f"(score {s['signature_score']})"
                + ("  TOLD NO SIGNATURE" if s["told_no_signature"] else "")
            )
        if not s["signed"] and s["verdict"] == "ink":
            lines.append(
                f"{s['file']}: false alarm ({s['clutter']} in the band, "
                f"score {s['signature_score']})"
            )
        for item, found in s["items"].items():
            if not found["ok"]:
                lines.append(
                    f"{s['file']}: {item}: expected {found['expected']!r}, read {found['read']!r}"
                )
        if s["tampered_caught"] is False:
            lines.append(
                f"{s['file']}: tampered contract not caught (contract_number "
                f"{s['checks'].get('contract_number')})"
            )
        if s["wrong_executive_caught"] is False:
            lines.append(
                f"{s['file']}: wrong executive not caught (executive_on_record "
                f"{s['checks'].get('executive_on_record')})"
            )
    return lines


def check_agreement(scored: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Per check id, per expected outcome (pass/fail), how the pre-screen ended:
    ``{check: {expected: {actual: count}}}``; checks the manifest does not know are
    counted under expected ``?``."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    for s in scored:
        for check_id, status in s["checks"].items():
            expected = s["expected_checks"].get(check_id, "?")
            counts = table.setdefault(check_id, {}).setdefault(expected, {})
            counts[status] = counts.get(status, 0) + 1
    return table
