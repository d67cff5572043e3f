"""Where a letter's signature belongs: the band between the closing ("Sincerely,") and
the typed name under it, and the ink round it where seals the band cuts are looked
for (issue 14)."""

from __future__ import annotations

import numpy as np

from keyholder.letters.broken_strokes import join_broken
from keyholder.letters.document import Box, Line, Page
from keyholder.letters.found import LetterFields
from keyholder.letters.ink import darkness, ink_mask
from keyholder.letters.printed_words import mask_printed_words
from keyholder.letters.seals import Surroundings

# A band less than this many line heights high takes in the closing and the name.
THIN_BAND = 2.0
# Seals the band cuts are looked for in its rows and SEAL_SEARCH line heights above
# and below, out to the page's right edge: there fpdf's seals on synthetic bands
# showed enough of their ring to be found (seeds 782, 783, 788 and 789: all ten
# looked at), and a felt tip's loops that the band's rows alone took for a ring
# inked all round did not (782, band 125).
SEAL_SEARCH = 2
# With no closing read, the band reaches up over the lines between the body and the
# typed name, at most this many line heights; with no typed name read, down to a
# title at most this many under the closing.
BLOCK_REACH = 12


def band_line_height(page: Page) -> int:
    """The median height of the page's words of letters: the unit the band's marks
    are measured in."""
    heights = [w.box.height for line in page.lines for w in line.words if w.text.isalpha()]
    return int(np.median(heights)) if heights else max(20, page.height // 80)


def signature_band(page: Page, fields: LetterFields, line_height: int) -> Box:
    """Between the closing and the typed name, from two line heights left of them
    across 60% of the page; five line heights high where one of them is missing,
    or with no closing read, from the top of the lines above the name when higher."""
    closing, name = fields.closing, fields.name_line
    if name is not None and closing is not None and name.box.page != closing.box.page:
        name = None  # the name went onto the next page: use a fixed-height band
    top = closing.box.bottom + line_height // 4 if closing else None
    bottom = name.box.y - line_height // 6 if name else None
    if top is None:
        assert name is not None
        assert bottom is not None
        top = max(0, min(bottom - 5 * line_height, _block_top(fields, name, line_height)))
    if bottom is None or bottom - top < line_height:
        bottom = min(page.height, top + 5 * line_height)
    elif closing is not None and name is not None and bottom - top < THIN_BAND * line_height:
        # Closing and name close together: the signature's strokes reach into their
        # lines, so those rows are taken in too (their printed words are blanked).
        top, bottom = closing.box.y, name.box.bottom
    anchors = [line.box.x for line in (closing, name) if line is not None]
    left = max(0, min(anchors) - 2 * line_height)
    right = min(page.width, left + int(page.width * 0.6))
    return Box(page.number, left, top, right - left, bottom - top)


def down_to_the_title(band: Box, fields: LetterFields, line_height: int) -> Box | None:
    """With no typed name read, the band taken down to the top of the title read
    under the closing, at most BLOCK_REACH line heights under it; None when there is
    no such title or it is no lower. A signature across the typed name can hide the
    name from OCR, and its strokes lie lower than five line heights under the
    closing (fpdf 5701 letter 14, scan: a flourish over the name, "unclear")."""
    closing, title = fields.closing, fields.executive_title
    if closing is None or title is None or title.box is None or fields.name_line is not None:
        return None
    below = title.box.y - closing.box.bottom
    if title.box.page != band.page or not 0 < below <= BLOCK_REACH * line_height:
        return None
    bottom = title.box.y - line_height // 6
    return (
        Box(band.page, band.x, band.y, band.width, bottom - band.y)
        if bottom > band.bottom
        else None
    )


def _block_top(fields: LetterFields, name: Line, line_height: int) -> int:
    """With no closing read, the top of what lies between the body and the typed
    name: a closing read together with the signature over it, and the lines the
    signature's strokes were read as. The signature starts there, often higher than
    five line heights over the name (issue 14: whole fpdf letters signed over the
    closing were "unclear", the band holding only the signature's foot)."""
    above = [
        line.box.y
        for line in (fields.inked_closing, *fields.signature_lines)
        if line is not None and line.box.page == name.box.page and line.box.y < name.box.y
    ]
    return max(min(above, default=name.box.y), name.box.y - BLOCK_REACH * line_height)


def surroundings(
    page: Page, band: Box, line_height: int, fields: LetterFields, *, every_word: bool
) -> Surroundings:
    """The ink round the band, where the seals it cuts are looked for: its rows and
    SEAL_SEARCH line heights above and below, out to the page's right edge, printed
    words blanked."""
    top = max(0, band.y - SEAL_SEARCH * line_height)
    bottom = min(page.height, band.bottom + SEAL_SEARCH * line_height)
    around = Box(band.page, band.x, top, page.width - band.x, bottom - top)
    dark = darkness(page.image[around.y : around.bottom, around.x : around.right])
    ink = ink_mask(dark)
    mask_printed_words(page, around, [ink], fields, every_word=every_word, line_height=line_height)
    return Surroundings(join_broken(ink, dark, line_height), band.y - top)
