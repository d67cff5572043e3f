"""A PDF's text layer set in two columns is read column by column; a table stays
row by row (issue 14: a letter with a sidebar lost its account name)."""

from __future__ import annotations

import io
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from keyholder.letters.columns import text_layer_lines
from keyholder.letters.document import Box, Word
from keyholder.letters.fields import extract_fields
from keyholder.letters.load import Limits, load_pages

SIDEBAR = ["Tailspin Toys Ltd", "Unit 7, Riverside Park", "Bristol BS2 0JA", "+44 117 555 0167"]
BODY = [
    "Dear Sir or Madam,",
    "We would like a new administrator.",
    "Account tailspin-toys",
    "Contract # ENT2026430644",
    "This is needed because our IT manager",
    "retired and nobody else was ever",
    "given admin rights.",
    "Regards,",
]


def words_of(text: str, x: int, y: int) -> list[Word]:
    words, at = [], x
    for part in text.split():
        words.append(Word(part, Box(1, at, y, 12 * len(part), 30), 100.0))
        at += 12 * len(part) + 10
    return words


def two_columns(*, sidebar_first: bool) -> list[Word]:
    """Sidebar at x=100, body at x=700, row by row 40 pixels apart, in the PDF's order."""
    left = [words_of(text, 100, 100 + 40 * row) for row, text in enumerate(SIDEBAR)]
    right = [words_of(text, 700, 100 + 40 * row) for row, text in enumerate(BODY)]
    if sidebar_first:
        return [w for line in left + right for w in line]
    rows = [[*a, *b] for a, b in zip(left + [[]] * len(right), right, strict=False)]
    return [w for row in rows for w in row]


def texts(words: list[Word]) -> list[str]:
    return [line.text for line in text_layer_lines(words)]


def test_a_sidebar_written_before_the_body_is_read_column_by_column() -> None:
    assert texts(two_columns(sidebar_first=True)) == SIDEBAR + BODY


def test_the_same_words_written_row_by_row_stay_rows() -> None:
    rows = texts(two_columns(sidebar_first=False))

    sides = zip(SIDEBAR + [""] * len(BODY), BODY, strict=False)
    assert rows == [f"{left} {right}".strip() for left, right in sides]


def test_a_form_whose_values_were_written_after_its_labels_stays_in_rows() -> None:
    # A filled-in PDF form: the page's labels first, the values after them.
    labels = ["Account name:", "Contract number:", "Email to add:", "Reason:"]
    values = ["tailspin-toys", "ENT2026430644", "aoife@tailspintoys.example", "retired"]
    words = [w for row, text in enumerate(labels) for w in words_of(text, 100, 100 + 40 * row)]
    words += [w for row, text in enumerate(values) for w in words_of(text, 600, 100 + 40 * row)]

    assert texts(words) == [f"{label} {value}" for label, value in zip(labels, values, strict=True)]


@settings(deadline=None, max_examples=200)
@given(
    boxes=st.lists(
        st.tuples(st.integers(0, 1500), st.integers(0, 900), st.integers(5, 300)),
        min_size=0,
        max_size=60,
    ),
    shuffle=st.randoms(use_true_random=False),
)
def test_every_word_is_read_once_whatever_the_layout(
    boxes: list[tuple[int, int, int]], shuffle: object
) -> None:
    words = [Word(f"w{i}", Box(1, x, y, width, 30), 100.0) for i, (x, y, width) in enumerate(boxes)]
    shuffle.shuffle(words)  # type: ignore[attr-defined]

    read = [w for line in text_layer_lines(words) for w in line.words]

    assert Counter(id(w) for w in read) == Counter(id(w) for w in words)


def test_a_pdf_with_a_sidebar_gives_its_account_name() -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842))
    pdf.setFont("Helvetica", 10)
    for row, text in enumerate(SIDEBAR):  # the sidebar first, as a browser writes it
        pdf.drawString(40, 760 - 14 * row, text)
    for row, text in enumerate([*BODY, "Email to add: aoife@tailspintoys.example"]):
        pdf.drawString(240, 760 - 14 * row, text)
    pdf.save()

    [page] = load_pages(buffer.getvalue(), limits=Limits())
    fields = extract_fields([page])

    assert fields.account_name is not None
    assert fields.account_name.value == "tailspin-toys"
