"""The issue-14 letter benchmark (benchmarks/letters_corpora.py, letters_score.py): the
numbers it prints are the right ones, and it will not score the held-out generator
unless told this is the final run.

Mostly pure scoring on hand-made results; one run end to end on two reportlab text
PDFs (no OCR: a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import letters_corpora
from benchmarks.corpora.build import HELD_OUT, build
from benchmarks.corpora.spec import random_spec
from benchmarks.letters_score import (
    item_correct,
    misses,
    rate,
    score_page,
    summarise,
    target_failures,
    verdict,
    wilson,
)


def _row(*, signed: bool = True, variant: str = "genuine", **extra: Any) -> dict[str, Any]:
    spec = random_spec(14, 5, signed=signed, variant=variant)
    row = {
        "file": f"reportlab-14-0005-{variant}.png",
        "generator": "reportlab",
        "held_out": False,
        "condition": "clean",
        "pages": 1,
        **spec.manifest(),
        "expected_signature_level": "signature-like ink" if signed else "no handwriting",
    }
    row.update(extra)
    return row


def _result(
    row: dict[str, Any],
    *,
    level: str | None = "signature-like ink",
    read: dict[str, str | None] | None = None,
    checks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A pre-screen that read every item right and passed every check, unless told."""
    values = {**row["truth"], **(read or {})}
    statuses = dict.fromkeys(row["expected"], "pass") | (checks or {})
    return {
        "file": row["file"],
        "error": None,
        "seconds": 2.0,
        "cpu_seconds": 1.0,
        "pages": 2,
        "items": {k: None if v is None else {"value": v} for k, v in values.items()},
        "checks": [{"id": k, "status": v} for k, v in statuses.items()],
        "signature": {"level": level, "score": 0.5},
    }


