"""Where the signature belongs: the band between the closing and the typed name."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from keyholder.letters.band import down_to_the_title, signature_band
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
# It is measured again down to the title; not without a title, or with one too far
# under the closing to be the block's, or with the name read.
@pytest.mark.parametrize(
    ("title_y", "name_read", "bottom"),
    [(1300, False, 1300 - LINE_HEIGHT // 6), (None, False, None), (1400, False, None),
     (1300, True, None)],
)  # fmt: skip
def test_with_no_typed_name_read_the_band_is_taken_down_to_the_title(
    title_y: int | None, name_read: bool, bottom: int | None
) -> None:
    closing = _line("Regards,", 1000)
    title = _line("Managing Director", title_y) if title_y is not None else None
    fields = LetterFields(
        closing=closing,
        name_line=_line("Ibrahim Hargreaves", 1250) if name_read else None,
        executive_title=Found(title.text, title.text, title.box) if title else None,
    )
    band = signature_band(_page(), replace(fields, name_line=None), LINE_HEIGHT)

    lower = down_to_the_title(band, fields, LINE_HEIGHT)

    assert band.bottom == closing.box.bottom + LINE_HEIGHT // 4 + 5 * LINE_HEIGHT
    reaches = None if lower is None else (lower.y, lower.bottom)
    assert reaches == (None if bottom is None else (band.y, bottom))
