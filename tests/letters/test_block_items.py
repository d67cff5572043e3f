"""Reading the items of the signature block and the account's name on scans and
photos (issue 14): a stamp's words beside the typed name, the name's row lost
under the signature's strokes, a dot leader read as garbage, an address split
after the domain's dot."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PilImage
from PIL import ImageDraw

from keyholder.letters import name_row
from keyholder.letters.account_name import find_account_name
from keyholder.letters.document import Box, Line, Page, TextSource, Word
from keyholder.letters.fields import extract_fields
from keyholder.letters.name_row import read_name_above_title, tidy_name
from keyholder.letters.prescreen import read_skipped_ink
from keyholder.letters.signature_block import first_column
from keyholder.letters.text_index import TextIndex
from tests.letters import drawing
from tests.letters.conftest import needs_tesseract
from tests.letters.test_fields import LABELLED, page_of


def _line(y: int, *words: tuple[str, int]) -> Line:
    """A line at ``y`` with each word at the given x, 10 pixels a character."""
    return Line(tuple(Word(text, Box(1, x, y, 10 * len(text), 30), 95.0) for text, x in words))


def _with_block(*block: Line) -> Page:
    page = page_of(*LABELLED[:8])  # up to the closing
    page.lines.extend(block)
    return page


def test_a_stamp_s_words_beside_the_name_and_title_are_another_column() -> None:
    y = 100 + 40 * 8
    name = _line(y + 80, ("Charlotte", 100), ("Mensah", 200), ("17", 800), ("NOV", 830))
    title = _line(y + 120, ("Chief", 100), ("Technology", 160), ("Officer", 270), ("2026", 800))
    page = _with_block(name, title, _line(y + 160, ("cmensah@contoso.example", 100)))

    fields = extract_fields([page])

    assert fields.executive_name is not None
    assert fields.executive_name.value == "Charlotte Mensah"
    assert fields.executive_title is not None
    assert fields.executive_title.value == "Chief Technology Officer"
    assert fields.name_line is name  # the line as read still bounds the signature band


def _name_and_title(page: Page) -> tuple[str | None, str | None]:
    fields = extract_fields([page])
    name, title = fields.executive_name, fields.executive_title
    return (name.value if name else None, title.value if title else None)


# Pillow 5402 letter 19, photo: the title read "Chief Operating Oficer" (an "fi"
# lost) was taken for the name, and the company's line under it for the title.
def test_a_title_misspelt_by_ocr_is_still_a_title() -> None:
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 80, ("Charlotte", 100), ("Whitmore-Price", 200)),
        _line(y + 120, ("Chief", 100), ("Operating", 160), ("Oficer", 270)),
        _line(y + 160, ("Northwind", 100), ("Traders", 200), ("-", 280), ("Enterprise", 300)),
        _line(y + 200, ("c.whitmoreprice@northwind.example", 100)),
    )

    assert _name_and_title(page) == ("Charlotte Whitmore-Price", "Chief Operating Oficer")


# Pillow and reportlab 5102 letter 7: a line over the name signing for an office.
def test_an_office_named_over_the_name_is_no_title() -> None:
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 40, ("p.p.", 100), ("Office", 150), ("of", 220), ("the", 250),
              ("Chief", 290), ("Executive", 350)),
        _line(y + 80, ("Laura", 100), ("A.", 160), ("Chen", 190)),
        _line(y + 120, ("President", 100)),
        _line(y + 160, ("laura@contoso.example", 100)),
    )  # fmt: skip

    assert _name_and_title(page) == ("Laura A. Chen", "President")


def test_the_title_under_a_name_the_signature_crossed_is_still_read() -> None:
    # Issue 14: initials through "Lena" read "-tena Sato"; the clean title under it
    # was lost with the name.
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 80, ("-tena", 100), ("Sato", 160)),
        _line(y + 120, ("Chief", 100), ("Technology", 160), ("Officer", 270)),
        _line(y + 160, ("lena.sato@northwind.example", 100)),
    )

    fields = extract_fields([page])

    assert fields.executive_name is None
    assert fields.executive_title is not None
    assert fields.executive_title.value == "Chief Technology Officer"


# With room above it for the signature and the name (three line heights or more
# under the closing), the block's first line is the title: the name was not read at
# all (fpdf 5701 letter 9, photo; see test_fields). Right under the closing, no.
def test_a_title_as_the_block_s_first_line_is_not_taken_without_a_name_s_place() -> None:
    y = 100 + 40 * 8
    page = _with_block(_line(y, ("Chief", 100), ("Technology", 160), ("Officer", 270)))

    assert extract_fields([page]).executive_title is None


def test_a_stamp_s_line_between_the_name_and_the_title_is_not_the_title() -> None:
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 80, ("Charlotte", 100), ("Mensah", 200)),
        _line(y + 100, ("17", 800), ("NOV", 830), ("2026", 870)),
        _line(y + 120, ("Chief", 100), ("Technology", 160), ("Officer", 270)),
        _line(y + 160, ("cmensah@contoso.example", 100)),
    )

    assert _name_and_title(page) == ("Charlotte Mensah", "Chief Technology Officer")


def test_a_second_reading_of_the_name_s_row_is_not_the_title() -> None:
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 80, ("Charlotte", 100), ("Mensah", 200)),
        _line(y + 84, ("hariotte", 110), ("Mensah", 200)),
        _line(y + 120, ("Chief", 100), ("Technology", 160), ("Officer", 270)),
        _line(y + 160, ("cmensah@contoso.example", 100)),
    )

    fields = extract_fields([page])

    assert fields.executive_title is not None
    assert fields.executive_title.value == "Chief Technology Officer"


def test_words_a_space_apart_are_one_column() -> None:
    line = _line(0, ("Jonas", 100), ("A.", 160), ("Byrne", 190))
    assert first_column(line, {1: 30.0}) is line


def test_a_mark_after_the_title_is_not_part_of_it() -> None:
    y = 100 + 40 * 8
    page = _with_block(
        _line(y + 80, ("Jonas", 100), ("Byrne", 160)),
        _line(y + 120, ("Owner", 100), ("\u2014", 170)),
        _line(y + 160, ("jonas@fabrikam.example", 100)),
    )

    fields = extract_fields([page])

    assert fields.executive_title is not None
    assert fields.executive_title.value == "Owner"


@pytest.mark.parametrize(
    ("line", "email"),
    [
        ("chen. rafael@northwind. example", "chen.rafael@northwind.example"),
        ("rafael_vanderberg@northwind. example.", "rafael_vanderberg@northwind.example"),
    ],
)
def test_a_space_after_the_domain_s_last_dot_at_the_line_s_end(line: str, email: str) -> None:
    fields = extract_fields([page_of(*LABELLED[:10], line)])

    assert fields.executive_email is not None
    assert fields.executive_email.value == email


def test_a_space_after_a_dot_in_the_middle_of_a_line_ends_a_sentence() -> None:
    fields = extract_fields([page_of(*LABELLED[:10], "Write to dana@acme. then call us")])

    assert fields.executive_email is None


def _account(*lines: str) -> str | None:
    index = TextIndex(page_of(*lines).lines)
    found = find_account_name(index, len(index.text))
    return found.value if found else None


@pytest.mark.parametrize(
    ("lines", "name"),
    [
        # a dot leader read as anything, before a quoted name or a colon
        (
            ["Account name ..........+.2.++.+-.:2 \u201cContoso Europe B.V.\u201d"],
            "Contoso Europe B.V.",
        ),
        (["Account name ...........5.e2+---: northwind-traders"], "northwind-traders"),
        # ... and before a display name written bare (pillow 5402 letter 20, scan)
        (
            ["Account name ...............+...: Adventure Works Cycles - EMEA"],
            "Adventure Works Cycles - EMEA",
        ),
        (
            ['ACCOUNT wo cece eee ee eeeeees "Contoso Europe B.V." (contoso-eu)'],
            "Contoso Europe B.V.",
        ),
        (["Account mame ..................: northwind-traders"], "northwind-traders"),
        (
            ['Company account " Adventure Works Cycles - EMEA', "Contract number X"],
            "Adventure Works Cycles - EMEA",
        ),
        # the label run together
        (
            ['" Accountname \u2014\u201cTailspin Toys (UK) Ltd" (tailspin-toys)'],
            "Tailspin Toys (UK) Ltd",
        ),
        # a table's border read as "|" or as quotes round the label
        (
            ["The details are below.", "| Account contoso-eu", "Contract No. ENT-2024-349151"],
            "contoso-eu",
        ),
        (
            [
                "access to our enterprise account:",
                '"Company account " \u201cNorthwind Traders\u201d',
            ],
            "Northwind Traders",
        ),
        # the next line's own label is not the name
        (
            ["access to our enterprise account:", "Account Fabrikam, Inc.", "Contract number X"],
            "Fabrikam, Inc",
        ),
        # label and value read as two lines
        (
            ["as set out", "Enterprise account .", "tailspin-toys", "ENT-2023-540730"],
            "tailspin-toys",
        ),
    ],
)
def test_account_names_in_forms_read_badly(lines: list[str], name: str) -> None:
    assert _account(*lines) == name


def test_a_sentence_after_the_label_is_no_name() -> None:
    assert _account("on our enterprise account. The details are below.") is None


def test_with_no_closing_the_title_is_looked_for_after_the_body_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = np.full((400, 1200, 3), 255, dtype=np.uint8)
    page = Page(1, image, "image", TextSource.OCR, [
        _line(40, ("New", 100), ("administrator", 150), ("dana@acme.example", 600)),
        _line(80, ("Please", 100), ("call", 170), ("us.", 220)),
    ])  # fmt: skip
    # Whatever row is read again reads as a name.
    name = _line(0, ("Dana", 100), ("Whitfield", 150))
    monkeypatch.setattr(name_row, "read_crops", lambda crops, **_: [[name] for _ in crops])

    # The body's "administrator" (a title word, its address a column apart) is no title.
    assert not read_name_above_title(page, None)


def test_a_name_row_tidied_of_a_stroke_s_marks() -> None:
    joined = tidy_name(_line(0, ("Kwame-Lindholm", 100)))
    marked = tidy_name(_line(0, ("\u201cLena", 100), ("Sato~", 160)))

    assert joined is not None
    assert joined.text == "Kwame Lindholm"
    assert marked is not None
    assert marked.text == "Lena Sato"


@needs_tesseract
def test_the_name_s_row_is_read_alone_above_a_title_with_no_name() -> None:
    # The first reading lost the name (the signature's strokes crossed it): only
    # the closing, the title and the address were read.
    image = PilImage.new("RGB", (1200, 600), "white")
    draw = ImageDraw.Draw(image)
    font = drawing.load_font("sans", 28)
    rows = {"Kind regards,": 60, "Lena Sato": 250, "Chief Technology Officer": 300,
            "lena.sato@northwind.example": 350}  # fmt: skip
    for text, y in rows.items():
        draw.text((100, y), text, fill="black", font=font)
    draw.line([(180, 200), (320, 246)], fill=(40, 40, 120), width=2)  # a pen stroke's tail

    def read(text: str, y: int) -> Line:
        x, words = 100, []
        for word in text.split():
            width = int(draw.textlength(word, font=font))
            words.append(Word(word, Box(1, x, y + 6, width, 28), 95.0))
            x += width + int(draw.textlength(" ", font=font))
        return Line(tuple(words))

    closing = read("Kind regards,", 60)
    lines = [
        closing,
        read("Chief Technology Officer", 300),
        read("lena.sato@northwind.example", 350),
    ]
    page = Page(1, np.asarray(image), "image", TextSource.OCR, lines)

    assert read_name_above_title(page, closing)

    fields = extract_fields([page])
    assert fields.executive_name is not None
    assert fields.executive_name.value == "Lena Sato"
    assert fields.executive_title is not None
    assert fields.executive_title.value == "Chief Technology Officer"


@needs_tesseract
def test_a_row_the_layout_skipped_is_read_above_the_closing_only() -> None:
    image = PilImage.new("RGB", (1200, 500), "white")
    draw = ImageDraw.Draw(image)
    font = drawing.load_font("sans", 28)
    rows = {"Please grant administrator access to our enterprise account:": 40,
            "Company account Adventure Works": 120,
            "Yours sincerely,": 220, "Jonas Hargreaves": 330}  # fmt: skip
    for text, y in rows.items():
        draw.text((100, y), text, fill="black", font=font)

    def read(text: str, y: int) -> Line:
        width = int(draw.textlength(text, font=font))
        return Line((Word(text, Box(1, 100, y + 6, width, 28), 95.0),))

    closing = read("Yours sincerely,", 220)
    page = Page(
        1,
        np.asarray(image),
        "image",
        TextSource.OCR,
        [read("Please grant administrator access to our enterprise account:", 40), closing],
    )

    assert read_skipped_ink(page, above=closing.box.y)

    texts = [line.text for line in page.lines]
    assert "Company account Adventure Works" in texts
    assert not any("Hargreaves" in text for text in texts)