def test_wilson_interval_matches_known_values() -> None:
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(29, 30) == pytest.approx((0.8333, 0.9941), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    assert rate(29, 30) == "29/30 96.7% (83-99)"


def test_signature_verdicts_in_three_levels_whatever_their_wording() -> None:
    assert verdict("signature-like ink") == "ink"
    assert verdict("uncertain") == "unclear"
    assert verdict("unclear \u2014 look at the letter") == "unclear"
    assert verdict(None) == "unclear"  # no band found: nothing said either way
    assert verdict("no handwriting") == "none"
    assert verdict("no ink where the signature belongs") == "none"


def test_account_name_counts_as_read_only_when_a_whole_name_is_read() -> None:
    row = _row()
    row["records"] |= {"name": "northwind-traders", "display_name": "Northwind Traders - EU"}
    row["truth"]["account_name"] = '"Northwind Traders - EU" (northwind-traders)'
    assert item_correct("account_name", "northwind-traders", row)
    assert item_correct("account_name", "\u201cNorthwind Traders - EU\u201d", row)
    assert item_correct("account_name", "northwind traders eu", row)
    assert not item_correct("account_name", "northwind", row)  # the first word only
    assert not item_correct("account_name", None, row)


def test_a_title_read_in_another_case_counts_as_read() -> None:
    row = _row()
    row["truth"]["executive_title"] = "Chief Operating Officer"
    assert item_correct("executive_title", "Chief Operating officer", row)
    assert not item_correct("executive_title", "Chief Officer", row)


def test_a_known_miss_is_counted_as_a_miss() -> None:
    row = _row()
    truth_email = row["truth"]["email_to_add"]
    scored = score_page(row, _result(row, read={"email_to_add": "x" + truth_email}))
    summary = summarise([scored])
    assert summary["items"]["email_to_add"] == (0, 1)
    assert summary["items"]["contract_number"] == (1, 1)
    assert summary["signed_ink"] == summary["signed"] == 1
    assert target_failures("reportlab/clean", "clean", summary) == [
        "reportlab/clean: email_to_add 0/1"
    ]
    assert misses([scored]) == [
        f"{row['file']}: email_to_add: expected {truth_email!r}, read {'x' + truth_email!r}"
    ]
    assert summary["median_seconds"] == 1.0  # 2 s over 2 pages
    assert summary["median_cpu_seconds"] == 0.5


def test_a_file_refused_as_too_large_is_counted_apart_not_as_misses() -> None:
    row = _row()
    refused = {"file": row["file"], "error": "PayloadTooLarge: a letter may be at most 10 bytes"}
    read = score_page(row, _result(row))
    failed = score_page(_row(), {"file": row["file"], "error": "ValueError: broken"})

    summary = summarise([score_page(row, refused), read, failed])

    assert summary["too_large"] == 1
    assert summary["pages"] == 2
    assert summary["signed_ink"] == 1
    assert summary["items"]["email_to_add"] == (1, 2)  # the broken file is a miss
    assert misses([score_page(row, refused)]) == [
        f"{row['file']}: refused: too large (PayloadTooLarge: a letter may be at most 10 bytes)"
    ]


def test_signed_page_told_no_signature_and_false_alarms_with_clutter() -> None:
    signed = _row()
    unsigned = _row(signed=False, clutter="seal")
    told_none = score_page(signed, _result(signed, level="no handwriting"))
    unclear = score_page(signed, _result(signed, level="uncertain"))
    alarm = score_page(unsigned, _result(unsigned, level="signature-like ink"))
    summary = summarise([told_none, unclear, alarm])
    assert (summary["signed"], summary["signed_ink"], summary["signed_unclear"]) == (2, 0, 1)
    assert summary["signed_told_none"] == 1
    assert (summary["false_alarms"], summary["unsigned"]) == (1, 1)
    assert (summary["cluttered_false_alarms"], summary["cluttered"]) == (1, 1)
    failures = target_failures("g/scan", "scan", summary)
    assert "g/scan: signed pages told 'no signature' 1" in failures
    assert "g/scan: false alarms 1/1" in failures


def test_tampered_and_wrong_executive_letters_caught_by_the_right_checks() -> None:
    tampered = _row(variant="tampered-contract")
    wrong = _row(variant="wrong-executive")
    missed = score_page(tampered, _result(tampered))
    caught = score_page(tampered, _result(tampered, checks={"contract_number": "fail"}))
    assert (missed["tampered_caught"], caught["tampered_caught"]) == (False, True)
    # Names only compared: a pass; a failing domain check is not the record's check.
    names_only = score_page(wrong, _result(wrong, checks={"executive_email_domain": "fail"}))
    on_record = score_page(wrong, _result(wrong, checks={"executive_on_record": "fail"}))
    newer = score_page(wrong, _result(wrong, checks={"executive_email_on_record": "fail"}))
    assert names_only["wrong_executive_caught"] is False
    assert on_record["wrong_executive_caught"] is True
    assert newer["wrong_executive_caught_by"] == ["executive_email_on_record"]
    summary = summarise([missed, caught, names_only, on_record, newer])
    assert (summary["tampered_caught"], summary["tampered"]) == (1, 2)
    assert (summary["wrong_executive_caught"], summary["wrong_executive"]) == (2, 3)
    assert target_failures("g", None, summary) == [
        "g: tampered caught 1/2",
        "g: wrong executive caught 2/3",
    ]


def _manifest(directory: Path, rows: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (directory / "manifest.jsonl").write_text(text, encoding="utf-8")


def test_held_out_corpus_is_refused_without_the_final_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _manifest(tmp_path / "h", [_row(generator=HELD_OUT, held_out=True)])

    def never(row: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("a held-out letter was pre-screened")

    monkeypatch.setattr(letters_corpora, "run_page", never)
    assert letters_corpora.main([str(tmp_path / "h"), "--no-cli-start"]) == 2
    assert "refused" in capsys.readouterr().out
    generate = ["--generate", HELD_OUT, "--letters", "1", "--conditions", "text-pdf"]
    out = ["--out", str(tmp_path / "g"), "--seed", "1", "--no-cli-start"]
    assert letters_corpora.main([*generate, *out]) == 2
    assert "refused" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="held-out letter was pre-screened"):
        letters_corpora.main([str(tmp_path / "h"), "--no-cli-start", "--held-out-final"])
    assert "HELD-OUT FINAL RUN" in capsys.readouterr().out
    earlier = tmp_path / "earlier.json"
    row = _row(generator=HELD_OUT, held_out=True)
    earlier.write_text(json.dumps({"pages": [{"manifest": row, "result": _result(row)}]}))
    assert letters_corpora.main(["--rescore", str(earlier), "--no-cli-start"]) == 2
    assert "refused" in capsys.readouterr().out


def test_end_to_end_on_two_text_pdfs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "reportlab"
    rows = build("reportlab", 2, 1414, corpus, conditions=["text-pdf"])
    out = tmp_path / "raw.json"
    status = letters_corpora.main([str(corpus), "--no-cli-start", "--json", str(out), "--misses"])
    printed = capsys.readouterr().out
    pages = json.loads(out.read_text())["pages"]
    assert [p["manifest"]["file"] for p in pages] == [r["file"] for r in rows]
    for page in pages:
        assert page["result"]["error"] is None
        for item, found in page["score"]["items"].items():
            read = (page["result"]["items"][item] or {}).get("value")
            assert found["read"] == read
            assert found["ok"] == item_correct(item, read, page["manifest"])
    assert "=== reportlab: 2 pages" in printed
    assert status == (2 if "Targets missed" in printed else 0)
    # Scored again from the raw results: the same tables.
    assert letters_corpora.main(["--rescore", str(out), "--no-cli-start"]) == status
    again = capsys.readouterr().out
    tables = printed[printed.index("=== reportlab") : printed.index("Misses")]
    assert tables in again
