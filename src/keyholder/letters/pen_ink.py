"""The typed name read again with the pen's coloured ink taken off the page.

A signature written over the typed name is read into it ("Yuki Adeyoti YN" for
"Yuki Adeyemi") or makes Tesseract skip the line (issue 14, fpdf letters at stop
30). Print is black or grey; a pen is mostly blue, violet or another colour: where
the ink is coloured, the block under the closing is read once more from a picture
without it, and that reading is kept when it reads the block better: the name
more surely or further, or a title or address the ink had hidden (see
``_reads_better``). A name read surely is read again too where coloured ink crosses
its row, since the ink can cut it short ("Laura Whitmo", stop 40).
Black ink over black print cannot be told apart this way, and is left as read.
"""

from __future__ import annotations

import numpy as np

from keyholder.letters.clean import ocr_ready
from keyholder.letters.document import Box, Image, Line, Page, TextSource
from keyholder.letters.fields import LetterFields, extract_fields
from keyholder.letters.name_row import NAME_SURE, name_doubtful, name_sureness
from keyholder.letters.ocr import BAND_CONFIG, read_region
from keyholder.letters.signature_block import typical_height

# Colour that marks a pen's ink: the spread between the strongest and the weakest
# channel once the paper is made white (print, even a photo's, stays under ~25;
# blue ballpoint over 60, fpdf and the development corpora's inks alike).
PEN_CHROMA = 40
# At least this many coloured pixels (in line heights squared) in the block, or
# there is no coloured pen to take off.
PEN_INK_AREA = 0.5
# The block read again: from the closing (or this many line heights above the name)
# down to this many line heights under the name.
ABOVE_NAME, UNDER_NAME = 3, 5
# With no name read, from the closing down this many line heights.
UNDER_CLOSING = 12
# Coloured pixels in the typed name's row (line heights squared) that make it
# doubtful however surely it was read: about a third of a line's square of stroke.
PEN_ROW_AREA = 0.3
OCR_TIMEOUT_SECONDS = 30


def without_pen(image: Image) -> Image:
    """The page with coloured ink made paper: black and grey print stays."""
    pixels = image.astype(np.float32)
    paper = np.percentile(pixels.reshape(-1, 3), 90, axis=0)
    balanced = np.clip(pixels / np.maximum(paper, 1.0) * 255.0, 0, 255)
    chroma = balanced.max(axis=2) - balanced.min(axis=2)
    out = image.copy()
    out[chroma >= PEN_CHROMA] = 255
    return out


def read_name_without_pen(pages: list[Page], fields: LetterFields) -> LetterFields:
    """The fields, with the block under the closing read again without the pen's
    coloured ink where the typed name is doubtful or the ink crosses it; the old
    reading unless the new one reads better (``_reads_better``)."""
    anchor = fields.closing or fields.name_line
    if anchor is None:
        return fields
    doubtful = _name_doubtful(pages, fields)
    page = pages[anchor.box.page - 1]
    if page.text_source is not TextSource.OCR or not (doubtful or _pen_across(pages, fields)):
        return fields
    height = round(typical_height(page.lines).get(page.number, anchor.box.height))
    region = _block(page, fields, height)
    crop = page.image[region.y : region.bottom, region.x : region.right]
    if _coloured_pixels(crop) < PEN_INK_AREA * height**2:
        return fields
    grey = np.full(page.image.shape[:2], 255, dtype=np.uint8)
    grey[region.y : region.bottom, region.x : region.right] = ocr_ready(without_pen(crop))
    lines = read_region(grey, region, config=BAND_CONFIG, timeout=OCR_TIMEOUT_SECONDS)
    if not lines:
        return fields
    before = page.lines
    page.lines = [
        *(line for line in before if not _centre_inside(line, region)),
        *lines,
    ]
    page.lines.sort(key=lambda line: (line.box.y, line.box.x))
    again = extract_fields(pages)
    if _reads_better(fields, again, doubtful=doubtful, height=height):
        return again
    page.lines = before
    return fields


