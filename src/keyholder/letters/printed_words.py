"""Printed words in and about the signature band: blanked before the ink is
measured, and the typed name read back out of ink set in a script font."""

from __future__ import annotations

import re

import cv2
import numpy as np
from rapidfuzz import fuzz

from keyholder.letters.document import Box, Page, TextSource
from keyholder.letters.found import LetterFields
from keyholder.letters.ocr import OcrUnavailable, read_region
from keyholder.letters.signature_block import CLOSING_WORDS

# Printed words as OCR reads them: lower or Title Case ("Signature:" ending a
# label), names with capitals inside and two lower-case letters or more
# ("Whitmore-Price", "O'Brien", "McDonald"), "/s/", or a number. Scribbles come
# out as short capitals ("WAN") or punctuation, so they stay. (A hyphenated typed
# name was left in the band, joined to a stamp's frame, and scored as a pen's
# strokes: stop 33.)
PRINTED_WORD = re.compile(
    r"^(?:[A-Z]?[a-z][a-z'.,-]+:?"
    r"|(?=(?:.*[a-z]){2})(?:[A-Z]'?)?(?:[a-z][a-z'.,-]*)?(?:[A-Z][a-z'.,-]*)+"
    r"|[/|]s[/|]|[0-9][0-9.,/-]*)$"
)
PRINTED_CONFIDENCE = 80.0
# ... read inside brackets or quotes: "(original signed and held on file)" in the
# band, its first and last words left as ink, scored as a pen's stroke (fpdf 5501
# letter 39).
BRACKETS = "()[]{}\"'\u201c\u201d\u2018\u2019"
# No printed word in a signature band is taller than this (line heights): a word's
# box with ascenders and descenders is about 1.25, a larger type's under 2.
PRINT_HEIGHT = 2.5
# Letters of a closing's word read alone that say it is the closing's (``_closing_piece``).
CLOSING_PIECE = 4
# A word read in the signature's ink this similar to a word of the typed name
# (rapidfuzz ratio, 0-100; one letter wrong in five is 80) means the "signature"
# is lettering, not a pen's strokes.
NAME_LIKE = 80.0
# The signature's ink is read once more, as one word (psm 8). A second reading as a
# line (psm 7) was dropped at stop 40: it costs a Tesseract run (about 0.1 s) on
# every handwritten signature, and on 84 script-font names in the tests' corpus
# letters (60 of its short names, 24 long ones such as "Alexandra Papadopoulou";
# clean, scan and photo) it was needed once and read nothing like the name then.
SIGNATURE_READING = "--oem 1 --psm 8 -c tessedit_do_invert=0"


def mask_printed_words(
    page: Page,
    band: Box,
    masks: list[np.ndarray],
    fields: LetterFields,
    *,
    every_word: bool,
    line_height: int,
) -> list[str]:
    """Blank the printed words in the band; return those that are not the closing or name.
    With ``every_word``, every word OCR read with confidence is printed, whatever its
    shape (under the typed name: an email address, "(UK)", "Co-Founder"), and so is
    every item read there, however unsure the reading (an email address at 59%).
    A "word" read taller than PRINT_HEIGHT line heights is a pen's, however surely
    read: initials "J. A." read "fd" at 81%, blanked, left the band empty and the
    signed letter was told "no ink" (issue 14, fpdf seed 5401 letter 23)."""
    skip = {
        id(line)
        for line in (fields.closing, fields.inked_closing, fields.name_line)
        if line is not None
    }
    typed: list[str] = []
    if every_word:
        for found in fields.items().values():
            if found is not None and found.box is not None and overlaps(found.box, band):
                _blank(masks, found.box, band)
    for line in page.lines:
        for word in line.words:
            if not overlaps(word.box, band):
                continue
            trusted = page.text_source is TextSource.TEXT_LAYER or (
                word.confidence >= PRINTED_CONFIDENCE
                and (every_word or PRINTED_WORD.match(word.text.strip(BRACKETS)))
                and word.box.height <= PRINT_HEIGHT * line_height
            )
            if not trusted:
                continue
            _blank(masks, word.box, band)
            if id(line) not in skip and _inside(word.box, band) and not _closing_piece(word.text):
                typed.append(word.text)
    return typed


def _closing_piece(text: str) -> bool:
    """Part of a closing's word ("rely," of "Sincerely," whose first letters the
    signature's loops ran into): the closing, not typed text in the signature's
    place."""
    letters = _letters(text)
    return len(letters) >= CLOSING_PIECE and any(letters in words for words in CLOSING_WORDS)


def _blank(masks: list[np.ndarray], box: Box, band: Box) -> None:
    x0, y0 = max(0, box.x - band.x - 2), max(0, box.y - band.y - 2)
    x1, y1 = box.right - band.x + 2, box.bottom - band.y + 2
    for mask in masks:
        mask[y0:y1, x0:x1] = 0


def reads_as_the_name(
    page: Page, ink_box: Box, fields: LetterFields, line_height: int
) -> str | None:
    """What OCR reads in the signature's ink, when that is a word of the typed name.

    Tesseract reads a script font's letters (the name set in a cursive font)
    but makes little of a pen's strokes. On the benchmark's letters (four
    development and three held-out seeds, about 1,700 handwritten signatures)
    one scribble read as 75% like a word of the name ("WINS" for "Ines"), none
    as 80%.
    """
    if fields.name_line is None:
        return None
    name_words = [_letters(w) for w in fields.name_line.text.split() if len(_letters(w)) >= 3]
    pad = line_height // 2
    region = Box(
        ink_box.page, ink_box.x - 2 * pad, ink_box.y - pad,
        ink_box.width + 4 * pad, ink_box.height + 2 * pad,
    )  # fmt: skip
    grey = np.asarray(cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    read = [w.text for line in page.lines for w in line.words if overlaps(w.box, ink_box)]
    if read and _like_the_name(read, name_words):
        return " ".join(read)
    try:
        lines = read_region(grey, region, config=SIGNATURE_READING, timeout=10)
    except OcrUnavailable:
        return None
    read = [w.text for line in lines for w in line.words]
    return " ".join(read) if _like_the_name(read, name_words) else None


def _like_the_name(words: list[str], name_words: list[str]) -> bool:
    return any(
        len(_letters(word)) >= 4 and fuzz.ratio(_letters(word), name) >= NAME_LIKE
        for word in words
        for name in name_words
    )


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def overlaps(a: Box, b: Box) -> bool:
    return (
        a.page == b.page and a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom
    )


def _inside(a: Box, b: Box) -> bool:
    middle_y = a.y + a.height / 2
    return b.y <= middle_y <= b.bottom
