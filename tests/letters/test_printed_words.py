"""Which words OCR read in the signature band are print, blanked before the ink is measured."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyholder.letters.printed_words import PRINTED_WORD


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
