"""Where the signature belongs: the band between the closing and the typed name."""

from __future__ import annotations

import numpy as np
import pytest

from keyholder.letters.band import signature_band
from keyholder.letters.document import Box, Line, Page, TextSource, Word
from keyholder.letters.found import Found, LetterFields

LINE_HEIGHT = 24


def _line(text: str, y: int) -> Line:
    return Line((Word(text, Box(1, 150, y, 12 * len(text), LINE_HEIGHT), 95.0),))


def _page() -> Page:
    return Page(1, np.full((2000, 1600, 3), 255, np.uint8), "image", TextSource.OCR)


# A signature across the typed name hides the name from OCR; the title under it is
# still read. The band stopped five line heights under the closing, above the
# strokes, and the signed letter was "unclear" (stop 45, fpdf 5701 letter 14, scan).
# It now reaches down to the title; without a title, or with one too far under the
# closing to be the block's, it keeps its five line heights.
@pytest.mark.parametrize(
    ("title_y", "bottom"),
    [
        (1300, 1300 - LINE_HEIGHT // 6),
        (None, 1030 + 5 * LINE_HEIGHT),
        (1400, 1030 + 5 * LINE_HEIGHT),
    ],
)
def test_with_no_typed_name_read_the_band_reaches_the_title(
    title_y: int | None, bottom: int
) -> None:
    closing = _line("Regards,", 1000)
    title = _line("Managing Director", title_y) if title_y is not None else None
    fields = LetterFields(
        closing=closing,
        executive_title=Found(title.text, title.text, title.box) if title else None,
    )

    band = signature_band(_page(), fields, LINE_HEIGHT)

    assert band.y == closing.box.bottom + LINE_HEIGHT // 4
    assert band.bottom == bottom
