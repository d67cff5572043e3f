"""The signature block's closing when OCR put a speck between its words, and its
name unreadable (issue 14: a phone photo whose band was never found); the block
when the signature ran into the closing."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from benchmarks.corpora.build import letter_files
from benchmarks.corpora.fpdf_letters import render
from benchmarks.corpora.spec import random_spec
from keyholder.letters import prescreen_letter
from keyholder.letters.document import Line, Word
from keyholder.letters.fields import extract_fields
from keyholder.letters.signature import find_signature
from keyholder.letters.signature_finding import SignatureLevel
from tests.letters.conftest import needs_tesseract
from tests.letters.test_fields import BLOCK, LABELLED, page_of, replace_height


@pytest.mark.parametrize("closing", ["With,best regards,", "Yours.sincerely,", "Best.wishes,"])
def test_a_speck_between_the_closing_s_words_still_closes(closing: str) -> None:
    # The signature ran through the typed name: it reads as no name at all.
    page = page_of(*LABELLED[:7], closing, "K indholm", "Chief Technology Officer")

    fields = extract_fields([page])

    assert fields.closing is not None
    assert fields.closing.text == closing
    assert find_signature([page], fields).band is not None


@pytest.mark.parametrize("line", ["We regret,that we", "Regarding.the account"])
def test_a_body_line_with_a_stray_mark_is_no_closing(line: str) -> None:
    fields = extract_fields([page_of(*LABELLED[:7], line, "Please call us.")])

    assert fields.closing is None


def test_the_band_starts_at_a_closing_read_with_the_signature_over_it() -> None:
    # OCR read "Sincerely," and the signature as one tall line, high over the name.
    page = page_of(*LABELLED[:7], "Sincerely, WwW", "", "", "", "", *BLOCK)
    tall = page.lines[7]
    page.lines[7] = Line(tuple(replace_height(w, 90) for w in tall.words))

    fields = extract_fields([page])
    band = find_signature([page], fields).band

    assert fields.closing is None
    assert band is not None
    assert band.y <= tall.box.y


def test_a_speck_read_as_a_full_stop_does_not_end_the_block() -> None:
    # OCR read a signature's foot as "y™." between the mangled closing and the name.
    page = page_of(
        *LABELLED[:7], "onan U [Li ervteath", "y™.", "Dana Whitfield", "Chief Executive Officer"
    )

    fields = extract_fields([page])

    # Both are the block's: the signature's place starts at the first.
    assert [line.text for line in fields.signature_lines] == ["onan U [Li ervteath", "y™."]


# fpdf letters (stop 38) signed over the closing: OCR read the closing and the
# signature as one tall line ("Regards, Werabim Frsmor pep"), or made neither out,
# and the band, five line heights over the typed name, held only the signature's foot.
@needs_tesseract
@pytest.mark.parametrize(("number", "condition"), [(12, "clean"), (0, "clean"), (30, "scan")])
def test_a_signature_over_the_closing_is_found(number: int, condition: str) -> None:
    spec = random_spec(5101, number, today=date(2026, 12, 7))
    # The corpus's own damage for the file (benchmarks/corpora/build.py).
    file_seed = random.Random(f"file/fpdf/5101/{number}/{condition}").randint(0, 2**63)
    data, extension = letter_files(render(spec), condition, file_seed, "fpdf")

    report = prescreen_letter(data, filename=f"letter.{extension}")

    assert report.json["signature"]["level"] == SignatureLevel.INK


def _unsure(line: Line) -> Line:
    return Line(tuple(replace(word, confidence=5.0) for word in line.words))


def test_a_title_under_an_unread_name_bounds_the_signature_s_place() -> None:
    # The signature crossed the closing and the typed name: OCR made nothing of
    # either, but read the title, the company and the address under them.
    page = page_of(
        *LABELLED[:7],
        "Pfcerely,",
        "| } 704 fy Yh",
        "\\orindceun tnandes",
        "President",
        "Northwind Traders - Enterprise",
        "ofernandes@northwind.example",
    )
    page.lines[7:10] = [_unsure(line) for line in page.lines[7:10]]

    fields = extract_fields([page])
    band = find_signature([page], fields).band

    assert fields.executive_name is None  # nothing is taken from the unread row
    assert fields.executive_title is not None
    assert fields.executive_title.value == "President"
    assert fields.name_line is page.lines[9]
    assert band is not None
    assert band.y <= page.lines[8].box.y
    assert band.bottom <= page.lines[9].box.y


def test_a_name_read_in_part_over_the_title_is_the_name_s_row() -> None:
    # The signature's underline ran through "Mei-Ling A. Sato": OCR read "Mei-Li",
    # with confidence but no name; a stamp's date, right of the block, under it.
    page = page_of(
        *LABELLED[:7], "Yours singeTely/", "Mei-Li", "20 NOV", "CFO", "Northwind Traders"
    )
    stamp = page.lines[9]
    page.lines[9] = Line(tuple(_moved(word, 400) for word in stamp.words))

    fields = extract_fields([page])

    assert fields.executive_name is None
    assert fields.name_line is page.lines[8]
    assert fields.executive_title is not None
    assert fields.executive_title.value == "CFO"


@pytest.mark.parametrize(
    "block",
    [
        # fpdf 5301 letter 34: the title's box took in a stamp's ink over it, so it
        # starts higher than the name and was read first.
        (
            "President C7e 6",
            "Rafael Mensah \u00a9 -",
            "Proseware GmbH",
            "rmensah@proseware.example",
        ),
        # The name not read at all.
        ("President", "Proseware GmbH", "rmensah@proseware.example"),
    ],
)
def test_the_company_over_the_address_is_not_the_name(block: tuple[str, ...]) -> None:
    fields = extract_fields([page_of(*LABELLED[:7], "Yours faithfully,", *block)])

    assert fields.executive_name is None or fields.executive_name.value != "Proseware GmbH"


def _moved(word: Word, right: int) -> Word:
    return replace(word, box=replace(word.box, x=word.box.x + right))


@pytest.mark.parametrize("above", ["Thank you for your help.", "Please call me on Monday"])
def test_a_title_under_the_body_s_last_line_makes_no_unread_name(above: str) -> None:
    page = page_of(*LABELLED[:7], above, "President", "ofernandes@northwind.example")

    fields = extract_fields([page])

    assert fields.name_line is None


# fpdf letter 0 of seed 5201 (stop 39): the signature's loops crossed "Sincerely,"
# and the typed name; neither was read, and the band was unknown. On the scan OCR
# read the closing's tail, "rely,", alone: the closing's, not typed text.
@needs_tesseract
@pytest.mark.parametrize("condition", ["clean", "scan"])
def test_a_signature_over_the_closing_and_the_name_is_found_from_the_title(
    condition: str,
) -> None:
    spec = random_spec(5201, 0, today=date(2026, 12, 7))
    file_seed = random.Random(f"file/fpdf/5201/0/{condition}").randint(0, 2**63)
    data, extension = letter_files(render(spec), condition, file_seed, "fpdf")

    report = prescreen_letter(data, filename=f"letter.{extension}")

    checks = {check["id"]: check["status"] for check in report.json["checks"]}
    assert spec.signed
    assert report.json["signature"]["level"] == SignatureLevel.INK
    assert checks["signature"] == "pass"  # no typed text flagged
    assert report.json["items"]["executive_title"]["value"] == spec.executive_title
