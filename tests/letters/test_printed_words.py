"""Which words OCR read in the signature band are print, blanked before the ink is measured."""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyholder.letters.document import Box, Line, Word
from keyholder.letters.found import LetterFields
from keyholder.letters.printed_words import PRINTED_WORD, mask_printed_words
from tests.letters import generated
from tests.letters.conftest import needs_tesseract
from tests.letters.test_fields import page_of


# A typed name with a hyphen or a capital inside was left in the band as ink
# (stop 33: "Whitmore-Price", joined to a stamp's frame, scored as a pen's strokes).
@pytest.mark.parametrize(
    "word",
    ["Sincerely,", "Signature:", "regards", "Whitmore-Price", "Mei-Ling", "O'Brien",
     "McDonald", "/s/", "2026"],
)  # fmt: skip
def test_print_is_a_printed_word(word: str) -> None:
    assert PRINTED_WORD.match(word)


# Tesseract reads a scribble as short capitals or punctuation: it stays ink.
@given(st.text(alphabet=string.ascii_uppercase + "~-_.,'|!()", min_size=1, max_size=10))
def test_capitals_and_punctuation_are_not_printed_words(word: str) -> None:
    assert not PRINTED_WORD.match(word)


# The closing's word read in pieces, the signature's loops over its first letters
# ("rely," of "Sincerely,"; "With" of "With kind regards,"): the closing, not typed
# text where the signature belongs. A typed name in the band still is.
@pytest.mark.parametrize(
    ("word", "typed"), [("rely,", []), ("With", []), ("Whitfield", ["Whitfield"])]
)
def test_a_piece_of_the_closing_is_not_typed_text(word: str, typed: list[str]) -> None:
    page = page_of("Reason: our only administrator left.", word, "Dana Whitfield", "CEO")
    band = Box(1, 50, 130, 600, 45)  # round the second line
    ink = np.ones((band.height, band.width), np.uint8)

    found = mask_printed_words(page, band, [ink], LetterFields(), every_word=False, line_height=24)

    assert found == typed


# A line of print in brackets where the signature belongs: its first and last
# words, "(original" and "file)", were no printed words, stayed as ink, and scored
# as a pen's stroke: a false alarm (fpdf 5501 letter 39).
def test_words_in_brackets_are_printed_words() -> None:
    page = page_of("Sincerely,", "(original signed and held on file)", "Laura Adeyemi")
    band = Box(1, 50, 130, 600, 45)  # round the second line
    ink = np.ones((band.height, band.width), np.uint8)

    typed = mask_printed_words(page, band, [ink], LetterFields(), every_word=False, line_height=24)

    assert typed == ["(original", "signed", "and", "held", "on", "file)"]


# Initials read as a word ("J. A." as "fd" at 81%, a box four line heights tall):
# a pen's ink, not print; blanked, they had left the band empty and a signed
# letter was told "no ink" (fpdf seed 5401 letter 23, scanned).
def test_a_word_taller_than_print_is_not_blanked() -> None:
    page = page_of("Yours faithfully,", "", "", "", "Jonas Adeyemi")
    initials = Line((Word("fd", Box(1, 300, 145, 120, 100), 81.0),))
    page.lines.insert(1, initials)
    band = Box(1, 50, 135, 600, 120)
    ink = np.ones((band.height, band.width), np.uint8)

    typed = mask_printed_words(page, band, [ink], LetterFields(), every_word=False, line_height=24)

    assert typed == []
    assert ink.all()


@needs_tesseract
@pytest.mark.parametrize("condition", ["scan", "photo"])
def test_initials_read_as_a_word_are_never_told_no_ink(condition: str) -> None:
    report = generated.screen("fpdf", 5401, 23, condition)

    assert report.json["signature"]["level"] != "no handwriting"