def _reads_better(
    before: LetterFields, after: LetterFields, *, doubtful: bool, height: int
) -> bool:
    """A doubtful name: ``after`` reads it more surely, or finds a title ``before``
    lacked, or reads the name on, and loses no item. A name read surely: read on,
    or read the same with a title or an address found that the pen had hidden, and
    nothing else read worse, since taking the pen off also takes bits of the print
    it crosses ("Managing Director" read "M ing Di" under a reportlab photo's
    signature)."""
    if not doubtful:
        same_name = (
            before.executive_name is not None
            and after.executive_name is not None
            and (_letters(before.executive_name.value) == _letters(after.executive_name.value))
        )
        found = any(
            getattr(before, item) is None and getattr(after, item) is not None
            for item in ("executive_title", "executive_email")
        )
        return (_read_further(before, after) or (same_name and found)) and not _worse(before, after)
    surer = name_sureness(after.name_line, height) > name_sureness(before.name_line, height)
    lost = any(
        getattr(before, item) is not None and getattr(after, item) is None
        for item in ("executive_name", "executive_title", "executive_email")
    )
    gained = (
        before.executive_title is None and after.executive_title is not None
    ) or _read_further(before, after)
    # A name's row read more surely names no one when no name was taken from it
    # (``signature_block.unread_name_from_below``).
    return (surer or gained) and after.executive_name is not None and not lost


def _name_doubtful(pages: list[Page], fields: LetterFields) -> bool:
    line = fields.name_line
    # With no title under it, the "name" may be the company's line under a title
    # and a name that the pen's ink hid (issue 14, fpdf letters at stop 38).
    if fields.executive_name is None or line is None or fields.executive_title is None:
        return True
    return name_doubtful(pages[line.box.page - 1], line)


def _pen_across(pages: list[Page], fields: LetterFields) -> bool:
    """The pen's coloured ink runs through the typed name's row: the name may be
    cut where it does, and still read surely ("Laura Whitmo" at 90% for "Laura
    Whitmore-Price", issue 14, fpdf 5201 letter 22)."""
    line = fields.name_line
    if line is None:
        return False
    page = pages[line.box.page - 1]
    height = typical_height(page.lines).get(page.number, float(line.box.height))
    row = page.image[line.box.y : line.box.bottom, :]
    return _coloured_pixels(row) >= PEN_ROW_AREA * height**2


def _worse(before: LetterFields, after: LetterFields) -> bool:
    """An item of the block that ``after`` lost or reads otherwise than as
    ``before`` did, letter for letter, other than the same and more ("l.schaefer@"
    or "i.schaefer@" for "|.schaefer@")."""
    for item in ("executive_title", "executive_email"):
        old, new = getattr(before, item), getattr(after, item)
        if old is None:
            continue
        if new is None or not _letters(new.value).endswith(_letters(old.value)):
            return True
    return False


def _read_further(before: LetterFields, after: LetterFields) -> bool:
    """``after`` reads the name on as ``before`` read it, and more, its words all
    surely: "Laura Whitmore-Price" where the pen's ink left "Laura Whitmo"."""
    old, new = before.executive_name, after.executive_name
    if old is None or new is None or after.name_line is None:
        return False
    old_letters, new_letters = _letters(old.value), _letters(new.value)
    return (
        len(new_letters) > len(old_letters)
        and new_letters.startswith(old_letters)
        and all(w.confidence >= NAME_SURE for w in after.name_line.words if _letters(w.text))
    )


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def _block(page: Page, fields: LetterFields, height: int) -> Box:
    name, closing = fields.name_line, fields.closing
    if closing is not None and closing.box.page == page.number:
        top = closing.box.bottom + 1
    else:
        assert name is not None
        top = max(0, name.box.y - ABOVE_NAME * height)
    if name is not None and name.box.page == page.number:
        bottom = name.box.bottom + UNDER_NAME * height
    else:
        # No name read: the signature over it can be as tall as the band (issue 14:
        # a felt-tip signature with the name seven line heights under the closing).
        assert closing is not None
        bottom = closing.box.bottom + UNDER_CLOSING * height
    bottom = min(page.height, bottom)
    return Box(page.number, 0, top, page.width, max(1, bottom - top))


def _coloured_pixels(crop: Image) -> int:
    if crop.size == 0:
        return 0
    return int(np.count_nonzero(np.any(without_pen(crop) != crop, axis=2)))


def _centre_inside(line: Line, region: Box) -> bool:
    middle = line.box.y + line.box.height / 2
    return region.y <= middle <= region.bottom
